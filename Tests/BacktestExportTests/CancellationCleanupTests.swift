import BacktestExport
import ExportCore
import ExportSinks
import Foundation
import Testing

/// A source that hands out its batches, then, like a slow pipe, waits for more: until the task
/// reading it is cancelled (at most 10 s), then ends.
private struct SlowSource: ForecastSource {
    let schema: ExportSchema
    let batches: [ForecastBatch]
    var next = 0

    mutating func nextBatch() throws -> ForecastBatch? {
        guard next < batches.count else {
            for _ in 0..<10_000 where !Task.isCancelled { usleep(1_000) }
            return nil
        }
        defer { next += 1 }
        return batches[next]
    }
}

@Suite struct CancellationCleanupTests {
    /// The CLI exits right after a cancelled export returns: the grouper, still reading its input
    /// on its own thread, must have stopped and removed its spill runs by then (it went on spilling
    /// into a folder nobody removed).
    @Test func aCancelledExportHasRemovedItsSpillRunsWhenItReturns() async throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("cancel-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let rows = Array(Fixture.rows(series: 400, windows: 3, horizon: 10).reversed())
        let batches = Fixture.batches(rows, size: 100)
        let configuration = try Fixture.configuration(memoryLimit: 64 << 10, temp: temp)
        let exporter = BacktestExporter(sink: InMemorySink(), format: TextTableFormat(), configuration: configuration)
        let export = Task {
            try await exporter.export(from: { SlowSource(schema: Fixture.schema, batches: batches) })
        }
        // Wait until the grouper has spilled a run.
        func spillFiles() -> [String] {
            (FileManager.default.enumerator(atPath: temp)?.allObjects as? [String] ?? []).filter {
                $0.hasSuffix(".bin")
            }
        }
        let deadline = Date().addingTimeInterval(120)
        while spillFiles().isEmpty && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!spillFiles().isEmpty)
        export.cancel()
        await #expect(throws: (any Error).self) { _ = try await export.value }
        // Nothing left at the moment the export returned, and nothing appears later.
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)
        try await Task.sleep(for: .milliseconds(100))
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)
    }
}
