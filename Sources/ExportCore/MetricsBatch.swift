/// Rows of the `accuracy-metrics-values` table, column by column.
///
/// `metrics` holds one column per ``ExportSchema/metricNames`` entry, in that order
/// (`wQL[q]…`, `Average wQL` when there are quantiles, `RMSE`, `WAPE`, `MAPE`, `MASE`);
/// a missing value means `not defined`.
public struct MetricsBatch: ColumnarBatch, Sendable {
    public var series: [SeriesKey] = []
    public var seriesIndex: [Int32] = []
    public var backtestWindow: [BacktestWindow] = []
    public var windowStart: [Int64] = []
    public var windowEnd: [Int64] = []
    public var metrics: [DoubleColumn]

    public init(metricCount: Int) {
        metrics = Array(repeating: DoubleColumn(), count: metricCount)
    }

    public var rowCount: Int { seriesIndex.count }

    public func sharesColumns(with other: MetricsBatch) -> Bool {
        series.isSameStorage(as: other.series) && seriesIndex.isSameStorage(as: other.seriesIndex)
            && backtestWindow.isSameStorage(as: other.backtestWindow)
            && windowStart.isSameStorage(as: other.windowStart) && windowEnd.isSameStorage(as: other.windowEnd)
            && metrics.isSameStorage(as: other.metrics)
    }

    public var valueColumns: [BatchColumn] {
        [.backtestWindows(backtestWindow), .times(windowStart), .times(windowEnd)] + metrics.map { .doubles($0) }
    }

    /// Appends one row; a series equal to the last row's reuses its entry in ``series``.
    public mutating func append(
        series key: SeriesKey,
        window: BacktestWindow,
        windowStart: Int64,
        windowEnd: Int64,
        metrics values: [Double?]
    ) {
        precondition(values.count == metrics.count, "one value per metric column")
        seriesIndex.append(series.index(forAppending: key, after: seriesIndex.last))
        backtestWindow.append(window)
        self.windowStart.append(windowStart)
        self.windowEnd.append(windowEnd)
        for i in values.indices { metrics[i].append(values[i]) }
    }
}
