/// What shapes a backtest export: the dimensions that identify a series next to `item_id`, and
/// the forecast types. Both tables' column lists derive from it.
///
/// ``forecastTypes`` is the order of the forecast columns in a ``ForecastBatch`` (the input's
/// order); the tables always write them in Forecast's order (``outputForecastTypes``: `mean`, then
/// the quantiles ascending), whatever that input order is (SPEC §4).
public struct ExportSchema: Sendable, Equatable {
    public var dimensions: [String]
    /// The forecast types in batch (input) order.
    public var forecastTypes: [ForecastType]

    /// The CSV spelling of a metric that is not defined.
    public static let notDefined = "not defined"

    public init(dimensions: [String] = [], forecastTypes: [ForecastType]) throws(ExportError) {
        guard !forecastTypes.isEmpty else {
            throw .validation("No forecast types: the input needs at least one column named mean or p<N> (p1…p99)")
        }
        var seen = Set<ForecastType>()
        for type in forecastTypes where !seen.insert(type).inserted {
            throw .validation("Forecast type '\(type)' appears twice")
        }
        var seenDimensions: [String: String] = [:]
        for d in dimensions {
            guard !d.isEmpty else { throw .validation("A dimension column has an empty name") }
            if let conflict = Self.conflict(ofDimension: d, forecastTypes: forecastTypes) {
                throw .validation(conflict)
            }
            if let other = seenDimensions.updateValue(d, forKey: d.lowercased()) {
                throw .validation(
                    other == d
                        ? "Dimension '\(d)' appears twice"
                        : "Dimensions '\(other)' and '\(d)' differ only in case: \(Self.caseRule)"
                )
            }
        }
        self.dimensions = dimensions
        self.forecastTypes = forecastTypes
    }

    /// Why a dimension named `name` cannot be one next to `forecastTypes`, or nil when it can.
    ///
    /// A dimension is a column of both tables, so its name must differ from every other column of
    /// either: `item_id`, the window and value columns, the forecast types, `backtest_window` and
    /// the metrics (`RMSE`, `wQL[0.5]`, …). Names are compared ignoring case, as Athena, Glue and
    /// DuckDB do: a dimension `rmse` would make the metrics table unreadable there, as `RMSE`
    /// would make its Parquet part unreadable by pyarrow and polars.
    public static func conflict(ofDimension name: String, forecastTypes: [ForecastType]) -> String? {
        let folded = name.lowercased()
        let forecast = ["item_id", "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time"]
        let metrics =
            ["backtest_window"] + Self.metricNames(quantiles: forecastTypes.filter { $0.quantileLevel != nil })
        let table: String
        let column: String
        if let match = (forecast + forecastTypes.map(\.columnName)).first(where: { $0.lowercased() == folded }) {
            (table, column) = ("forecasted-values", match)
        } else if let match = metrics.first(where: { $0.lowercased() == folded }) {
            (table, column) = ("accuracy-metrics-values", match)
        } else {
            return nil
        }
        return "Dimension '\(name)' has the name of the \(table) column '\(column)': \(Self.caseRule);"
            + " rename the input column"
    }

    private static let caseRule =
        "the tables' column names must differ, ignoring case (as Athena, Glue and DuckDB compare them)"

    /// Indices into ``forecastTypes`` in output order: `mean` first, then quantiles ascending.
    public var forecastOutputOrder: [Int] { forecastTypes.indices.sorted { forecastTypes[$0] < forecastTypes[$1] } }

    /// The forecast types in output order (`mean,p10,p50,p90`): the `forecasted-values` columns.
    public var outputForecastTypes: [ForecastType] { forecastTypes.sorted() }

    /// The quantile forecast types, ascending (the ones that get a `wQL[…]` column, in that order).
    public var quantiles: [ForecastType] { outputForecastTypes.filter { $0.quantileLevel != nil } }

    /// Index in ``forecastTypes`` of the point forecast ŷ: `mean`, or `p50` where there is no mean.
    /// Nil when there is neither (RMSE, WAPE, MAPE and MASE are then not defined).
    public var pointForecastIndex: Int? {
        forecastTypes.firstIndex(of: .mean) ?? forecastTypes.firstIndex(of: .quantile(hundredths: 50))
    }

    /// `item_id`, then the dimensions.
    public var keyColumns: [String] { ["item_id"] + dimensions }

    /// `forecasted-values`: `item_id, <dims>, timestamp, target_value, backtestwindow_start_time,
    /// backtestwindow_end_time, <forecast types in output order>`; the batch's forecast columns
    /// (in ``forecastTypes`` order) are mapped onto them through ``TableSchema/batchColumnIndex``.
    public var forecastedValues: TableSchema {
        let order = forecastOutputOrder
        return TableSchema(
            keyColumns: keyColumns,
            valueColumns: [
                .init(name: "timestamp", kind: .instant),
                .init(name: "target_value", kind: .double(missingText: "")),
                .init(name: "backtestwindow_start_time", kind: .windowTime),
                .init(name: "backtestwindow_end_time", kind: .windowTime),
            ] + order.map { .init(name: forecastTypes[$0].columnName, kind: .double(missingText: "")) },
            batchColumnIndex: [0, 1, 2, 3] + order.map { 4 + $0 }
        )
    }

    /// The metric column names after the window columns: `wQL[<q>]…, Average wQL, RMSE, WAPE, MAPE, MASE`.
    public var metricNames: [String] { Self.metricNames(quantiles: quantiles) }

    /// The metric column names for quantile forecast types `quantiles`, in that order.
    private static func metricNames(quantiles: [ForecastType]) -> [String] {
        let q = quantiles.compactMap { $0.shortQuantileText.map { "wQL[\($0)]" } }
        return q + (q.isEmpty ? [] : ["Average wQL"]) + ["RMSE", "WAPE", "MAPE", "MASE"]
    }

    /// `accuracy-metrics-values`: `item_id, <dims>, backtest_window, backtestwindow_start_time,
    /// backtestwindow_end_time, <metrics>`.
    public var accuracyMetrics: TableSchema {
        TableSchema(
            keyColumns: keyColumns,
            valueColumns: [
                .init(name: "backtest_window", kind: .backtestWindow),
                .init(name: "backtestwindow_start_time", kind: .windowTime),
                .init(name: "backtestwindow_end_time", kind: .windowTime),
            ] + metricNames.map { .init(name: $0, kind: .double(missingText: Self.notDefined)) }
        )
    }

    public func tableSchema(for table: ExportTable) -> TableSchema {
        switch table {
        case .forecastedValues: forecastedValues
        case .accuracyMetricsValues: accuracyMetrics
        }
    }
}
