public import ExportCore

/// One row of backtest input, for tests that build batches in any order: the row fixtures the
/// test targets share.
public struct ForecastRow: Sendable {
    public var key: SeriesKey
    /// Epoch milliseconds.
    public var timestamp: Int64
    public var target: Double?
    public var windowStart: Int64
    public var windowEnd: Int64
    /// One value per forecast type of the schema, in its order.
    public var forecasts: [Double?]

    public init(
        key: SeriesKey,
        timestamp: Int64,
        target: Double?,
        windowStart: Int64,
        windowEnd: Int64,
        forecasts: [Double?]
    ) {
        self.key = key
        self.timestamp = timestamp
        self.target = target
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.forecasts = forecasts
    }

    /// The same, with the window as `start` and `end` (the metrics tests' spelling).
    public init(key: SeriesKey, timestamp: Int64, target: Double?, start: Int64, end: Int64, forecasts: [Double?]) {
        self.init(
            key: key,
            timestamp: timestamp,
            target: target,
            windowStart: start,
            windowEnd: end,
            forecasts: forecasts
        )
    }

    /// `series` series (dimension `store`) × `windows` windows × `horizon` daily points with two
    /// forecast types, awkward item ids (commas, quotes, line breaks, composed and decomposed
    /// accents, the empty id) and some missing targets and forecasts. Deterministic for a seed.
    public static func awkwardSeries(series: Int, windows: Int = 2, horizon: Int = 5, seed: UInt64 = 7) -> [ForecastRow]
    {
        var random = seed
        func next() -> Double {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(random >> 11) / Double(1 << 53)
        }
        let ids = ["a", "b,c", "q\"uote", "new\nline", "é", "e\u{301}", "", "Z", "zz"]
        var rows: [ForecastRow] = []
        for s in 0..<series {
            let key = SeriesKey(itemId: ids[s % ids.count] + String(s / ids.count), dimensions: ["s\(s % 3)"])
            for w in 0..<windows {
                let start = Int64(1_700_000_000_000) + Int64(w * horizon) * 86_400_000
                for h in 0..<horizon {
                    let y: Double? = next() < 0.1 ? nil : (next() * 100).rounded()
                    rows.append(
                        ForecastRow(
                            key: key,
                            timestamp: start + Int64(h) * 86_400_000,
                            target: y,
                            windowStart: start,
                            windowEnd: start + Int64(horizon - 1) * 86_400_000,
                            forecasts: [next() * 80, next() < 0.05 ? nil : next() * 100]
                        )
                    )
                }
            }
        }
        return rows
    }

    /// `rows` in batches of at most `size` rows, in the order given.
    public static func batches(
        _ rows: some Collection<ForecastRow>,
        size: Int,
        forecastTypeCount: Int
    ) -> [ForecastBatch] {
        let rows = Array(rows)
        return stride(from: 0, to: rows.count, by: size).map { start in
            ForecastBatch(rows: rows[start..<min(start + size, rows.count)], forecastTypeCount: forecastTypeCount)
        }
    }
}

extension ForecastBatch {
    /// One batch of `rows`, in the order given.
    public init(rows: some Collection<ForecastRow>, forecastTypeCount: Int) {
        self.init(forecastTypeCount: forecastTypeCount)
        for row in rows {
            append(
                series: row.key,
                timestamp: row.timestamp,
                target: row.target,
                windowStart: row.windowStart,
                windowEnd: row.windowEnd,
                forecasts: row.forecasts
            )
        }
    }
}
