import ExportSinks
import ExportTesting
import Foundation
import NIOCore
import Testing

/// The shared ``PartSinkConformance`` checks against the local and in-memory sinks (S3Sink's run
/// in the S3 integration tests).
@Suite struct PartSinkConformanceTests {
    @Test func localDirectorySink() async throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: base) }
        var made = 0
        try await PartSinkConformance(
            makeSink: {
                made += 1
                return LocalDirectorySink(root: "\(base)/\(made)")
            },
            read: { sink, key in
                FileManager.default.contents(atPath: "\(sink.root)/\(key)").map { Array($0) }
            }
        ).run()
    }

    @Test func inMemorySink() async throws {
        try await PartSinkConformance(
            makeSink: { InMemorySink() },
            read: { sink, key in sink.files[key].map { Array(buffer: $0) } }
        ).run()
    }
}
