import ExportCore
import ExportTesting
import Testing

/// Shared helpers for the metrics tests.
enum MetricsFixture {
    static let day: Int64 = 86_400_000

    /// Milliseconds of day `n` after the epoch, at midnight UTC.
    static func d(_ n: Int64) -> Int64 { n * day }

    static func schema(_ types: [ForecastType], dimensions: [String] = []) -> ExportSchema {
        try! ExportSchema(dimensions: dimensions, forecastTypes: types)
    }

    /// One row of test input.
    typealias Row = ForecastRow

    static func batch(_ rows: some Collection<Row>, forecastTypeCount: Int) -> ForecastBatch {
        ForecastBatch(rows: rows, forecastTypeCount: forecastTypeCount)
    }

    /// Feeds `rows` in one batch and returns everything `finish()` gives.
    static func metrics(
        _ rows: [Row],
        schema: ExportSchema,
        options: MetricsOptions = MetricsOptions()
    ) throws -> (MetricsBatch, MetricsAccumulator) {
        var accumulator = MetricsAccumulator(schema: schema, options: options)
        let b = batch(rows, forecastTypeCount: schema.forecastTypes.count)
        try accumulator.add(b, rows: 0..<b.rowCount)
        return (accumulator.finish(), accumulator)
    }

    /// A flattened, bit-exact view of metrics rows for comparisons.
    struct FlatRow: Equatable, CustomStringConvertible {
        var key: SeriesKey
        var kind: BacktestWindow
        var start: Int64
        var end: Int64
        /// Bit patterns; nil = not defined.
        var bits: [UInt64?]

        var description: String {
            "\(key) \(kind.label) \(start)…\(end) \(bits.map { $0.map { String(Double(bitPattern: $0)) } ?? "-" })"
        }
    }

    static func flatten(_ batches: [MetricsBatch]) -> [FlatRow] {
        var rows: [FlatRow] = []
        for b in batches {
            for r in 0..<b.rowCount {
                rows.append(
                    FlatRow(
                        key: b.series[Int(b.seriesIndex[r])],
                        kind: b.backtestWindow[r],
                        start: b.windowStart[r],
                        end: b.windowEnd[r],
                        bits: b.metrics.map { $0[r]?.bitPattern }
                    )
                )
            }
        }
        return rows
    }

    /// Relative 1e-12 (absolute 1e-15 near zero) comparison of a metric against a hand-computed value.
    static func close(_ actual: Double?, _ expected: Double) -> Bool {
        guard let actual else { return false }
        return abs(actual - expected) <= max(1e-12 * max(abs(actual), abs(expected)), 1e-15)
    }

    /// The value of metric `name` in row `row`.
    static func value(_ batch: MetricsBatch, _ schema: ExportSchema, _ name: String, row: Int) -> Double? {
        let column = schema.metricNames.firstIndex(of: name)!
        return batch.metrics[column][row]
    }
}
