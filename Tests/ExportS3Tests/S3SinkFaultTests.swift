import ExportCore
import NIOCore
import Testing

@testable import ExportS3

/// S3Sink against a fake S3 server on 127.0.0.1 that injects 500s, 503 SlowDown and dropped
/// connections on chosen requests.
@Suite struct S3SinkFaultTests {
    static let mib = 1024 * 1024

    static func sink(
        _ server: FakeS3Server,
        partSize: Int = 5 * mib,
        inFlight: Int = 3,
        attempts: Int = 4
    ) throws -> S3Sink {
        let configuration = S3Configuration(
            region: "us-east-1",
            endpoint: try S3Endpoint(parsing: server.endpoint),
            credentials: S3Credentials(accessKeyId: "AKIDFAKE", secretAccessKey: "fake-secret-do-not-print"),
            partSize: partSize,
            maxPartsInFlight: inFlight,
            retry: S3RetryPolicy(
                maxAttempts: attempts,
                baseDelay: .milliseconds(1),
                throttleBaseDelay: .milliseconds(1),
                maxDelay: .milliseconds(5)
            )
        )
        return try S3Sink(location: try S3Location(parsing: "s3://bucket/out/"), configuration: configuration)
    }

    @Test func transientFailuresAreRetriedAndContentIsIdentical() async throws {
        let server = try await FakeS3Server { request, earlier in
            switch (request.method, request.query["partNumber"], earlier) {
            case ("PUT", "2", 0): .status(500, code: "InternalError")
            case ("PUT", "3", 0): .dropConnection
            case ("PUT", "4", 0), ("PUT", "4", 1): .status(503, code: "SlowDown")
            case ("POST", nil, 0) where request.query["uploadId"] != nil: .status(500, code: "InternalError")
            default: nil
            }
        }
        defer { Task { try? await server.shutdown() } }
        let data = testBytes(count: 22 * Self.mib + 123, seed: 7)
        let sink = try Self.sink(server)
        let written = try await sink.withPart(named: "forecasted-values/J_part0.csv") { writer in
            try await writer.write(data, chunkSize: 100_000)
            return writer.bytesWritten
        }
        #expect(written == data.count)
        #expect(server.objects["/bucket/out/forecasted-values/J_part0.csv"] == data)
        #expect(server.completedUploads.count == 1)
        #expect(server.abortedUploads.isEmpty)
        let partPuts = server.requests.filter { $0.method == "PUT" && $0.query["partNumber"] != nil }
        #expect(partPuts.count == 5 + 4)  // 5 parts; part 2 and 3 once more, part 4 twice more
        #expect(partPuts.allSatisfy { $0.query["uploadId"] == "upload-1/+=" })
    }

    @Test func persistentFailureAbortsAndReportsClearly() async throws {
        let server = try await FakeS3Server { request, _ in
            request.method == "PUT" && request.query["partNumber"] == "2" ? .status(500, code: "InternalError") : nil
        }
        defer { Task { try? await server.shutdown() } }
        let sink = try Self.sink(server, attempts: 3)
        let data = testBytes(count: 40 * Self.mib, seed: 8)
        let error = await #expect(throws: ExportError.self) {
            try await sink.withPart(named: "p.csv") { writer in try await writer.write(data) }
        }
        let message = error?.description ?? ""
        #expect(error?.code == .sink)
        #expect(message.contains("UploadPart 2") && message.contains("s3://bucket/out/p.csv"))
        #expect(message.contains("HTTP 500 InternalError") && message.contains("after 3 attempts"))
        #expect(!message.contains("fake-secret-do-not-print"))
        #expect(server.abortedUploads == ["upload-1/+="])
        #expect(server.openUploads.isEmpty)
        #expect(server.objects.isEmpty)
        #expect(server.requests.filter { $0.query["partNumber"] == "2" }.count == 3)
    }

    @Test func bodyThatThrowsLeavesNothing() async throws {
        let server = try await FakeS3Server()
        defer { Task { try? await server.shutdown() } }
        let sink = try Self.sink(server)
        await #expect(throws: InjectedBodyFailure.self) {
            try await sink.withPart(named: "p.csv") { writer in
                try await writer.write(testBytes(count: 12 * Self.mib, seed: 9))
                throw InjectedBodyFailure()
            }
        }
        #expect(server.abortedUploads == ["upload-1/+="])
        #expect(server.openUploads.isEmpty)
        #expect(server.objects.isEmpty)
        #expect(try await sink.exists(named: "p.csv") == false)
    }

    @Test func smallPartsAreOnePutObject() async throws {
        let server = try await FakeS3Server()
        defer { Task { try? await server.shutdown() } }
        let sink = try Self.sink(server)
        let small = testBytes(count: 1000, seed: 1)
        let exact = testBytes(count: 5 * Self.mib, seed: 2)
        try await sink.withPart(named: "a.csv") { try await $0.write(small) }
        try await sink.withPart(named: "b.csv") { try await $0.write(exact) }
        try await sink.withPart(named: "empty.csv") { _ in }
        try await sink.put(ByteBuffer(string: "{}"), named: "_manifest.json")
        #expect(server.objects["/bucket/out/a.csv"] == small)
        #expect(server.objects["/bucket/out/b.csv"] == exact)
        #expect(server.objects["/bucket/out/empty.csv"] == [])
        #expect(server.objects["/bucket/out/_manifest.json"] == Array("{}".utf8))
        #expect(server.requests.allSatisfy { $0.method == "PUT" && $0.query.isEmpty })
        #expect(try await sink.exists(named: "a.csv"))
        try await sink.remove(named: "a.csv")
        try await sink.remove(named: "a.csv")  // absent: not an error
        #expect(try await sink.exists(named: "a.csv") == false)
    }

    /// A server that got only part of a body must be able to tell (SeaweedFS stores a zero-byte
    /// object for a PutObject cut before its first body byte unless `Content-MD5` is sent): every
    /// request with a body carries its `Content-MD5`, which the fake server checks.
    @Test func everyRequestWithABodyCarriesItsContentMD5() async throws {
        let server = try await FakeS3Server()
        defer { Task { try? await server.shutdown() } }
        let sink = try Self.sink(server)
        let large = testBytes(count: 11 * Self.mib + 17, seed: 3)
        try await sink.withPart(named: "large.parquet") { try await $0.write(large) }
        try await sink.withPart(named: "small.csv") { try await $0.write(testBytes(count: 999, seed: 4)) }
        try await sink.put(ByteBuffer(string: "{}"), named: "_manifest.json")
        try await sink.put(ByteBuffer(), named: "_SUCCESS")
        #expect(server.objects["/bucket/out/large.parquet"] == large)
        let withBody = server.requests.filter { $0.bodyLength > 0 }
        // Three UploadParts, CompleteMultipartUpload, two PutObjects with a body.
        #expect(withBody.count == 6)
        #expect(withBody.allSatisfy { $0.contentMD5 != nil })
        #expect(server.requests.filter { $0.bodyLength == 0 && $0.contentMD5 != nil }.isEmpty)
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let server = try await FakeS3Server { _, _ in .status(403, code: "SignatureDoesNotMatch") }
        defer { Task { try? await server.shutdown() } }
        let sink = try Self.sink(server)
        let error = await #expect(throws: ExportError.self) {
            try await sink.put(ByteBuffer(string: "x"), named: "_SUCCESS")
        }
        #expect(
            error?.description.contains("PutObject s3://bucket/out/_SUCCESS failed: HTTP 403 SignatureDoesNotMatch")
                == true
        )
        #expect(server.requests.count == 1)
    }

    @Test func keysWithAwkwardCharactersArriveIntact() async throws {
        let server = try await FakeS3Server()
        defer { Task { try? await server.shutdown() } }
        let sink = try Self.sink(server)
        let key = "raw/dir/a b+c=d&e~f*g'h(i)!@$é.csv"
        try await sink.put(ByteBuffer(string: "x"), named: key)
        #expect(server.objects["/bucket/out/" + key] == Array("x".utf8))
    }
}
