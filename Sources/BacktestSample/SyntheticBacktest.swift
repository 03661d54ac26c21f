public import ExportCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The benchmark data set of `research/perf-anchors.md`, generated in process: `items` series
/// named `item_000123`, `windows` back-to-back windows of `days` daily points from 2023-01-01,
/// `target_value`, `p10`, `p50`, `p90`, `mean` as full-precision doubles (shortest text about 17
/// characters), no missing value, no NaN.
///
/// Same distributions as the numpy generator (log-uniform demand level 10…1000 per item, noise
/// σ 0.15…0.6 per item, weekly seasonality, lognormal actuals around p50), but its own random
/// numbers (SplitMix64), so the values are not the numpy ones. Deterministic for a seed.
///
/// Cost: O(rows) time and 68 bytes of columns per row (3 M rows: ~1 s, ~200 MB).
public struct SyntheticBacktest: Sendable {
    public var items: Int
    public var windows: Int
    public var days: Int
    public var seed: UInt64

    /// The large set (L): 10,000 items × 5 windows × 60 days = 3,000,000 rows.
    public init(items: Int = 10_000, windows: Int = 5, days: Int = 60, seed: UInt64 = 42) {
        self.items = items
        self.windows = windows
        self.days = days
        self.seed = seed
    }

    public var rowCount: Int { items * windows * days }

    /// `p10, p50, p90, mean`.
    public static let schema: ExportSchema = {
        do {
            return try ExportSchema(forecastTypes: [
                .quantile(hundredths: 10), .quantile(hundredths: 50), .quantile(hundredths: 90), .mean,
            ])
        } catch { fatalError("\(error)") }
    }()

    /// 2023-01-01T00:00:00Z in milliseconds.
    public static let baseMillis: Int64 = 1_672_531_200_000
    public static let dayMillis: Int64 = 86_400_000

    /// `item_000123`.
    public static func itemName(_ i: Int) -> String {
        var digits = String(i)
        while digits.utf8.count < 6 { digits = "0" + digits }
        return "item_" + digits
    }

    /// The whole table in batches of at most `rowsPerBatch` rows, in export order (series, window,
    /// timestamp). Each batch lists only its own series.
    public func batches(rowsPerBatch: Int = 65_536) -> [ForecastBatch] {
        precondition(rowsPerBatch > 0)
        var random = SplitMix64(seed: seed)
        var result: [ForecastBatch] = []
        var batch = ForecastBatch(forecastTypeCount: 4)
        batch.reserveCapacity(min(rowsPerBatch, rowCount))
        let z90 = 1.2815515655446004
        for item in 0..<items {
            let key = SeriesKey(itemId: Self.itemName(item))
            let level = exp(random.uniform(log(10.0), log(1000.0)))
            let sigma = random.uniform(0.15, 0.6)
            for w in 0..<windows {
                let start = Self.baseMillis + Int64(w * days) * Self.dayMillis
                let end = start + Int64(days) * Self.dayMillis
                for d in 0..<days {
                    if batch.rowCount == rowsPerBatch {
                        result.append(batch)
                        batch = ForecastBatch(forecastTypeCount: 4)
                        batch.reserveCapacity(min(rowsPerBatch, rowCount - result.count * rowsPerBatch))
                    }
                    if batch.series.last != key { batch.series.append(key) }
                    let t = start + Int64(d) * Self.dayMillis
                    let dow = Double((t / Self.dayMillis) % 7)
                    let season = 1.0 + 0.15 * sin(2 * Double.pi * dow / 7)
                    let p50 = level * season * exp(0.08 * random.normal())
                    let target = p50 * exp(sigma * random.normal())
                    batch.seriesIndex.append(Int32(batch.series.count - 1))
                    batch.timestamp.append(t)
                    batch.target.values.append(target)
                    batch.windowStart.append(start)
                    batch.windowEnd.append(end)
                    batch.forecasts[0].values.append(p50 * exp(-z90 * sigma))
                    batch.forecasts[1].values.append(p50)
                    batch.forecasts[2].values.append(p50 * exp(z90 * sigma))
                    batch.forecasts[3].values.append(p50 * exp(0.5 * sigma * sigma))
                }
            }
        }
        if batch.rowCount > 0 { result.append(batch) }
        return result
    }

    /// The whole table as one batch.
    public func batch() -> ForecastBatch { batches(rowsPerBatch: max(rowCount, 1))[0] }

    /// The `accuracy-metrics-values` rows of `batches`, computed by ``MetricsAccumulator``
    /// (no history: MASE not defined). 10,000 items × (5 windows + Summary) = 60,000 rows for L.
    public static func metrics(of batches: [ForecastBatch]) throws -> MetricsBatch {
        var accumulator = MetricsAccumulator(schema: schema)
        for b in batches { try accumulator.add(b, rows: 0..<b.rowCount) }
        return accumulator.finish()
    }
}
