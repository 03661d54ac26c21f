import ExportCore
import ExportTesting
import NIOCore
import Testing

@testable import ExportS3

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tag {
    /// Tests that need a service or tool beyond the toolchain (the local S3 server); `scripts/test` runs them.
    @Tag static var integration: Self
}

/// The settings of the real S3 server (SeaweedFS, started by `scripts/s3-server.sh`).
struct S3TestServer {
    static let howToStart = """
        S3 integration tests need a local S3 server. Start it and export its settings with
            eval "$(scripts/s3-server.sh start)"
        (stop it with `scripts/s3-server.sh stop`). `scripts/test` does both and sets BACKTEST_EXPORT_INTEGRATION=1.
        """
    static let environment: [String: String] = {
        var env: [String: String] = [:]
        for name in [
            "BACKTEST_EXPORT_S3_TEST_ENDPOINT", "BACKTEST_EXPORT_S3_TEST_ACCESS_KEY",
            "BACKTEST_EXPORT_S3_TEST_SECRET_KEY",
            "BACKTEST_EXPORT_S3_TEST_BUCKET", "BACKTEST_EXPORT_S3_TEST_REGION", "BACKTEST_EXPORT_INTEGRATION",
        ] {
            if let value = getenv(name) { env[name] = String(cString: value) }
        }
        return env
    }()
    /// Integration tests run when `BACKTEST_EXPORT_INTEGRATION=1` (set by `scripts/test`, which
    /// starts the server); a plain `swift test` runs the unit tests only.
    static var integrationRequested: Bool { environment["BACKTEST_EXPORT_INTEGRATION"] == "1" }

    let configuration: S3Configuration
    let bucket: String

    /// The configuration from the environment; fails the test (not skips) when it is missing.
    init(partSize: Int = 8 * 1024 * 1024, inFlight: Int = 4, secretOverride: String? = nil) throws {
        let env = Self.environment
        guard let endpoint = env["BACKTEST_EXPORT_S3_TEST_ENDPOINT"],
            let key = env["BACKTEST_EXPORT_S3_TEST_ACCESS_KEY"],
            let secret = env["BACKTEST_EXPORT_S3_TEST_SECRET_KEY"], let bucket = env["BACKTEST_EXPORT_S3_TEST_BUCKET"]
        else {
            Issue.record(Comment(rawValue: Self.howToStart))
            throw ExportError.validation("BACKTEST_EXPORT_S3_TEST_* are not set")
        }
        self.bucket = bucket
        configuration = S3Configuration(
            region: env["BACKTEST_EXPORT_S3_TEST_REGION"] ?? "us-east-1",
            endpoint: try S3Endpoint(parsing: endpoint),
            credentials: S3Credentials(accessKeyId: key, secretAccessKey: secretOverride ?? secret),
            partSize: partSize,
            maxPartsInFlight: inFlight,
            retry: S3RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(20))
        )
    }

    /// A sink under a prefix unique to this test run.
    func sink(prefix: String) throws -> S3Sink {
        try S3Sink(location: S3Location(bucket: bucket, prefix: prefix), configuration: configuration)
    }
}

/// A fresh prefix per test run, so reruns against the same server never see old objects.
func uniquePrefix(_ name: String) -> String {
    "tests/\(name)-\(SystemClock.epochSeconds())-\(UInt32.random(in: 0...UInt32.max))"
}

@Suite(
    .tags(.integration),
    .enabled(
        if: S3TestServer.integrationRequested,
        "integration test against a local S3 server: run by scripts/test (BACKTEST_EXPORT_INTEGRATION=1)"
    )
)
struct S3SinkIntegrationTests {
    static let mib = 1024 * 1024

    /// The PartSink contract every sink passes (ExportTesting's checks), each check under a
    /// prefix of its own.
    @Test func passesThePartSinkConformanceChecks() async throws {
        let server = try S3TestServer(partSize: 5 * Self.mib, inFlight: 2)
        try await PartSinkConformance(
            makeSink: { try server.sink(prefix: uniquePrefix("conformance")) },
            read: { sink, key in
                try await sink.client.getObject(key: sink.location.key(for: key), maxBytes: 1 << 20).map {
                    Array(buffer: $0)
                }
            }
        ).run()
    }

    @Test func smallPartIsOnePut() async throws {
        let server = try S3TestServer()
        let sink = try server.sink(prefix: uniquePrefix("small"))
        let data = testBytes(count: 10_000, seed: 11)
        let key = "forecasted-values/Job_2024-01-01T00-00-00Z_part0 a+b$.csv"
        #expect(try await sink.exists(named: key) == false)
        try await sink.withPart(named: key) { try await $0.write(data, chunkSize: 3000) }
        #expect(try await sink.exists(named: key))
        let back = try await sink.client.getObject(key: sink.location.key(for: key), maxBytes: 1 << 20)
        #expect(back.map { Array(buffer: $0) } == data)
        try await sink.put(ByteBuffer(), named: "_SUCCESS")
        #expect(try await sink.exists(named: "_SUCCESS"))
        try await sink.remove(named: key)
        #expect(try await sink.exists(named: key) == false)
    }

    @Test func multipartUploadOf40MiBReadsBackEqual() async throws {
        let server = try S3TestServer(partSize: 5 * Self.mib, inFlight: 3)
        let prefix = uniquePrefix("multipart")
        let sink = try server.sink(prefix: prefix)
        let data = testBytes(count: 40 * Self.mib + 12_345, seed: 12)
        try await sink.withPart(named: "big.csv") { try await $0.write(data, chunkSize: 256 * 1024) }
        let key = sink.location.key(for: "big.csv")
        let back = try #require(try await sink.client.getObject(key: key, maxBytes: 64 * Self.mib))
        #expect(back.readableBytes == data.count)
        #expect(Array(buffer: back) == data)
        // A multipart ETag ends in -N, the part count: 8 parts of 5 MiB and the tail made 9 (the
        // bytes read back equal, so they arrived in order).
        let head = try await sink.client.send("HeadObject", method: .HEAD, key: key)
        #expect(head.headers.first(name: "etag")?.hasSuffix("-9\"") == true)
        #expect(try await sink.client.listMultipartUploads(prefix: prefix).isEmpty)
    }

    @Test func bodyThatThrowsMidPartLeavesNoObjectAndNoUpload() async throws {
        let server = try S3TestServer(partSize: 5 * Self.mib, inFlight: 2)
        let prefix = uniquePrefix("throws")
        let sink = try server.sink(prefix: prefix)
        await #expect(throws: InjectedBodyFailure.self) {
            try await sink.withPart(named: "broken.csv") { writer in
                try await writer.write(testBytes(count: 17 * Self.mib, seed: 13))
                throw InjectedBodyFailure()
            }
        }
        #expect(try await sink.exists(named: "broken.csv") == false)
        #expect(try await sink.client.listMultipartUploads(prefix: prefix).isEmpty)
    }

    @Test func wrongSecretIsAClearErrorWithoutTheSecret() async throws {
        let wrong = "definitely-not-the-secret-4242"
        let server = try S3TestServer(secretOverride: wrong)
        let sink = try server.sink(prefix: uniquePrefix("wrong-secret"))
        let error = await #expect(throws: ExportError.self) {
            try await sink.put(ByteBuffer(string: "x"), named: "_CHECK")
        }
        let text = error?.description ?? ""
        #expect(error?.code == .sink)
        #expect(text.contains("HTTP 403 SignatureDoesNotMatch"), "\(text)")
        #expect(text.contains("after 1 attempt"), "\(text)")
        #expect(text.contains("_CHECK"))
        #expect(!text.contains(wrong))
    }
}
