public import ExportCore

/// Where each column of a backtest-forecast input is, found by name, and the schema it implies
/// (SPEC §7). Takes a plain list of column names, so that every input format (CSV header,
/// Parquet schema) maps its columns by the same rules.
///
/// Rules, checked in this order, each failure an input error naming the column's number:
/// - every name non-empty, without surrounding spaces, unique (``ColumnNameRules``);
/// - `item_id`, `timestamp`, `target_value`, `backtestwindow_start_time` and
///   `backtestwindow_end_time` present;
/// - a name shaped like a forecast type (`mean`, `p10`, `P10`, `0.1`, `0.10`) is one, and must
///   name an allowed quantile (``ForecastType/init(columnName:)``): `p50.5`, `p-5`, `0.005` are
///   errors, never dimensions (unless declared dimensions name them explicitly); two spellings of
///   one type (`p10`, `0.1`) are an error;
/// - with declared dimensions, exactly those columns are the dimensions (in the declared order)
///   and any other column is an error; without, every other column is a dimension, in file order;
/// - a pandas or Dask index column (`__index_level_0__`, ``isIndexColumn(_:)``) is ignored unless
///   declared;
/// - `backtest_window` is reserved, and no dimension may be named like a column of either table,
///   ignoring case (``ExportSchema/conflict(ofDimension:forecastTypes:)``); at least one forecast
///   type.
///
/// Positions are 0-based field numbers. Column order in the file is free.
public struct BacktestColumnMap: Sendable, Equatable {
    /// The column names, in file order.
    public let names: [String]
    public let itemId: Int
    /// The dimension columns, in the schema's order.
    public let dimensions: [Int]
    public let timestamp: Int
    public let targetValue: Int
    public let windowStart: Int
    public let windowEnd: Int
    /// The forecast-type columns, in the schema's ``ExportSchema/forecastTypes`` order (the
    /// file's order; the tables write them in Forecast's order).
    public let forecastTypes: [Int]
    /// The schema the columns imply.
    public let schema: ExportSchema

    /// Whether `name` is a column that pandas (`__index_level_0__`, …, for an index without a
    /// name, as `to_parquet` writes it after a filter or a sort) or Dask (`__null_dask_index__`)
    /// adds to hold a data frame's row labels. Such a column is ignored unless `--dimensions`
    /// names it.
    public static func isIndexColumn(_ name: String) -> Bool {
        if name == "__null_dask_index__" { return true }
        let prefix = "__index_level_"
        let suffix = "__"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.utf8.count > prefix.utf8.count + suffix.utf8.count
        else { return false }
        let digits = name.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        return digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The columns every backtest-forecast file must have.
    public static let requiredColumns = [
        "item_id", "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time",
    ]

    /// Maps `names` (the columns of `file` in order, the header at `line`). `declaredDimensions`
    /// (the CLI's `--dimensions`) fixes the dimension columns and their order; nil: every column
    /// that is neither required nor a forecast type.
    public init(
        columnNames names: [String],
        declaredDimensions: [String]? = nil,
        file: String,
        line: Int = 1
    ) throws(ExportError) {
        func at(_ i: Int) -> ExportError.Location {
            .init(file: file, line: line, column: i + 1, columnName: names[i])
        }
        try ColumnNameRules.check(names, file: file, line: line)
        var position: [String: Int] = [:]
        for (i, name) in names.enumerated() { position[name] = i }
        let missing = Self.requiredColumns.filter { position[$0] == nil }
        guard missing.isEmpty else {
            throw .input(
                "Missing required column\(missing.count == 1 ? "" : "s") "
                    + missing.map { "'\($0)'" }.joined(separator: ", ")
                    + "; the header has: " + names.joined(separator: ", "),
                at: .init(file: file, line: line)
            )
        }
        if let declaredDimensions {
            var seen = Set<String>()
            for name in declaredDimensions {
                guard seen.insert(name).inserted else {
                    throw .validation("--dimensions names '\(name)' twice")
                }
                guard position[name] != nil else {
                    throw .input(
                        "Dimension '\(name)' given by --dimensions is not a column of the input;"
                            + " the header has: " + names.joined(separator: ", "),
                        at: .init(file: file, line: line)
                    )
                }
            }
        }
        let required = Set(Self.requiredColumns)
        let declared = declaredDimensions.map(Set.init)
        var dimensionNames: [String] = []
        var dimensions: [Int] = []
        var types: [ForecastType] = []
        var typeColumns: [Int] = []
        for (i, name) in names.enumerated() where !required.contains(name) {
            // Row labels pandas or Dask saved with the data, not data: skipped, so that they do not
            // become a dimension that splits every series row by row.
            if Self.isIndexColumn(name) && declared?.contains(name) != true { continue }
            let type: ForecastType?
            do {
                type = try ForecastType(columnName: name)
            } catch {
                // A name shaped like a quantile but naming none (`2024`, `p50.5`) is an error,
                // unless --dimensions declares it a dimension explicitly.
                guard declared?.contains(name) == true else { throw ExportError(error.code, error.message, at: at(i)) }
                type = nil
            }
            if let type {
                if declared?.contains(name) == true {
                    throw .input(
                        "Column '\(name)' is a forecast type and cannot be a dimension (--dimensions)",
                        at: at(i)
                    )
                }
                if let other = types.firstIndex(of: type) {
                    throw .input(
                        "Forecast type '\(name)' appears twice: column \(typeColumns[other] + 1)"
                            + " ('\(names[typeColumns[other]])') is the same forecast type (\(type))",
                        at: at(i)
                    )
                }
                types.append(type)
                typeColumns.append(i)
                continue
            }
            if name == "backtest_window" {
                throw .input(
                    "Column name 'backtest_window' is reserved for the accuracy metrics; rename the column",
                    at: at(i)
                )
            }
            if let declared {
                guard declared.contains(name) else {
                    throw .input(
                        "Column '\(name)' is neither a required column, a forecast type (mean, p10, 0.1, …)"
                            + " nor a dimension named by --dimensions",
                        at: at(i)
                    )
                }
                continue
            }
            if let ambiguity = LookalikeColumnNames.ambiguity(of: name, requiredColumns: Self.requiredColumns) {
                throw .input(ambiguity, at: at(i))
            }
            dimensionNames.append(name)
            dimensions.append(i)
        }
        if let declaredDimensions {
            dimensionNames = declaredDimensions
            dimensions = declaredDimensions.map { position[$0]! }
        }
        guard !types.isEmpty else {
            throw .input(
                "No forecast-type column: the input needs at least one column named mean, p<N> (p1…p99)"
                    + " or a quantile such as 0.1; the header has: " + names.joined(separator: ", "),
                at: .init(file: file, line: line)
            )
        }
        // A dimension named like another column of either table (`RMSE`, `Timestamp`, `wql[0.5]`),
        // located here; the schema checks the same and the rest.
        for (name, i) in zip(dimensionNames, dimensions) {
            if let conflict = ExportSchema.conflict(ofDimension: name, forecastTypes: types) {
                throw .input(conflict, at: at(i))
            }
        }
        do {
            schema = try ExportSchema(dimensions: dimensionNames, forecastTypes: types)
        } catch {
            throw ExportError(.input, error.message, at: .init(file: file, line: line))
        }
        self.names = names
        itemId = position["item_id"]!
        self.dimensions = dimensions
        timestamp = position["timestamp"]!
        targetValue = position["target_value"]!
        windowStart = position["backtestwindow_start_time"]!
        windowEnd = position["backtestwindow_end_time"]!
        forecastTypes = typeColumns
    }
}

extension BacktestColumnMap {
    /// A map with every position given (a later file of a multi-file input, aligned to the first).
    package init(
        names: [String],
        itemId: Int,
        dimensions: [Int],
        timestamp: Int,
        targetValue: Int,
        windowStart: Int,
        windowEnd: Int,
        forecastTypes: [Int],
        schema: ExportSchema
    ) {
        self.names = names
        self.itemId = itemId
        self.dimensions = dimensions
        self.timestamp = timestamp
        self.targetValue = targetValue
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.forecastTypes = forecastTypes
        self.schema = schema
    }

    /// Maps a checked header (a CSV header line or a Parquet file's column names) and returns the
    /// schema it implies, by the rules of ``init(columnNames:declaredDimensions:file:line:)``.
    package static func map(
        _ header: CSVHeader,
        declaredDimensions: [String]? = nil
    ) throws(ExportError) -> (BacktestColumnMap, ExportSchema) {
        let map = try BacktestColumnMap(
            columnNames: header.names,
            declaredDimensions: declaredDimensions,
            file: header.path,
            line: header.line
        )
        return (map, map.schema)
    }
}
