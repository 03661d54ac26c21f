import ExportCore
import ExportSinks
import NIOCore
import Testing

@testable import ExportS3

/// The staging operations a sharded export's commit uses, against the real S3 server: read back,
/// server-side move (CopyObject, and UploadPartCopy above the single-copy limit), folder removal.
@Suite(
    .tags(.integration),
    .enabled(
        if: S3TestServer.integrationRequested,
        "integration test against a local S3 server: run by scripts/test (BACKTEST_EXPORT_INTEGRATION=1)"
    )
)
struct S3StagingIntegrationTests {
    static let mib = 1024 * 1024

    /// Below this branch's own key prefix, unique per run.
    static func prefix(_ name: String) -> String {
        "h16/\(name)-\(SystemClock.epochSeconds())-\(UInt32.random(in: 0...UInt32.max))"
    }

    @Test func moveIsAServerSideCopyThenDelete() async throws {
        let sink = try S3TestServer().sink(prefix: Self.prefix("move"))
        let data = testBytes(count: 70_000, seed: 21)
        let staged = "_staging/J_2024-01-01T00-00-00Z/shard-1/forecasted-values/J_2024-01-01T00-00-00Z_part0 a+b.csv"
        try await sink.withPart(named: staged) { try await $0.write(data, chunkSize: 9000) }
        try await sink.move(
            from: staged,
            to: "forecasted-values/J_2024-01-01T00-00-00Z_part3.csv",
            byteCount: data.count
        )
        #expect(try await sink.exists(named: staged) == false)
        let back = try await sink.read(named: "forecasted-values/J_2024-01-01T00-00-00Z_part3.csv", maxBytes: 1 << 20)
        #expect(back.map { Array(buffer: $0) } == data)
        #expect(try await sink.read(named: "absent.json", maxBytes: 10) == nil)
    }

    @Test func largeMoveIsAMultipartCopy() async throws {
        let prefix = Self.prefix("multipart-copy")
        let sink = try S3TestServer(partSize: 5 * Self.mib, inFlight: 3).sink(prefix: prefix)
        let data = testBytes(count: 12 * Self.mib + 777, seed: 22)
        try await sink.withPart(named: "staged.bin") { try await $0.write(data, chunkSize: 1 << 20) }
        // A 5 MiB single-copy limit makes the 12 MiB object go as 3 UploadPartCopy parts.
        try await sink.move(from: "staged.bin", to: "final.bin", byteCount: data.count, multipartAbove: 5 * Self.mib)
        let key = sink.location.key(for: "final.bin")
        let back = try #require(try await sink.client.getObject(key: key, maxBytes: 32 * Self.mib))
        #expect(Array(buffer: back) == data)
        let head = try await sink.client.send("HeadObject", method: .HEAD, key: key)
        #expect(head.headers.first(name: "etag")?.hasSuffix("-3\"") == true, "\(head.headers)")
        #expect(try await sink.exists(named: "staged.bin") == false)
        #expect(try await sink.client.listMultipartUploads(prefix: prefix).isEmpty)
    }

    @Test func removeAllRemovesOnlyThatFolder() async throws {
        let sink = try S3TestServer().sink(prefix: Self.prefix("remove-all"))
        for key in ["_staging/J/shard-0/a", "_staging/J/shard-0/b/c", "_staging/J/shard-1/d", "_staging/K/e", "keep"] {
            try await sink.put(ByteBuffer(string: key), named: key)
        }
        try await sink.removeAll(under: "_staging/J/")
        for key in ["_staging/J/shard-0/a", "_staging/J/shard-0/b/c", "_staging/J/shard-1/d"] {
            #expect(try await sink.exists(named: key) == false)
        }
        #expect(try await sink.exists(named: "_staging/K/e"))
        #expect(try await sink.exists(named: "keep"))
        try await sink.removeAll(under: "_staging/none/")
    }
}
