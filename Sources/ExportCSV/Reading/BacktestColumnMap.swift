package import ExportCore

/// Where each column of a backtest-forecast input file is, found by name in its header.
///
/// Positions are 0-based field numbers in the file. Column order in the file is free.
public struct BacktestColumnMap: Sendable, Equatable {
    /// The header's column names, in file order.
    public let names: [String]
    public let itemId: Int
    /// The dimension columns, in the schema's order (the file's order).
    public let dimensions: [Int]
    public let timestamp: Int
    public let targetValue: Int
    public let windowStart: Int
    public let windowEnd: Int
    /// The forecast-type columns, in the schema's order (the file's order).
    public let forecastTypes: [Int]

    /// The columns every backtest-forecast file must have.
    public static let requiredColumns = [
        "item_id", "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time",
    ]

    /// Maps `header` and derives the schema: forecast types are the columns named
    /// `^[pP]\d+$|^mean$`, every other non-required column is a dimension.
    package static func map(_ header: CSVHeader) throws(ExportError) -> (BacktestColumnMap, ExportSchema) {
        var dimensionNames: [String] = []
        var dimensions: [Int] = []
        var types: [ForecastType] = []
        var typeColumns: [Int] = []
        let required = Set(requiredColumns)
        for (i, name) in header.names.enumerated() where !required.contains(name) {
            let type: ForecastType?
            do {
                type = try ForecastType(columnName: name)
            } catch {
                throw header.error(error.code, error.message, column: i)
            }
            if let type {
                if let other = types.firstIndex(of: type) {
                    throw header.error(
                        .input,
                        "Forecast type '\(name)' appears twice: column \(typeColumns[other] + 1) is the same quantile",
                        column: i
                    )
                }
                types.append(type)
                typeColumns.append(i)
            } else {
                if name == "backtest_window" {
                    throw header.error(
                        .input,
                        "Column name 'backtest_window' is reserved for the accuracy metrics; rename the column",
                        column: i
                    )
                }
                dimensionNames.append(name)
                dimensions.append(i)
            }
        }
        guard !types.isEmpty else {
            throw header.error(
                .input,
                "No forecast-type column: the header needs at least one column named mean or p<N> (p1…p99);"
                    + " the header has: " + header.names.joined(separator: ", ")
            )
        }
        let schema: ExportSchema
        do {
            schema = try ExportSchema(dimensions: dimensionNames, forecastTypes: types)
        } catch {
            throw header.error(error.code, error.message)
        }
        let map = BacktestColumnMap(
            names: header.names,
            itemId: header.position(of: "item_id"),
            dimensions: dimensions,
            timestamp: header.position(of: "timestamp"),
            targetValue: header.position(of: "target_value"),
            windowStart: header.position(of: "backtestwindow_start_time"),
            windowEnd: header.position(of: "backtestwindow_end_time"),
            forecastTypes: typeColumns
        )
        return (map, schema)
    }
}
