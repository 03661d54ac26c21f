/// Rows of one output table held column by column, the unit every encoder consumes.
///
/// Series keys are stored once per series (``series``) and referenced per row (``seriesIndex``):
/// encoders quote or dictionary-encode a key once, not once per row. ``valueColumns`` has one
/// entry per ``TableSchema/valueColumns`` entry of the table, in the batch's order, which
/// ``TableSchema/batchColumnIndex`` maps onto the table's (``TableSchema/outputColumns(of:)``).
public protocol ColumnarBatch {
    var rowCount: Int { get }
    /// The distinct series this batch refers to.
    var series: [SeriesKey] { get }
    /// Per row, an index into ``series``.
    var seriesIndex: [Int32] { get }
    /// The value columns, in batch order (forecast columns in ``ExportSchema/forecastTypes`` order).
    var valueColumns: [BatchColumn] { get }
}

/// The data of one value column. Arrays are shared (copy-on-write), so building this is O(1).
public enum BatchColumn: Sendable {
    /// Milliseconds since 1970-01-01T00:00:00Z, for ``TableSchema/ValueKind/instant`` and
    /// ``TableSchema/ValueKind/windowTime`` columns.
    case times([Int64])
    /// The `backtest_window` labels.
    case backtestWindows([BacktestWindow])
    /// Optional doubles.
    case doubles(DoubleColumn)
}

/// The `backtest_window` label of an accuracy-metrics row.
public enum BacktestWindow: UInt8, Sendable, Hashable {
    /// One row per series per window.
    case computed = 0
    /// One row per series: the mean of its defined computed values.
    case summary = 1

    /// `Computed` or `Summary`.
    public var label: String {
        switch self {
        case .computed: "Computed"
        case .summary: "Summary"
        }
    }
}

extension ColumnarBatch {
    /// The row ranges in which consecutive rows share a series, in row order.
    /// O(rows), no allocation beyond the result.
    public func seriesRuns(in rows: Range<Int>? = nil) -> [Range<Int>] {
        let rows = rows ?? 0..<rowCount
        guard !rows.isEmpty else { return [] }
        var runs: [Range<Int>] = []
        let index = seriesIndex
        var start = rows.lowerBound
        for row in (rows.lowerBound + 1)..<rows.upperBound where index[row] != index[row - 1] {
            runs.append(start..<row)
            start = row
        }
        runs.append(start..<rows.upperBound)
        return runs
    }
}
