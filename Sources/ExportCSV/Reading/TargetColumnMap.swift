package import ExportCore

/// Where each column of a target-time-series (`--history`) file is, found by name in its header.
///
/// Positions are 0-based field numbers in the file. Column order in the file is free.
public struct TargetColumnMap: Sendable, Equatable {
    /// The header's column names, in file order.
    public let names: [String]
    public let itemId: Int
    /// The dimension columns, in key order: the expected dimensions' order when the reader was
    /// given them, else the file's order.
    public let dimensions: [Int]
    public let timestamp: Int
    public let targetValue: Int

    /// The columns every target-time-series file must have.
    public static let requiredColumns = ["item_id", "timestamp", "target_value"]

    /// Maps `header`: every column other than the required ones and a pandas or Dask index column
    /// (``BacktestColumnMap/isIndexColumn(_:)``) is a dimension. With
    /// `expectedDimensions`, the file's dimension names must be exactly those (in any order) and
    /// the map lists them in that order.
    package static func map(_ header: CSVHeader, expectedDimensions: [String]?) throws(ExportError) -> TargetColumnMap {
        let required = Set(requiredColumns)
        var found: [String] = []
        var positions: [Int] = []
        for (i, name) in header.names.enumerated() where !required.contains(name) {
            // A pandas or Dask index column holds row labels: not a dimension unless expected.
            if BacktestColumnMap.isIndexColumn(name) && expectedDimensions?.contains(name) != true { continue }
            found.append(name)
            positions.append(i)
        }
        if let expectedDimensions {
            guard Set(found) == Set(expectedDimensions) && found.count == expectedDimensions.count else {
                func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
                throw header.error(
                    .input,
                    "The history file's dimensions (\(list(found))) differ from the forecast file's"
                        + " (\(list(expectedDimensions))): a history file has item_id, the same dimension"
                        + " columns, timestamp and target_value"
                )
            }
            positions = expectedDimensions.map { header.position(of: $0) }
        }
        return TargetColumnMap(
            names: header.names,
            itemId: header.position(of: "item_id"),
            dimensions: positions,
            timestamp: header.position(of: "timestamp"),
            targetValue: header.position(of: "target_value")
        )
    }
}
