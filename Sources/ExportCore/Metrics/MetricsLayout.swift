/// Where each metric's inputs and outputs are, derived once from an ``ExportSchema``: which
/// forecast columns are quantiles (and their τ), which one is ŷ, and the position of every
/// metric in ``ExportSchema/metricNames``.
struct MetricsLayout: Sendable {
    /// Indices into `ForecastBatch.forecasts` of the quantile columns, by ascending τ (the order
    /// of the `wQL[…]` columns).
    let quantileColumns: [Int]
    /// τ of each quantile column.
    let quantileLevels: [Double]
    /// Index into `ForecastBatch.forecasts` of ŷ (`mean`, else `p50`), if any.
    let pointColumn: Int?

    init(schema: ExportSchema) {
        var columns: [Int] = []
        var levels: [Double] = []
        for i in schema.forecastOutputOrder {
            if let level = schema.forecastTypes[i].quantileLevel {
                columns.append(i)
                levels.append(level)
            }
        }
        quantileColumns = columns
        quantileLevels = levels
        pointColumn = schema.pointForecastIndex
    }

    var quantileCount: Int { quantileColumns.count }
    /// Column of `Average wQL`, present when there is at least one quantile.
    var averageWQLIndex: Int? { quantileCount > 0 ? quantileCount : nil }
    var rmseIndex: Int { quantileCount > 0 ? quantileCount + 1 : 0 }
    var wapeIndex: Int { rmseIndex + 1 }
    var mapeIndex: Int { rmseIndex + 2 }
    var maseIndex: Int { rmseIndex + 3 }
    /// Number of metric columns; equals `schema.metricNames.count`.
    var metricCount: Int { rmseIndex + 4 }
}
