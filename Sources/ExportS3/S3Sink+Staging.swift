import ExportCore
public import ExportSinks
public import NIOCore

/// Staging on S3: a move is a server-side copy (`x-amz-copy-source`; a multipart UploadPartCopy
/// for objects over 5 GiB), then a DeleteObject of the source; the bytes never leave S3. Removing
/// a folder lists its keys (ListObjectsV2) and deletes them one by one.
extension S3Sink: StagingSink {
    public func read(named relativeKey: String, maxBytes: Int) async throws -> ByteBuffer? {
        let key = location.key(for: relativeKey)
        let bytes: ByteBuffer?
        do {
            // Room for an error document too (a 404's body), whatever `maxBytes` is.
            bytes = try await client.getObject(key: key, maxBytes: max(maxBytes, 1 << 16))
        } catch {
            throw Self.exportError(error)
        }
        if let bytes, bytes.readableBytes > maxBytes {
            throw ExportError.sink("s3://\(location.bucket)/\(key) is larger than \(maxBytes) bytes")
        }
        return bytes
    }

    public func move(from source: String, to destination: String, byteCount: Int) async throws {
        try await move(from: source, to: destination, byteCount: byteCount, multipartAbove: S3Client.maxSingleCopyBytes)
    }

    /// ``move(from:to:byteCount:)`` with the single-copy limit as a parameter (tests lower it to
    /// exercise the multipart copy). Parts of a multipart copy are `max(512 MiB, size/10,000)`
    /// bytes, or `multipartAbove` when that is smaller.
    func move(from source: String, to destination: String, byteCount: Int, multipartAbove limit: Int) async throws {
        let from = location.key(for: source)
        let to = location.key(for: destination)
        do {
            if byteCount > limit {
                let partSize = min(limit, max(512 << 20, (byteCount + 9_999) / 10_000))
                try await client.multipartCopy(
                    from: from,
                    to: to,
                    byteCount: byteCount,
                    partSize: partSize,
                    maxInFlight: configuration.maxPartsInFlight,
                    headers: stagingEncryptionHeaders
                )
            } else {
                try await client.copyObject(from: from, to: to, headers: stagingEncryptionHeaders)
            }
            _ = try await client.send("DeleteObject", method: .DELETE, key: from, accept: [404])
        } catch {
            throw Self.exportError(error)
        }
    }

    public func removeAll(under prefix: String) async throws {
        do {
            for key in try await client.listKeys(prefix: location.key(for: prefix)) {
                _ = try await client.send("DeleteObject", method: .DELETE, key: key, accept: [404])
            }
        } catch {
            throw Self.exportError(error)
        }
    }

    /// The lock of a folder is the destination lock of a sink at that folder (same client):
    /// the `<prefix>_LOCK` object, created with `If-None-Match: *`; one left by a dead process of
    /// this host is taken over.
    public func withExclusiveLock<R>(
        under prefix: String,
        holder: String,
        _ body: () async throws -> R
    ) async throws
        -> R
    {
        var folderPrefix = Substring(prefix)
        while folderPrefix.hasSuffix("/") { folderPrefix = folderPrefix.dropLast() }
        let folder = S3Sink(
            location: try S3Location(bucket: location.bucket, prefix: location.key(for: String(folderPrefix))),
            configuration: configuration,
            client: client
        )
        return try await folder.withExclusiveLock(holder: holder, body)
    }

    private var stagingEncryptionHeaders: [(name: String, value: String)] {
        guard let kmsKeyId = configuration.kmsKeyId else { return [] }
        return [
            ("x-amz-server-side-encryption", "aws:kms"), ("x-amz-server-side-encryption-aws-kms-key-id", kmsKeyId),
        ]
    }
}
