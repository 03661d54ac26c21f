import ExportCore
import Testing

@testable import BacktestExport

/// The grouper's window look-up (a slot table in front of a dictionary): every row keeps its own
/// window whatever the order of the rows, the number of windows (more than the table has slots,
/// so that some share a slot) and the batches they come in, also after the buffer is emptied and
/// refilled with other windows (a spill).
@Suite struct RowBufferWindowTests {
    /// `count` rows of one series, row `i` in window `window(i)` (start, end), in batches of
    /// `batchSize` rows; the buffer and each row's window.
    static func fill(
        _ buffer: inout RowBuffer,
        count: Int,
        batchSize: Int,
        window: (Int) -> RowBuffer.Window
    ) -> [RowBuffer.Window] {
        var expected: [RowBuffer.Window] = []
        for first in stride(from: 0, to: count, by: batchSize) {
            var batch = ForecastBatch(forecastTypeCount: 0)
            for row in first..<min(first + batchSize, count) {
                let w = window(row)
                expected.append(w)
                batch.append(
                    series: SeriesKey(itemId: "item", dimensions: []),
                    timestamp: w.start,
                    target: 1,
                    windowStart: w.start,
                    windowEnd: w.end,
                    forecasts: []
                )
            }
            buffer.append(batch, rows: 0..<batch.rowCount, provenance: { UInt64($0) })
        }
        return expected
    }

    /// A pseudo-random window among `windows`, by row.
    static func scattered(_ windows: Int, seed: UInt64) -> (Int) -> RowBuffer.Window {
        { row in
            var x = UInt64(row) &+ seed
            x = (x ^ (x >> 31)) &* 0xBF58_476D_1CE4_E5B9
            let w = Int64((x >> 40) % UInt64(windows))
            // Windows that differ in their end only, as well as in their start.
            return RowBuffer.Window(start: (w / 2) * 86_400_000, end: (w / 2) * 86_400_000 + (w % 2 + 1) * 3_600_000)
        }
    }

    @Test(arguments: [1, 5, 63, 64, 65, 300])
    func everyRowKeepsItsWindow(windows: Int) {
        var buffer = RowBuffer(forecastTypeCount: 0)
        let expected = Self.fill(&buffer, count: 20_000, batchSize: 3_000, window: Self.scattered(windows, seed: 1))
        #expect(buffer.windows.count == Set(expected.map { "\($0.start) \($0.end)" }).count)
        for (row, window) in expected.enumerated() where buffer.window(ofRow: row) != window {
            Issue.record("row \(row): window \(buffer.window(ofRow: row)), expected \(window)")
            return
        }
    }

    @Test func anEmptiedBufferForgetsItsWindows() {
        var buffer = RowBuffer(forecastTypeCount: 0)
        _ = Self.fill(&buffer, count: 5_000, batchSize: 1_000, window: Self.scattered(40, seed: 2))
        buffer.removeAll()
        // Fewer windows, at other instants: a slot left from before would point past the end.
        let expected = Self.fill(&buffer, count: 5_000, batchSize: 1_000) { row in
            RowBuffer.Window(start: Int64(row % 3) * 7_000, end: Int64(row % 3) * 7_000 + 1_000)
        }
        #expect(buffer.windows.count == 3)
        for (row, window) in expected.enumerated() { #expect(buffer.window(ofRow: row) == window) }
    }
}
