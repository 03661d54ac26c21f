/// The two tables of a backtest export, each in a folder of its own.
public enum ExportTable: String, Sendable, CaseIterable {
    case forecastedValues = "forecasted-values"
    case accuracyMetricsValues = "accuracy-metrics-values"

    /// The folder's name under the destination, as Amazon Forecast names it.
    public var folderName: String { rawValue }
}
