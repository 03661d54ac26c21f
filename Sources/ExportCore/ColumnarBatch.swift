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
    /// Whether `other` is this batch: every column it encodes (series, series index, value columns)
    /// is the same storage, so rows of the two can be encoded as rows of one. Conservative: false
    /// when it cannot tell cheaply (the default). Cost: a few pointer comparisons, no copy.
    func sharesColumns(with other: Self) -> Bool
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
    public func sharesColumns(with other: Self) -> Bool { false }

    /// `pieces` with each run of adjacent row ranges of one batch (``sharesColumns(with:)``) merged
    /// into one range: the same rows in the same order, for encoders whose cost is partly per
    /// piece (a series of three metrics rows is a piece of its own). O(pieces).
    @_specialize(exported:true,where Self == ForecastBatch)
    @_specialize(exported:true,where Self == MetricsBatch)
    public static func coalescing(_ pieces: [(batch: Self, rows: Range<Int>)]) -> [(batch: Self, rows: Range<Int>)] {
        guard pieces.count > 1 else { return pieces }
        var merged: [(batch: Self, rows: Range<Int>)] = []
        merged.reserveCapacity(pieces.count)
        var current = pieces[0]
        for piece in pieces.dropFirst() {
            if piece.rows.lowerBound == current.rows.upperBound && current.batch.sharesColumns(with: piece.batch) {
                current.rows = current.rows.lowerBound..<piece.rows.upperBound
            } else {
                merged.append(current)
                current = piece
            }
        }
        merged.append(current)
        return merged
    }

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

extension Array {
    /// Whether this array and `other` are one storage (a copy not written to since): then they hold
    /// the same elements. False for two distinct storages, even with equal elements. O(1).
    func isSameStorage(as other: [Element]) -> Bool {
        count == other.count
            && withUnsafeBufferPointer { mine in
                other.withUnsafeBufferPointer { theirs in mine.baseAddress == theirs.baseAddress }
            }
    }
}

extension Optional {
    /// Both nil, or both arrays of one storage (``Array/isSameStorage(as:)``).
    func isSameStorage<Element>(as other: [Element]?) -> Bool where Wrapped == [Element] {
        switch (self, other) {
        case (nil, nil): true
        case (let mine?, let theirs?): mine.isSameStorage(as: theirs)
        default: false
        }
    }
}

extension DoubleColumn {
    /// Whether both columns are one storage (values and presence flags).
    func isSameStorage(as other: DoubleColumn) -> Bool {
        values.isSameStorage(as: other.values) && isPresent.isSameStorage(as: other.isPresent)
    }
}
