/// Predictor-level accuracy: every series pooled, per backtest window and over all windows, the
/// figures Amazon Forecast's `GetAccuracyMetrics` reports. For the manifest and the CLI summary.
///
/// Per window (windows are matched across series by their exact start and end):
/// - `wQL[τ]`, `RMSE`, `WAPE`, `MAPE` use the sums of all series' points in that window, with
///   the per-series rules (points without an actual or without the needed forecast left out).
///   `WAPE` is always normalized (`Σ|y−ŷ| / Σ|y|`, the numerator alone where `Σ|y|` is 0), whatever
///   ``WAPEMode`` the per-series rows use: a pooled absolute sum would only measure data volume.
/// - `Average wQL` is the mean of the window's pooled `wQL` values.
/// - `MASE` is the mean of the series' defined `MASE` values in that window (MASE scales differ
///   per series, so pooled errors cannot share one denominator); not defined when no series has one.
///
/// ``summary`` is the mean over windows of each metric's defined window values.
public struct PredictorMetrics: Sendable, Equatable {
    /// One backtest window, pooled over series.
    public struct Window: Sendable, Equatable {
        public var start: Int64
        public var end: Int64
        /// Series with at least one point with an actual in this window.
        public var itemCount: Int
        /// One value per ``PredictorMetrics/metricNames`` entry; nil = not defined.
        public var values: [Double?]

        public init(start: Int64, end: Int64, itemCount: Int, values: [Double?]) {
            self.start = start
            self.end = end
            self.itemCount = itemCount
            self.values = values
        }
    }

    /// ``ExportSchema/metricNames``.
    public var metricNames: [String]
    /// Sorted by start, then end.
    public var windows: [Window]
    /// Mean over ``windows`` of each metric's defined values; nil where no window defines it.
    public var summary: [Double?]
    /// Series whose metrics went into these figures.
    public var seriesCount: Int

    public init(metricNames: [String], windows: [Window], summary: [Double?], seriesCount: Int) {
        self.metricNames = metricNames
        self.windows = windows
        self.summary = summary
        self.seriesCount = seriesCount
    }

    /// The summary value of a metric by its column name (`"RMSE"`, `"wQL[0.5]"`); nil when not
    /// defined or not a metric of this schema.
    public func summaryValue(_ metric: String) -> Double? {
        metricNames.firstIndex(of: metric).flatMap { summary[$0] }
    }
}
