/// The mergeable state behind ``PredictorMetrics``: per backtest window, the pooled sums of every
/// series handed out so far (not averages), so that the states of disjoint sets of series (shards
/// of one export) merge into exactly the state of their union.
///
/// Merging is commutative and associative up to the compensated sums' residual error (about
/// 2⁻¹⁰⁶ of the sum of magnitudes), so shards merged in any order give the single-machine
/// figures to far better than 1e-12 relative. O(windows × quantiles) memory.
///
/// ``windows`` exposes the state as plain numbers (counts and compensated sums as high/low
/// pairs) so that it can be written to a shard manifest and read back bit for bit.
public struct PredictorMetricsState: Sendable, Equatable {
    /// One window's pooled state, as plain numbers.
    public struct Window: Sendable, Equatable {
        public var start: Int64
        public var end: Int64
        /// Series with at least one point with an actual in this window.
        public var itemCount: Int
        /// Integer counters, in a fixed order (see ``WindowSums/stateCounts``), then the MASE count.
        public var counts: [Int]
        /// Compensated sums as (high, low) pairs, flattened, then the MASE sum's pair.
        public var sums: [Double]

        public init(start: Int64, end: Int64, itemCount: Int, counts: [Int], sums: [Double]) {
            self.start = start
            self.end = end
            self.itemCount = itemCount
            self.counts = counts
            self.sums = sums
        }

        /// Bit-exact equality of the sums (NaN equals NaN).
        public static func == (lhs: Window, rhs: Window) -> Bool {
            lhs.start == rhs.start && lhs.end == rhs.end && lhs.itemCount == rhs.itemCount
                && lhs.counts == rhs.counts
                && lhs.sums.map(\.bitPattern) == rhs.sums.map(\.bitPattern)
        }
    }

    struct WindowKey: Hashable, Sendable {
        let start: Int64
        let end: Int64
    }

    struct Pooled: Sendable {
        var sums: WindowSums
        var itemCount = 0
        var maseSum = CompensatedSum()
        var maseCount = 0

        init(quantileCount: Int, key: WindowKey) {
            sums = WindowSums(start: key.start, end: key.end, quantileCount: quantileCount)
        }

        /// Adds one series' window and its MASE.
        mutating func absorb(_ window: WindowSums, mase: Double?) {
            sums.merge(window)
            if window.actualCount > 0 { itemCount += 1 }
            if let mase {
                maseSum.add(mase)
                maseCount += 1
            }
        }

        mutating func merge(_ other: Pooled) {
            sums.merge(other.sums)
            itemCount += other.itemCount
            maseSum.add(other.maseSum)
            maseCount += other.maseCount
        }
    }

    /// Quantile forecast types of the schema (each has its own sums).
    public let quantileCount: Int
    var pooled: [WindowKey: Pooled] = [:]
    /// Series whose windows went into this state.
    public internal(set) var seriesCount = 0

    public init(quantileCount: Int) { self.quantileCount = quantileCount }

    /// Rebuilds a state from ``windows`` (a shard manifest's numbers).
    /// - Throws: ``ExportError/Code/validation`` when a window's numbers do not fit `quantileCount`.
    public init(quantileCount: Int, seriesCount: Int, windows: [Window]) throws(ExportError) {
        self.quantileCount = quantileCount
        self.seriesCount = seriesCount
        for window in windows {
            let key = WindowKey(start: window.start, end: window.end)
            guard
                let sums = WindowSums(
                    start: window.start,
                    end: window.end,
                    quantileCount: quantileCount,
                    counts: window.counts.dropLast(),
                    sums: window.sums.dropLast(2)
                ),
                let maseCount = window.counts.last, window.sums.count >= 2
            else {
                throw .validation(
                    "Metric sums of window \(window.start)…\(window.end) do not fit \(quantileCount) quantiles"
                )
            }
            var pooled = Pooled(quantileCount: quantileCount, key: key)
            pooled.sums = sums
            pooled.itemCount = window.itemCount
            pooled.maseCount = maseCount
            pooled.maseSum.high = window.sums[window.sums.count - 2]
            pooled.maseSum.low = window.sums[window.sums.count - 1]
            self.pooled[key] = pooled
        }
    }

    /// The state as plain numbers, windows sorted by start, then end.
    public var windows: [Window] {
        pooled.keys.sorted { ($0.start, $0.end) < ($1.start, $1.end) }.map { key in
            let window = pooled[key]!
            return Window(
                start: key.start,
                end: key.end,
                itemCount: window.itemCount,
                counts: window.sums.stateCounts + [window.maseCount],
                sums: window.sums.stateSums + [window.maseSum.high, window.maseSum.low]
            )
        }
    }

    /// Bit-exact equality of the windows' numbers and the series count.
    public static func == (lhs: PredictorMetricsState, rhs: PredictorMetricsState) -> Bool {
        lhs.quantileCount == rhs.quantileCount && lhs.seriesCount == rhs.seriesCount && lhs.windows == rhs.windows
    }

    /// Adds the state of other series (another shard's). Windows are matched by start and end.
    public mutating func merge(_ other: PredictorMetricsState) {
        precondition(other.quantileCount == quantileCount, "merging metric states of different schemas")
        for (key, window) in other.pooled {
            if let index = pooled.index(forKey: key) {
                pooled.values[index].merge(window)
            } else {
                pooled[key] = window
            }
        }
        seriesCount += other.seriesCount
    }

    /// Adds one series' window (the accumulator calls this as it emits a series).
    mutating func absorb(_ window: WindowSums, mase: Double?) {
        let key = WindowKey(start: window.start, end: window.end)
        if let index = pooled.index(forKey: key) {
            pooled.values[index].absorb(window, mase: mase)
        } else {
            var fresh = Pooled(quantileCount: quantileCount, key: key)
            fresh.absorb(window, mase: mase)
            pooled[key] = fresh
        }
    }

    /// The predictor-level metrics of this state (see ``PredictorMetrics`` for the rules).
    /// O(windows × metrics).
    public func metrics(schema: ExportSchema) -> PredictorMetrics {
        let layout = MetricsLayout(schema: schema)
        let keys = pooled.keys.sorted { ($0.start, $0.end) < ($1.start, $1.end) }
        var values = [Double?](repeating: nil, count: layout.metricCount)
        var sums = [Double](repeating: 0, count: layout.metricCount)
        var counts = [Int](repeating: 0, count: layout.metricCount)
        var windows: [PredictorMetrics.Window] = []
        windows.reserveCapacity(keys.count)
        for key in keys {
            let window = pooled[key]!
            window.sums.metrics(into: &values, layout: layout, wapeMode: .normalized, scale: nil)
            values[layout.maseIndex] = window.maseCount > 0 ? window.maseSum.value / Double(window.maseCount) : nil
            for i in values.indices {
                if let v = values[i] {
                    sums[i] += v
                    counts[i] += 1
                }
            }
            windows.append(.init(start: key.start, end: key.end, itemCount: window.itemCount, values: values))
        }
        let summary = sums.indices.map { counts[$0] > 0 ? sums[$0] / Double(counts[$0]) : nil }
        return PredictorMetrics(
            metricNames: schema.metricNames,
            windows: windows,
            summary: summary,
            seriesCount: seriesCount
        )
    }
}
