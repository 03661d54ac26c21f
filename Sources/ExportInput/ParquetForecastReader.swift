public import ExportCSV
public import ExportCore
import ExportParquet

/// Streams a backtest-forecast Parquet file as ``ForecastBatch``es of up to ``batchSize`` rows, in
/// file order: the Parquet counterpart of ``BacktestCSVReader``.
///
/// Columns are found by name with the CSV reader's rules (``BacktestColumnMap``): required columns,
/// forecast types, every other column a dimension. Accepted column types: key columns (`item_id`,
/// dimensions) strings or integers (written in decimal); the three time columns timestamps of any
/// unit (floored to the millisecond), INT96, dates, or strings in the CSV timestamp forms; value
/// columns doubles, floats, integers, or strings in the CSV number forms. A null value is a missing
/// value; a null time is an error. Errors name the file, the row group and the row within it
/// (`file:rowgroup:row`) and the column.
///
/// Memory: one page per column and one batch; row groups are read one at a time, page by page.
public struct ParquetForecastReader {
    public let path: String
    public let schema: ExportSchema
    public let columns: BacktestColumnMap
    public let batchSize: Int
    /// The file's columns, for checking later files of the same input against.
    public var inputColumns: InputColumns { InputColumns(file: path, names: columns.names, schema: schema) }

    private let reader: ParquetReader
    /// Column numbers: item_id and dimensions, then timestamp, window start, window end, then
    /// target_value and the forecast types.
    private let keyColumns: [Int]
    private let timeColumns: [Int]
    private let valueColumns: [Int]
    private var rowGroup = -1
    private var rowsLeftInGroup = 0
    private var keyCursors: [ParquetColumnCursor] = []
    private var timeCursors: [ParquetColumnCursor] = []
    private var valueCursors: [ParquetColumnCursor] = []
    private let keys: ParquetKeyColumns
    private var finished = false

    /// Opens `path`, reads its footer and maps its columns. With `reference` (an earlier file of the
    /// same input), the file must have the same column names, and batches follow that schema.
    public init(
        path: String,
        matching reference: InputColumns? = nil,
        dimensions: [String]? = nil,
        batchSize: Int = 65_536
    ) throws(ExportError) {
        guard batchSize > 0 else { throw .validation("The batch size must be positive, got \(batchSize)") }
        let reader = try ParquetReader(path: path)
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
        self.reader = reader
        self.columns = columns
        self.schema = schema
        self.batchSize = batchSize
        keyColumns = [columns.itemId] + columns.dimensions
        timeColumns = [columns.timestamp, columns.windowStart, columns.windowEnd]
        valueColumns = [columns.targetValue] + columns.forecastTypes
        for c in keyColumns {
            try Self.check(reader, c, accepts: [.string, .integer], "a key column: text or integers")
        }
        for c in timeColumns {
            try Self.check(reader, c, accepts: [.instant, .string], "a time column: timestamps, dates or text")
        }
        for c in valueColumns {
            try Self.check(reader, c, accepts: [.floatingPoint, .integer, .string], "a value column: numbers or text")
        }
        keys = ParquetKeyColumns(count: keyColumns.count)
    }

    private static func check(
        _ reader: ParquetReader,
        _ column: Int,
        accepts kinds: [ParquetColumnKind],
        _ role: String
    ) throws(ExportError) {
        let kind = reader.columnKinds[column]
        guard !kinds.contains(kind) else { return }
        throw .input(
            "Cannot read Parquet column '\(reader.columnNames[column])': its type \(kind.description) is not supported"
                + " for \(role)",
            at: .init(file: reader.path, line: 0, columnName: reader.columnNames[column], rowGroup: 0)
        )
    }

    private static func target(_ kind: ParquetColumnKind, numeric: Bool) -> ParquetValueTarget {
        switch kind {
        case .string: .bytes
        case .instant: .millis
        case .integer: numeric ? .double : .integer
        default: .double
        }
    }

    /// Opens the next non-empty row group's cursors; false at the end of the file.
    private mutating func openNextRowGroup() throws(ExportError) -> Bool {
        while rowGroup + 1 < reader.rowGroupCount {
            rowGroup += 1
            rowsLeftInGroup = reader.rowCount(ofRowGroup: rowGroup)
            if rowsLeftInGroup == 0 { continue }
            let r = reader
            let g = rowGroup
            keyCursors = []
            timeCursors = []
            valueCursors = []
            for c in keyColumns {
                keyCursors.append(
                    try r.cursor(rowGroup: g, column: c, as: Self.target(r.columnKinds[c], numeric: false))
                )
            }
            for c in timeColumns {
                timeCursors.append(
                    try r.cursor(rowGroup: g, column: c, as: Self.target(r.columnKinds[c], numeric: false))
                )
            }
            for c in valueColumns {
                valueCursors.append(
                    try r.cursor(rowGroup: g, column: c, as: Self.target(r.columnKinds[c], numeric: true))
                )
            }
            return true
        }
        return false
    }

    /// The next rows, at most ``batchSize``; nil once the file is exhausted.
    public mutating func nextBatch() throws(ExportError) -> ForecastBatch? {
        if finished { return nil }
        var seriesIndex = [Int32]()
        var timestamps = [Int64]()
        var starts = [Int64]()
        var ends = [Int64]()
        var values = Array(repeating: [Double](), count: valueColumns.count)
        var present: [[Bool]?] = Array(repeating: nil, count: valueColumns.count)
        seriesIndex.reserveCapacity(batchSize)
        timestamps.reserveCapacity(batchSize)
        starts.reserveCapacity(batchSize)
        ends.reserveCapacity(batchSize)
        for k in values.indices { values[k].reserveCapacity(batchSize) }
        keys.startBatch()
        var rows = 0
        while rows < batchSize {
            if rowsLeftInGroup == 0 {
                try finishRowGroup()
                guard try openNextRowGroup() else {
                    finished = true
                    break
                }
            }
            var n = min(batchSize - rows, rowsLeftInGroup)
            for cursor in keyCursors + timeCursors + valueCursors {
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
            for r in 0..<n { seriesIndex.append(try keys.index(row: r, cursors: keyCursors)) }
            try appendTimes(timeCursors[0], n, to: &timestamps)
            try appendTimes(timeCursors[1], n, to: &starts)
            try appendTimes(timeCursors[2], n, to: &ends)
            for i in (ends.count - n)..<ends.count where ends[i] < starts[i] {
                let cursor = timeCursors[2]
                throw .input(
                    "backtestwindow_end_time is before backtestwindow_start_time: a window must end at or after its start",
                    at: cursor.location(ofRow: cursor.position + i - (ends.count - n))
                )
            }
            for k in valueCursors.indices {
                try appendValues(valueCursors[k], n, to: &values[k], presence: &present[k])
            }
            for cursor in keyCursors + timeCursors + valueCursors { cursor.position += n }
            rows += n
            rowsLeftInGroup -= n
        }
        if rows == 0 { return nil }
        var batch = ForecastBatch(forecastTypeCount: 0)
        batch.series = keys.takeSeries()
        batch.seriesIndex = seriesIndex
        batch.timestamp = timestamps
        batch.windowStart = starts
        batch.windowEnd = ends
        batch.target = DoubleColumn(values: values[0], isPresent: present[0])
        batch.forecasts = (1..<values.count).map { DoubleColumn(values: values[$0], isPresent: present[$0]) }
        return batch
    }

    /// At the end of a row group, every column chunk must be exhausted too.
    private func finishRowGroup() throws(ExportError) {
        for cursor in keyCursors + timeCursors + valueCursors {
            if cursor.available == 0 {
                guard try cursor.nextPage() else { continue }
            }
            throw .input(
                "Cannot read Parquet column '\(cursor.columnName)': it holds more values than the row group's rows",
                at: cursor.location(ofRow: cursor.position)
            )
        }
    }

    private func appendTimes(_ cursor: ParquetColumnCursor, _ n: Int, to out: inout [Int64]) throws(ExportError) {
        let p = cursor.position
        if let validity = cursor.validity {
            for r in p..<(p + n) where validity[r] == 0 {
                throw .input(
                    "Missing \(cursor.columnName): every row needs one (the value is null)",
                    at: cursor.location(ofRow: r)
                )
            }
        }
        if cursor.target == .millis {
            out.append(contentsOf: UnsafeBufferPointer(start: cursor.integers + p, count: n))
            return
        }
        var cache = CSVTimestampParser.DateCache()
        for r in p..<(p + n) {
            let field = UnsafeBufferPointer(
                start: cursor.byteBase + cursor.byteStarts[r],
                count: Int(cursor.byteLengths[r])
            )
            guard let value = CSVTimestampParser.parse(field, cache: &cache) else {
                throw .input(CSVTimestampParser.diagnose(field), at: cursor.location(ofRow: r))
            }
            out.append(value)
        }
    }

    private func appendValues(
        _ cursor: ParquetColumnCursor,
        _ n: Int,
        to out: inout [Double],
        presence: inout [Bool]?
    ) throws(ExportError) {
        let p = cursor.position
        let validity = cursor.validity
        if cursor.target == .double {
            let before = out.count
            out.append(contentsOf: UnsafeBufferPointer(start: cursor.doubles + p, count: n))
            presence?.append(contentsOf: repeatElement(true, count: n))
            if let validity {
                for r in p..<(p + n) where validity[r] == 0 {
                    if presence == nil { presence = Array(repeating: true, count: before + n) }
                    presence![before + r - p] = false
                }
            }
            return
        }
        for r in p..<(p + n) {
            let field = UnsafeBufferPointer(
                start: cursor.byteBase + cursor.byteStarts[r],
                count: Int(cursor.byteLengths[r])
            )
            if (validity.map { $0[r] == 0 } ?? false) || field.isEmpty {
                if presence == nil { presence = Array(repeating: true, count: out.count) }
                out.append(0)
                presence!.append(false)
                continue
            }
            guard let value = CSVNumberParser.parseDouble(field) else {
                throw .input(
                    "Cannot parse \(String(decoding: field.prefix(40), as: UTF8.self).debugDescription) as a number",
                    at: cursor.location(ofRow: r)
                )
            }
            out.append(value)
            presence?.append(true)
        }
    }
}
