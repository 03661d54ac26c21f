/// Rows of a target time series (the `--history` input for MASE): `item_id, <dims>, timestamp,
/// target_value`, column by column. Times are milliseconds since the epoch, UTC.
public struct TargetBatch: Sendable {
    public var series: [SeriesKey] = []
    public var seriesIndex: [Int32] = []
    public var timestamp: [Int64] = []
    public var target = DoubleColumn()

    public init() {}

    public var rowCount: Int { seriesIndex.count }

    /// Appends one row; a series equal to the last row's reuses its entry in ``series``.
    public mutating func append(series key: SeriesKey, timestamp: Int64, target: Double?) {
        seriesIndex.append(series.index(forAppending: key, after: seriesIndex.last))
        self.timestamp.append(timestamp)
        self.target.append(target)
    }
}
