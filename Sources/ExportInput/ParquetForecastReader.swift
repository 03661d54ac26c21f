public import ExportCSV
public import ExportCore
public import ExportParquet

/// Streams a backtest-forecast Parquet file as ``ForecastBatch``es of up to ``batchSize`` rows, in
/// file order: the Parquet counterpart of ``BacktestCSVReader``.
///
/// Columns are found by name with the CSV reader's rules (``BacktestColumnMap``): required columns,
/// forecast types, every other column a dimension. Accepted column types (``ParquetColumnRole``):
/// key columns (`item_id`, dimensions) strings or integers (written in decimal); the three time
/// columns timestamps of any unit (floored to the millisecond), INT96, dates, or strings in the
/// CSV timestamp forms; value columns doubles, floats, integers, or strings in the CSV number
/// forms. A null value is a missing value; a null time is an error. Errors name the file, the row
/// group and the row within it (`file:rowgroup:row`) and the column.
///
/// Memory: one page per column and one batch; row groups are read one at a time, page by page.
public struct ParquetForecastReader {
    public let path: String
    public let schema: ExportSchema
    public let columns: BacktestColumnMap
    public let batchSize: Int
    /// The file's columns, for checking later files of the same input against.
    public var inputColumns: InputColumns { InputColumns(file: path, names: columns.names, schema: schema) }

    /// Groups: item_id and dimensions, then timestamp, window start, window end, then
    /// target_value and the forecast types.
    private var rows: ParquetRowStream
    /// Rows handed out so far: the next row's 1-based number in the file is this plus one.
    private var rowsHandedOut: Int64 = 0
    private let valueCount: Int
    private let keys: ParquetKeyColumns

    /// Opens `path`, reads its footer and maps its columns. With `reference` (an earlier file of the
    /// same input), the file must have the same column names, and batches follow that schema.
    public init(
        path: String,
        matching reference: InputColumns? = nil,
        dimensions: [String]? = nil,
        batchSize: Int = 65_536
    ) throws(ExportError) {
        guard batchSize > 0 else { throw .validation("The batch size must be positive, got \(batchSize)") }
        try self.init(
            reader: ParquetReader(path: path),
            matching: reference,
            dimensions: dimensions,
            batchSize: batchSize
        )
    }

    /// Maps the columns of an open file (its ``ParquetReader/path`` names it in errors).
    public init(
        reader: ParquetReader,
        matching reference: InputColumns? = nil,
        dimensions: [String]? = nil,
        batchSize: Int = 65_536
    ) throws(ExportError) {
        guard batchSize > 0 else { throw .validation("The batch size must be positive, got \(batchSize)") }
        let path = reader.path
        let header = try CSVHeader(
            names: reader.columnNames,
            path: path,
            line: 1,
            expecting: BacktestColumnMap.requiredColumns
        )
        let (columns, schema) = try BacktestColumnMap.map(
            header,
            matching: reference,
            declaredDimensions: dimensions
        )
        self.path = path
        self.columns = columns
        self.schema = schema
        self.batchSize = batchSize
        let keyColumns = [columns.itemId] + columns.dimensions
        let valueColumns = [columns.targetValue] + columns.forecastTypes
        rows = try ParquetRowStream(
            reader: reader,
            groups: [
                keyColumns.map { ($0, .key) },
                [columns.timestamp, columns.windowStart, columns.windowEnd].map { ($0, .time) },
                valueColumns.map { ($0, .value) },
            ]
        )
        valueCount = valueColumns.count
        keys = ParquetKeyColumns(count: keyColumns.count)
    }

    /// The window rules of a CSV input, for the last `n` rows appended (one pass): a window ends at
    /// or after its start, its bounds are whole seconds, and the row's timestamp lies within it.
    /// Errors name the row and the column at fault (`cursors`: timestamp, start, end).
    private static func checkWindows(
        _ timestamps: [Int64],
        _ starts: [Int64],
        _ ends: [Int64],
        lastRows n: Int,
        cursors: [ParquetColumnCursor]
    ) throws(ExportError) {
        let first = timestamps.count - n
        for i in first..<timestamps.count {
            let (time, start, end) = (timestamps[i], starts[i], ends[i])
            let rule: (column: Int, message: String)
            if end < start {
                rule = (
                    2,
                    "backtestwindow_end_time is before backtestwindow_start_time: a window must end at or after its start"
                )
            } else if start % 1000 != 0 || end % 1000 != 0 {
                rule = (
                    start % 1000 != 0 ? 1 : 2,
                    "a backtest window bound has a fraction of a second: window bounds are whole seconds"
                        + " (the window columns are written to the second, so two windows would look alike)"
                )
            } else if time < start || time > end {
                rule = (
                    0,
                    "timestamp is outside its row's backtest window: a row's timestamp must lie within"
                        + " backtestwindow_start_time and backtestwindow_end_time (inclusive)"
                )
            } else {
                continue
            }
            let cursor = cursors[rule.column]
            throw .input(rule.message, at: cursor.location(ofRow: cursor.position + i - first))
        }
    }

    /// The next rows, at most ``batchSize``; nil once the file is exhausted.
    public mutating func nextBatch() throws(ExportError) -> ForecastBatch? {
        var seriesIndex = [Int32]()
        var timestamps = [Int64]()
        var starts = [Int64]()
        var ends = [Int64]()
        var values = Array(repeating: [Double](), count: valueCount)
        var present: [[Bool]?] = Array(repeating: nil, count: valueCount)
        seriesIndex.reserveCapacity(batchSize)
        timestamps.reserveCapacity(batchSize)
        starts.reserveCapacity(batchSize)
        ends.reserveCapacity(batchSize)
        for k in values.indices { values[k].reserveCapacity(batchSize) }
        keys.startBatch()
        var count = 0
        while count < batchSize {
            let n = try rows.nextRun(limit: batchSize - count)
            if n == 0 { break }
            let keyCursors = rows.cursors[0]
            let timeCursors = rows.cursors[1]
            let valueCursors = rows.cursors[2]
            for r in 0..<n { seriesIndex.append(try keys.index(row: r, cursors: keyCursors)) }
            try timeCursors[0].appendTimes(n, to: &timestamps)
            try timeCursors[1].appendTimes(n, to: &starts)
            try timeCursors[2].appendTimes(n, to: &ends)
            try Self.checkWindows(timestamps, starts, ends, lastRows: n, cursors: timeCursors)
            for k in valueCursors.indices {
                try valueCursors[k].appendValues(n, to: &values[k], presence: &present[k])
            }
            rows.consume(n)
            count += n
        }
        if count == 0 { return nil }
        var batch = ForecastBatch(forecastTypeCount: 0)
        batch.series = keys.takeSeries()
        batch.seriesIndex = seriesIndex
        batch.timestamp = timestamps
        batch.windowStart = starts
        batch.windowEnd = ends
        batch.target = DoubleColumn(values: values[0], isPresent: present[0])
        batch.forecasts = (1..<values.count).map { DoubleColumn(values: values[$0], isPresent: present[$0]) }
        // Each row's 1-based number in the file, for messages (a duplicate row).
        batch.sourceLine = Array((rowsHandedOut + 1)...(rowsHandedOut + Int64(count)))
        batch.sourceName = path
        batch.sourceCountsRows = true
        rowsHandedOut += Int64(count)
        return batch
    }
}
