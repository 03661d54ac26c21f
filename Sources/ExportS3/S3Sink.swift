public import AsyncHTTPClient
public import ExportCore
public import ExportSinks
public import NIOCore
import NIOHTTP1

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``PartSink`` that writes to an S3 prefix (AWS or an S3-compatible server).
///
/// Guarantees:
/// - a part appears under its key only when complete: a part up to ``S3Configuration/partSize``
///   bytes is one PutObject sent when the body returns; a larger one is a multipart upload that is
///   completed after the body returns and aborted (AbortMultipartUpload) if the body throws, an
///   upload fails, or the task is cancelled, so no object and no open upload remain;
/// - while the body writes, full parts upload concurrently, at most
///   ``S3Configuration/maxPartsInFlight`` at a time; a `write` that would exceed that waits
///   (memory stays bounded by `partSize × (maxPartsInFlight + 1)`);
/// - transient failures (5xx, 429/SlowDown, connection errors) are retried with exponential
///   backoff and jitter (``S3RetryPolicy``); others fail at once;
/// - errors are ``ExportError`` with code `.sink`, naming the operation, the `s3://` key, the HTTP
///   status and S3's error Code and Message; never a secret or a signature.
///
/// Lifecycle: the sink uses the `HTTPClient` it is given and does not own it. The default, a
/// process-wide client with the configuration's connect and stall timeouts, lives for the whole
/// process and needs no shutdown; a client you pass in must outlive the sink's work, and you
/// shut it down yourself afterwards (its own timeouts then apply).
public final class S3Sink: PartSink {
    public let location: S3Location
    public let configuration: S3Configuration
    let client: S3Client

    public init(
        location: S3Location,
        configuration: S3Configuration,
        httpClient: HTTPClient? = nil
    ) throws(ExportError) {
        try configuration.validate()
        self.location = location
        self.configuration = configuration
        self.client = S3Client(
            configuration: configuration,
            bucket: location.bucket,
            httpClient: httpClient ?? S3HTTPClients.client(for: configuration)
        )
    }

    /// A sink at another location that shares `client` (a folder of this sink's destination).
    init(location: S3Location, configuration: S3Configuration, client: S3Client) {
        self.location = location
        self.configuration = configuration
        self.client = client
    }

    public var destinationDescription: String { location.description }

    /// Streams one part into S3: buffers up to one part size, then uploads parts concurrently.
    public struct Writer: PartWriter {
        let queue: PartUploadQueue
        let client: S3Client
        let key: String
        let partSize: Int
        let createHeaders: [(name: String, value: String)]
        var buffer = ByteBuffer()
        var nextPartNumber = 1
        public private(set) var bytesWritten = 0

        /// Copies `chunk` into the current part buffer; when that is full and more bytes come,
        /// hands it to the uploads (creating the multipart upload first), waiting while all
        /// upload slots are busy.
        public mutating func write(_ chunk: ByteBuffer) async throws {
            try Task.checkCancellation()
            var chunk = chunk
            bytesWritten += chunk.readableBytes
            while chunk.readableBytes > 0 {
                let room = partSize - buffer.readableBytes
                if room == 0 {
                    try await handOffFullPart()
                    continue
                }
                var slice = chunk.readSlice(length: min(room, chunk.readableBytes))!
                buffer.writeBuffer(&slice)
            }
        }

        private mutating func handOffFullPart() async throws {
            if queue.uploadId == nil {
                queue.uploadId = try await client.createMultipartUpload(key: key, headers: createHeaders)
            }
            guard nextPartNumber < 10_000 else {
                throw ExportError.sink(
                    "S3 part file s3://\(client.bucket)/\(key) needs more than 10,000 parts of \(partSize) bytes: "
                        + "raise the S3 part size"
                )
            }
            let full = buffer
            buffer = ByteBuffer()
            buffer.reserveCapacity(partSize)
            try await queue.push(full, number: nextPartNumber)
            nextPartNumber += 1
        }

        mutating func takeTail() -> ByteBuffer {
            defer { buffer = ByteBuffer() }
            return buffer
        }
    }

    public func withPart<R>(named relativeKey: String, _ body: (inout Writer) async throws -> R) async throws -> R {
        let key = location.key(for: relativeKey)
        let queue = PartUploadQueue(maxInFlight: configuration.maxPartsInFlight)
        let client = self.client
        return try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { try await client.uploadParts(from: queue, key: key) }
            var writer = Writer(
                queue: queue,
                client: client,
                key: key,
                partSize: configuration.partSize,
                createHeaders: encryptionHeaders
            )
            do {
                let result = try await body(&writer)
                let tail = writer.takeTail()
                if queue.uploadId == nil {
                    queue.close()
                    try await group.waitForAll()
                    try await client.putObject(key: key, body: tail, headers: encryptionHeaders)
                    return result
                }
                try await queue.push(tail, number: writer.nextPartNumber)
                queue.close()
                try await group.waitForAll()
                try await client.completeMultipartUpload(
                    key: key,
                    uploadId: queue.uploadId!,
                    parts: queue.uploadedParts
                )
                return result
            } catch {
                queue.fail(error)
                group.cancelAll()
                while !group.isEmpty { _ = try? await group.next() }
                var reported = Self.exportError(error)
                if let uploadId = queue.uploadId,
                    let abortFailure = await client.abortMultipartUpload(key: key, uploadId: uploadId),
                    var exportError = reported as? ExportError
                {
                    exportError.message +=
                        "; AbortMultipartUpload failed too (\(abortFailure)); upload id \(uploadId) remains"
                    reported = exportError
                }
                throw reported
            }
        }
    }

    public func put(_ bytes: ByteBuffer, named relativeKey: String) async throws {
        do {
            try await client.putObject(key: location.key(for: relativeKey), body: bytes, headers: encryptionHeaders)
        } catch {
            throw Self.exportError(error)
        }
    }

    public func remove(named relativeKey: String) async throws {
        do {
            _ = try await client.send(
                "DeleteObject",
                method: .DELETE,
                key: location.key(for: relativeKey),
                accept: [404]
            )
        } catch {
            throw Self.exportError(error)
        }
    }

    public func exists(named relativeKey: String) async throws -> Bool {
        do {
            let response = try await client.send(
                "HeadObject",
                method: .HEAD,
                key: location.key(for: relativeKey),
                accept: [404]
            )
            return response.status != 404
        } catch {
            throw Self.exportError(error)
        }
    }

    /// ListObjectsV2 under the destination's prefix; keys come back relative to it. Open
    /// multipart uploads are not objects and are not listed.
    public func list(prefix relativePrefix: String) async throws -> [String] {
        let full = location.key(for: relativePrefix)
        let base = location.prefix.isEmpty ? "" : location.prefix + "/"
        do {
            return try await client.listObjects(prefix: full).compactMap { key in
                key.hasPrefix(base) ? String(key.dropFirst(base.count)) : nil
            }
        } catch {
            throw Self.exportError(error)
        }
    }

    /// Creates the `_LOCK` object with `If-None-Match: *` (after a HeadObject, for stores that
    /// ignore the condition) and reads it back: the lock is this run's when the object holds this
    /// run's token, whatever the PUT answered (a retry after a lost answer gets 412 for the object
    /// its first attempt created). Removes it when `body` ends, also when the task is cancelled
    /// (a stopped job, `--timeout`, SIGTERM). When another run holds it, throws with that run's
    /// description. A `_LOCK` left by a killed run on another host must be removed by hand; the
    /// error says so.
    public func withExclusiveLock<R>(holder: String, _ body: () async throws -> R) async throws -> R {
        let key = location.key(for: destinationLockKey)
        let token = "\(holder) [token \(UInt64.random(in: 0...UInt64.max))]"
        func heldError() async -> ExportError {
            let current = (try? await client.getObject(key: key, maxBytes: 4096)).flatMap { $0 }.map {
                String(buffer: $0)
            }
            return ExportError.sink(
                "The destination '\(location.description)' is locked by another export"
                    + (current.map { ": \($0)" } ?? "")
                    + " (s3://\(location.bucket)/\(key)); wait for it to finish, or remove that object"
                    + " if no export is running"
            )
        }
        var putSent = false
        do {
            try await removeStaleLock(key: key)
            if try await exists(named: destinationLockKey) { throw await heldError() }
            // Created or refused (412), the stored token says whose the lock is.
            putSent = true
            _ = try await client.putObjectIfAbsent(key: key, body: ByteBuffer(string: token), headers: [])
            let stored = try await client.getObject(key: key, maxBytes: 4096).map { String(buffer: $0) }
            guard stored == token else { throw await heldError() }
        } catch {
            // Cancelled or failed once the PUT may have created the lock: it must not stay.
            if putSent { await removeLock(key: key, ifItHolds: token) }
            throw Self.exportError(error)
        }
        let result: R
        do {
            result = try await body()
        } catch {
            try? await unlock()
            throw error
        }
        try await unlock()
        return result
    }

    /// Removes `_LOCK` in a task of its own, which the caller's cancellation does not reach, so
    /// that a cancelled run does not leave its lock behind; once the caller is cancelled it gets
    /// ``cleanupGrace`` to finish (an endpoint that stopped answering must not hold up a stop).
    private func unlock() async throws {
        let sink = self
        try await Self.awaitCleanup(Task { try await sink.remove(named: destinationLockKey) })
    }

    /// Removes the lock object at `key` when it holds `token` (this run's), ignoring failures; as
    /// ``unlock()`` for a cancelled caller. For a run that stops while it takes the lock: another
    /// run's lock stays.
    private func removeLock(key: String, ifItHolds token: String) async {
        let sink = self
        let removal = Task {
            guard let body = try await sink.client.getObject(key: key, maxBytes: 4096), String(buffer: body) == token
            else { return }
            try await sink.remove(named: destinationLockKey)
        }
        try? await Self.awaitCleanup(removal)
    }

    /// How long a cleanup request may still run once the task that waits for it is cancelled.
    static let cleanupGrace: Duration = .seconds(2)

    /// The value of `cleanup`, a task the caller's cancellation does not reach; once the caller
    /// is cancelled, `cleanup` is cancelled too after ``cleanupGrace``.
    private static func awaitCleanup(_ cleanup: Task<Void, any Error>) async throws {
        try await withTaskCancellationHandler {
            try await cleanup.value
        } onCancel: {
            Task {
                try? await Task.sleep(for: cleanupGrace)
                cleanup.cancel()
            }
        }
    }

    /// Removes a `_LOCK` left by a process of this host that no longer runs (a run killed with
    /// SIGKILL): its holder text names `process <pid> on <host>`. A lock held by a live process, or
    /// by another host (whose processes cannot be checked from here), stays.
    private func removeStaleLock(key: String) async throws {
        guard let body = try await client.getObject(key: key, maxBytes: 4096) else { return }
        guard let owner = Self.lockOwner(String(buffer: body)), owner.host == TemporaryFiles.hostName,
            !TemporaryFiles.isProcessAlive(owner.pid)
        else { return }
        try await remove(named: destinationLockKey)
    }

    /// The `process <pid> on <host>,` of a lock's holder text.
    static func lockOwner(_ text: String) -> (pid: Int32, host: String)? {
        guard let start = text.firstRange(of: "process ") else { return nil }
        let rest = text[start.upperBound...]
        let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
        guard let pid = Int32(digits), rest.dropFirst(digits.count).hasPrefix(" on ") else { return nil }
        let host = rest.dropFirst(digits.count + 4).prefix(while: { $0 != "," && $0 != " " })
        return host.isEmpty ? nil : (pid, String(host))
    }

    /// Aborts the multipart uploads that runs of job `jobName` left open under this prefix when
    /// they were killed: those found by ListMultipartUploads whose file name is
    /// `<jobName>_<timestamp>…`, directly under the prefix or in one folder below it (the table
    /// folders). Returns the keys aborted. Another live run of the same job into the same prefix
    /// would lose its upload: runs of one job into one destination must not overlap.
    @discardableResult
    public func removeLeftovers(ofJob jobName: String) async throws -> [String] {
        let root = location.prefix.isEmpty ? "" : location.prefix + "/"
        let uploads: [(key: String, uploadId: String)]
        do {
            uploads = try await client.listMultipartUploads(prefix: root)
        } catch let failure as S3RequestFailure where failure.status == 403 {
            return []  // not allowed to list uploads (s3:ListBucketMultipartUploads): nothing to clean
        } catch {
            throw Self.exportError(error)
        }
        var aborted: [String] = []
        for upload in uploads where Self.isPartOfJob(upload.key.dropFirst(root.count), jobName: jobName) {
            if let failure = await client.abortMultipartUpload(key: upload.key, uploadId: upload.uploadId) {
                throw ExportError.sink("Cannot abort an earlier run's multipart upload: \(failure)")
            }
            aborted.append("s3://\(location.bucket)/\(upload.key)")
        }
        return aborted
    }

    /// Whether `relativeKey` (`name` or `folder/name`) names a file of job `jobName`: the name
    /// starts with `<jobName>_` and a digit (the timestamp), so job `A` never matches job `A_B`.
    static func isPartOfJob(_ relativeKey: Substring, jobName: String) -> Bool {
        let components = relativeKey.split(separator: "/", omittingEmptySubsequences: false)
        guard components.count <= 2, let name = components.last else { return false }
        let prefix = jobName + "_"
        guard name.hasPrefix(prefix), let next = name.dropFirst(prefix.count).first else { return false }
        return next.isASCII && next.isNumber
    }

    private var encryptionHeaders: [(name: String, value: String)] {
        guard let kmsKeyId = configuration.kmsKeyId else { return [] }
        return [
            ("x-amz-server-side-encryption", "aws:kms"), ("x-amz-server-side-encryption-aws-kms-key-id", kmsKeyId),
        ]
    }

    /// A failed S3 request as the ``ExportError`` this sink reports; any other error (the body's
    /// own, cancellation) passes through unchanged.
    static func exportError(_ error: any Error) -> any Error {
        (error as? S3RequestFailure)?.exportError ?? error
    }
}
