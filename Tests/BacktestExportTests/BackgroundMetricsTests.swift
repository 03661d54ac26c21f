import ExportCore
import Foundation
import Testing

@testable import BacktestExport

/// The metrics accumulated on the pool match the accumulator fed directly, and a failure in a
/// pool job reaches the caller.
@Suite struct BackgroundMetricsTests {
    static let schema = try! ExportSchema(forecastTypes: [.quantile(hundredths: 10), .quantile(hundredths: 50), .mean])

    /// `series` whole series of two windows of 5 days, in the export's order, one batch a series.
    static func series(_ count: Int) -> [[(batch: ForecastBatch, rows: Range<Int>)]] {
        let day: Int64 = 86_400_000
        return (0..<count).map { s in
            var batch = ForecastBatch(forecastTypeCount: 3)
            let key = SeriesKey(itemId: String(format: "item_%04d", s), dimensions: [])
            for w in 0..<2 {
                let start = Int64(w) * 5 * day
                for d in 0..<5 {
                    let target = Double((s * 7 + w * 3 + d) % 11)
                    batch.append(
                        series: key,
                        timestamp: start + Int64(d) * day,
                        target: d == 3 && s % 4 == 0 ? nil : target,
                        windowStart: start,
                        windowEnd: start + 5 * day,
                        forecasts: [target * 0.8, target + 0.5, target * 1.1 + Double(s % 3)]
                    )
                }
            }
            // Two pieces, so that a series spans more than one piece.
            return [(batch, 0..<4), (batch, 4..<batch.rowCount)]
        }
    }

    static func rows(_ spool: MetricsSpool) throws -> [String] {
        var out: [String] = []
        while let batch = try spool.next() { out += MetricsSpoolTests.rows([batch]) }
        return out
    }

    @Test("the same rows and predictor metrics as the accumulator fed directly", arguments: [1, 37, 100_000])
    func sameAsDirect(submitRows: Int) async throws {
        let temp = FileManager.default.temporaryDirectory.path
        let input = Self.series(300)

        var direct = MetricsAccumulator(schema: Self.schema)
        let directSpool = MetricsSpool(metricCount: Self.schema.metricNames.count, temporaryDirectory: temp)
        for pieces in input {
            for piece in pieces { try direct.add(piece.batch, rows: piece.rows) }
            if let done = direct.takeCompletedSeries() { try directSpool.append(done) }
        }
        try directSpool.append(direct.finish())
        try directSpool.finishAppending()

        let spool = MetricsSpool(metricCount: Self.schema.metricNames.count, temporaryDirectory: temp)
        var background = BackgroundMetrics(
            metrics: MetricsAccumulator(schema: Self.schema),
            spool: spool,
            submitRows: submitRows,
            depth: 2
        )
        for pieces in input { try await background.add(series: pieces) }
        var metrics = try await background.finish()
        try spool.append(metrics.finish())
        try spool.finishAppending()

        let expected = try Self.rows(directSpool)
        #expect(expected.count == 300 * 3)
        #expect(try Self.rows(spool) == expected)
        #expect(metrics.predictorMetrics == direct.predictorMetrics)
    }

    @Test("a failing job's error reaches the caller")
    func failureReachesTheCaller() async throws {
        let spool = MetricsSpool(
            metricCount: Self.schema.metricNames.count,
            temporaryDirectory: FileManager.default.temporaryDirectory.path
        )
        var background = BackgroundMetrics(
            metrics: MetricsAccumulator(schema: Self.schema),
            spool: spool,
            submitRows: 1
        )
        let good = Self.series(2)
        try await background.add(series: good[0])
        // A batch with the wrong number of forecast columns: the accumulator refuses it.
        let wrong = ForecastBatch(forecastTypeCount: 1)
        await #expect(throws: ExportError.self) {
            try await background.add(series: [(wrong, 0..<0), (good[1][0].batch, 0..<1)])
            _ = try await background.finish()
        }
    }
}
