/// The target time series per series, the `--history` input MASE's scale comes from.
///
/// Holds, per series, its (timestamp, value) points sorted by timestamp: 16 bytes per point plus
/// one entry per series; everything is in memory.
///
/// - Missing values: a row whose `target_value` is missing or NaN is dropped. It is not filled:
///   a seasonal pair needs both of its points, so a gap removes the pairs that would use it.
/// - Duplicates: a series' timestamp given twice with the same value counts once (overlapping
///   history files); with two different values it is ambiguous, and ``conflict`` records the
///   first such pair (``validate(source:)`` turns it into an input error): which value MASE used
///   would otherwise depend on the rows' order.
/// - Rows may arrive in any order and in any number of ``add(_:)`` calls.
public struct TargetHistory: Sendable {
    struct Series: Sendable {
        var timestamps: [Int64] = []
        var values: [Double] = []
        /// Whether ``timestamps`` is strictly increasing.
        var isOrdered = true

        /// Sorts by timestamp and keeps one value of each timestamp; returns the first timestamp
        /// given two different values, with both (smaller first). O(n log n), or about O(n) when
        /// a sorted run was appended to a sorted prefix.
        mutating func normalize() -> (timestamp: Int64, values: (Double, Double))? {
            var conflict: (timestamp: Int64, values: (Double, Double))?
            guard !isOrdered else { return nil }
            let order = timestamps.indices.sorted { (timestamps[$0], $0) < (timestamps[$1], $1) }
            var t: [Int64] = []
            var v: [Double] = []
            t.reserveCapacity(order.count)
            v.reserveCapacity(order.count)
            for i in order {
                if t.last == timestamps[i] {
                    let (kept, other) = (v[v.count - 1], values[i])
                    if kept != other && conflict == nil {
                        conflict = (timestamps[i], (min(kept, other), max(kept, other)))
                    }
                } else {
                    t.append(timestamps[i])
                    v.append(values[i])
                }
            }
            timestamps = t
            values = v
            isOrdered = true
            return conflict
        }
    }

    private var series: [SeriesKey: Series] = [:]

    /// The first series and timestamp met with two different target values (the smaller value
    /// first), or nil. The history keeps one of them; ``validate(source:)`` refuses it.
    public private(set) var conflict: (key: SeriesKey, timestamp: Int64, values: (Double, Double))?

    public init() {}

    /// Adds a batch of target rows. O(rows) when each series' rows arrive in increasing time;
    /// a series whose new rows are out of order is re-sorted once at the end of the call.
    public mutating func add(_ batch: TargetBatch) {
        var touchedOutOfOrder: Set<SeriesKey> = []
        var r = 0
        let n = batch.rowCount
        while r < n {
            let index = batch.seriesIndex[r]
            var end = r + 1
            while end < n && batch.seriesIndex[end] == index { end += 1 }
            let key = batch.series[Int(index)]
            var entry = series.removeValue(forKey: key) ?? Series()
            for row in r..<end {
                guard let value = batch.target[row], !value.isNaN else { continue }
                let t = batch.timestamp[row]
                if let last = entry.timestamps.last, t <= last, entry.isOrdered {
                    entry.isOrdered = false
                    touchedOutOfOrder.insert(key)
                }
                entry.timestamps.append(t)
                entry.values.append(value)
            }
            series[key] = entry
            r = end
        }
        for key in touchedOutOfOrder {
            if let found = series[key]!.normalize(), conflict == nil {
                conflict = (key, found.timestamp, found.values)
            }
        }
    }

    /// Throws an input error when ``conflict`` is set: `source` names the history input.
    public func validate(source: String) throws(ExportError) {
        guard let conflict else { return }
        throw .input(
            "The history \(source) gives series \(conflict.key) two different target values at"
                + " \(CivilTime.text(ofMilliseconds: conflict.timestamp))"
                + " (\(conflict.values.0) and \(conflict.values.1)): each series and timestamp must appear once"
                + " (or repeat the same value)"
        )
    }

    /// Number of series with at least one point.
    public var seriesCount: Int { series.values.lazy.filter { !$0.timestamps.isEmpty }.count }

    /// Number of points held (missing values and duplicates excluded).
    public var pointCount: Int { series.values.reduce(0) { $0 + $1.timestamps.count } }

    /// The sorted points of one series; nil when the history has none for it.
    public func points(of key: SeriesKey) -> (timestamps: [Int64], values: [Double])? {
        guard let entry = series[key], !entry.timestamps.isEmpty else { return nil }
        return (entry.timestamps, entry.values)
    }

    /// The finest frequency that ``Frequency/infer(fromSortedTimestamps:)`` finds in any series;
    /// nil when none has a recognisable step. O(points).
    public func inferredFrequency() -> Frequency? {
        var finest: Frequency?
        for entry in series.values {
            guard let f = Frequency.infer(fromSortedTimestamps: entry.timestamps) else { continue }
            if finest == nil || f.approximateMilliseconds < finest!.approximateMilliseconds { finest = f }
        }
        return finest
    }

    /// MASE's scale for each window start of one series: the mean of `|y_t − y_{t−m}|` over every
    /// pair of history points whose earlier point is exactly `m` periods
    /// (``Frequency/seasonalLagInstant(before:)``) before the later one and whose later point
    /// `t` is strictly before the window start. Nil for a start with no such pair (or a series
    /// without history). The result may be 0; the caller decides what a zero scale means.
    ///
    /// One pass over the series' points (two pointers), O(points + starts·log starts).
    public func seasonalScales(of key: SeriesKey, windowStarts: [Int64], frequency: Frequency) -> [Double?] {
        var result = [Double?](repeating: nil, count: windowStarts.count)
        guard let entry = series[key], entry.timestamps.count > 1, !windowStarts.isEmpty else { return result }
        let t = entry.timestamps
        let v = entry.values
        let order = windowStarts.indices.sorted { windowStarts[$0] < windowStarts[$1] }
        var next = 0  // position in `order`
        var sum = CompensatedSum()
        var count = 0
        var j = 0
        for i in t.indices {
            while next < order.count && windowStarts[order[next]] <= t[i] {
                if count > 0 { result[order[next]] = sum.value / Double(count) }
                next += 1
            }
            if next == order.count { break }
            let lag = frequency.seasonalLagInstant(before: t[i])
            while j < i && t[j] < lag { j += 1 }
            if j < i && t[j] == lag {
                sum.add(abs(v[i] - v[j]))
                count += 1
            }
        }
        while next < order.count {
            if count > 0 { result[order[next]] = sum.value / Double(count) }
            next += 1
        }
        return result
    }
}
