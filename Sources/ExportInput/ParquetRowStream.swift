import ExportCore
import ExportParquet

/// Walks the row groups of a Parquet file in step over chosen columns, in groups (for example the
/// keys, the times and the values): a cursor per column, opened one row group at a time, and
/// runs of rows that every cursor's current page holds. Shared by the forecast and history readers.
///
/// Use: ``nextRun(limit:)`` gives `n` rows, at each cursor's ``ParquetColumnCursor/position``;
/// read them, then ``consume(_:)`` them. A column chunk holding fewer or more values than its
/// row group's rows is an input error naming the file, row group, row and column.
///
/// Memory: the open cursors (one page per column) of one row group.
struct ParquetRowStream {
    let reader: ParquetReader
    /// The cursors of the current row group, by group, in the order the columns were given.
    private(set) var cursors: [[ParquetColumnCursor]]
    private let columns: [[(column: Int, target: ParquetValueTarget)]]
    private var all: [ParquetColumnCursor] = []
    private var rowGroup = -1
    private var rowsLeftInGroup = 0
    private var finished = false

    /// Checks each column's type against its role (groups in order, then columns in order) and
    /// prepares the walk; opens no row group yet.
    init(reader: ParquetReader, groups: [[(column: Int, role: ParquetColumnRole)]]) throws(ExportError) {
        self.reader = reader
        var columns: [[(column: Int, target: ParquetValueTarget)]] = []
        for group in groups {
            var targets: [(column: Int, target: ParquetValueTarget)] = []
            for entry in group { targets.append((entry.column, try entry.role.target(of: entry.column, in: reader))) }
            columns.append(targets)
        }
        self.columns = columns
        cursors = Array(repeating: [], count: groups.count)
    }

    /// How many rows, at most `limit`, every cursor can hand out from its current page, loading
    /// the next pages and row groups as needed; 0 once the file is exhausted.
    mutating func nextRun(limit: Int) throws(ExportError) -> Int {
        if finished || limit <= 0 { return 0 }
        if rowsLeftInGroup == 0 {
            try finishRowGroup()
            guard try openNextRowGroup() else {
                finished = true
                return 0
            }
        }
        var n = min(limit, rowsLeftInGroup)
        for cursor in all {
            if cursor.available == 0 {
                guard try cursor.nextPage() else {
                    throw .input(
                        "Cannot read Parquet column '\(cursor.columnName)': its pages end before the row group's rows",
                        at: cursor.location(ofRow: 0)
                    )
                }
            }
            n = min(n, cursor.available)
        }
        return n
    }

    /// Marks `n` rows of the last run read, in every cursor.
    mutating func consume(_ n: Int) {
        for cursor in all { cursor.position += n }
        rowsLeftInGroup -= n
    }

    /// Opens the next non-empty row group's cursors; false at the end of the file.
    private mutating func openNextRowGroup() throws(ExportError) -> Bool {
        while rowGroup + 1 < reader.rowGroupCount {
            rowGroup += 1
            rowsLeftInGroup = reader.rowCount(ofRowGroup: rowGroup)
            if rowsLeftInGroup == 0 { continue }
            all = []
            for (g, group) in columns.enumerated() {
                cursors[g] = []
                for entry in group {
                    let cursor = try reader.cursor(rowGroup: rowGroup, column: entry.column, as: entry.target)
                    cursors[g].append(cursor)
                    all.append(cursor)
                }
            }
            return true
        }
        return false
    }

    /// At the end of a row group, every column chunk must be exhausted too.
    private func finishRowGroup() throws(ExportError) {
        for cursor in all {
            if cursor.available == 0 {
                guard try cursor.nextPage() else { continue }
            }
            throw .input(
                "Cannot read Parquet column '\(cursor.columnName)': it holds more values than the row group's rows",
                at: cursor.location(ofRow: cursor.position)
            )
        }
    }
}
