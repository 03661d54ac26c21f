import ExportCore
import Foundation
import Testing

@testable import BacktestExport

/// The metrics rows held while the forecast table is written come back unchanged and in order,
/// from memory or, past the limit, from a temporary file that is then removed.
@Suite struct MetricsSpoolTests {
    static func batches(series: Int, metrics: Int) -> [MetricsBatch] {
        (0..<series).map { s in
            var batch = MetricsBatch(metricCount: metrics)
            let key = SeriesKey(itemId: "item \(s), \"q\"\né", dimensions: ["d\(s % 3)", ""])
            for w in 0..<3 {
                batch.append(
                    series: key,
                    window: w == 2 ? .summary : .computed,
                    windowStart: Int64(s * 1000 + w),
                    windowEnd: Int64(-s),
                    metrics: (0..<metrics).map { m in (s + w + m) % 4 == 0 ? nil : Double(s) / Double(m + 1) - 0.5 }
                )
            }
            return batch
        }
    }

    static func rows(_ batches: [MetricsBatch]) -> [String] {
        batches.flatMap { batch in
            (0..<batch.rowCount).map { row in
                let values = batch.metrics.map { $0[row].map { String($0.bitPattern) } ?? "-" }
                return "\(batch.series[Int(batch.seriesIndex[row])].values)|\(batch.backtestWindow[row])|"
                    + "\(batch.windowStart[row])|\(batch.windowEnd[row])|\(values)"
            }
        }
    }

    @Test(arguments: [(1 << 30, false), (2 << 10, true)])
    func rowsComeBackInOrder(limit: Int, spills: Bool) throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("spool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let input = Self.batches(series: 200, metrics: 7)
        let spool = MetricsSpool(metricCount: 7, temporaryDirectory: temp, memoryLimit: limit, batchRows: 10)
        for batch in input { try spool.append(batch) }
        try spool.finishAppending()
        #expect(spool.spilled == spills)
        var output: [MetricsBatch] = []
        while let batch = try spool.next() {
            #expect(batch.rowCount <= 10)
            output.append(batch)
        }
        #expect(Self.rows(output) == Self.rows(input))
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)
    }
}
