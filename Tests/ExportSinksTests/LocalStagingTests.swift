import ExportCore
import ExportSinks
import Foundation
import NIOCore
import Testing

/// Staging on local disk: reading back, moving by rename, removing a folder tree, prefixed keys.
@Suite struct LocalStagingTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("staging-\(UUID().uuidString)").path

    func files(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func stagedFilesMoveToFinalNamesAndTheStagingFolderGoes() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sink = LocalDirectorySink(root: root)
        let shard = PrefixedSink(base: sink, prefix: "_staging/J_ts/shard-0")
        try await shard.put(ByteBuffer(string: "rows\n"), named: "forecasted-values/J_ts_part0.csv")
        try await shard.put(ByteBuffer(string: "{}"), named: "_shard.json")
        #expect(try await shard.exists(named: "_shard.json"))
        #expect(
            try await sink.read(named: "_staging/J_ts/shard-0/_shard.json", maxBytes: 10).map { String(buffer: $0) }
                == "{}"
        )
        #expect(try await sink.read(named: "_staging/J_ts/shard-1/_shard.json", maxBytes: 10) == nil)
        await #expect(throws: ExportError.self) {
            _ = try await sink.read(named: "_staging/J_ts/shard-0/_shard.json", maxBytes: 1)
        }
        try await sink.move(
            from: "_staging/J_ts/shard-0/forecasted-values/J_ts_part0.csv",
            to: "forecasted-values/J_ts_part4.csv",
            byteCount: 5
        )
        #expect(try String(contentsOfFile: root + "/forecasted-values/J_ts_part4.csv", encoding: .utf8) == "rows\n")
        try await sink.put(ByteBuffer(string: "x"), named: "_staging/Other/keep")
        try await sink.removeAll(under: "_staging/J_ts/")
        #expect(
            files(root) == [
                "_staging", "_staging/Other", "_staging/Other/keep", "forecasted-values",
                "forecasted-values/J_ts_part4.csv",
            ]
        )
        try await sink.removeAll(under: "_staging/absent/")
        await #expect(throws: ExportError.self) {
            try await sink.move(from: "nothing", to: "forecasted-values/x", byteCount: 0)
        }
    }
}
