public import ExportCore

/// Streams a backtest-forecast CSV file (the `forecasted-values` layout, SPEC §7) as
/// ``ForecastBatch``es of up to ``batchSize`` rows, in file order.
///
/// The header names the columns, in any order, by the rules of ``BacktestColumnMap``:
/// `item_id`, `timestamp`, `target_value`, `backtestwindow_start_time` and
/// `backtestwindow_end_time` are required; the forecast types are the columns named `mean`,
/// `p10`/`P10` or `0.1`/`0.10`, in file order; every other column is a dimension (or exactly the
/// declared ones). Every row's `timestamp` must lie within its window, and the window must not
/// end before it starts. Fields follow RFC 4180 (quotes, `""`, commas and line breaks inside quotes), lines end
/// in LF or CRLF, a UTF-8 byte order mark is skipped, empty lines are skipped. Timestamps are
/// read as described in ``CSVTimestampParser`` (UTC, milliseconds kept); numbers are correctly
/// rounded and may be `NaN`, `Infinity`, `-Infinity` (any case, also `inf`, `nan`), but a decimal
/// that overflows to infinity (`1e400`) is an error; an empty
/// `target_value` or forecast field is a missing value. Every key field is checked to be UTF-8.
///
/// Bad input throws an ``ExportError`` with code `.input` (`.validation` for a quantile header
/// out of range) and the file, the physical line where the record starts, the 1-based field
/// number and the column's name. After an error the reader must not be used further.
///
/// Memory does not grow with the number of rows: one read block (4 MiB, grown only for a single
/// longer record), one batch of columns and the batch's distinct series. A copy of the reader
/// shares its file position with the original; use one of them.
public struct BacktestCSVReader {
    /// The path as the user gave it (used in error locations).
    public let path: String
    /// The dimensions and forecast types found in the header.
    public let schema: ExportSchema
    /// Where each column is in the file.
    public let columns: BacktestColumnMap
    /// The file's columns, for checking later files of the same input against.
    public var inputColumns: InputColumns { InputColumns(file: path, names: columns.names, schema: schema) }
    /// The most rows a batch holds.
    public let batchSize: Int

    private let scanner: CSVRecordScanner
    private var keys: SeriesKeyInterner
    private let seriesIndex: ScratchColumns<Int32>
    /// `timestamp`, `backtestwindow_start_time`, `backtestwindow_end_time`.
    private let times: ScratchColumns<Int64>
    /// `target_value`, then the forecast types; with their presence flags.
    private let doubles: ScratchColumns<Double>
    private let presence: ScratchColumns<Bool>
    /// The line on which each record of the batch starts.
    private let lines: ScratchColumns<Int64>
    /// Field numbers of the columns in `doubles`.
    private let doubleFields: [Int]
    private var finished = false
    /// The dates met in `timestamp`, `backtestwindow_start_time` and `backtestwindow_end_time`,
    /// kept from batch to batch.
    private var timestampDates = CSVTimestampParser.DateCache()
    private var startDates = CSVTimestampParser.DateCache()
    private var endDates = CSVTimestampParser.DateCache()
    /// For a large regular file: its records parsed on several threads (nil: this reader's own
    /// scanner reads them).
    private var chunks: ParallelChunkReader?
    /// The size of the plain regular file read (nil: another kind of input).
    private var fileSize: Int?

    /// Opens `path` (`-`: standard input; gzip data is inflated as it is read) and reads its header.
    /// Throws an input error when the file cannot be opened, is empty, or its header breaks a
    /// ``BacktestColumnMap`` rule. `dimensions` declares the dimension columns (the CLI's
    /// `--dimensions`); nil: every other column is one.
    public init(path: String, dimensions: [String]? = nil, batchSize: Int = 65_536) throws(ExportError) {
        try self.init(source: FileByteSource.openText(path: path), dimensions: dimensions, batchSize: batchSize)
    }

    /// Reads the CSV text of `source` from its current position (the header first), through that
    /// one source only: a pipe or standard input works. With `reference` (an earlier file of the
    /// same input), the header must name the same columns, and batches follow its schema.
    public init(
        source: any InputByteSource,
        matching reference: InputColumns? = nil,
        dimensions: [String]? = nil,
        batchSize: Int = 65_536
    ) throws(ExportError) {
        try self.init(
            source: source,
            matching: reference,
            dimensions: dimensions,
            batchSize: batchSize,
            blockSize: CSVRecordScanner.defaultBlockSize
        )
    }

    /// As ``init(path:dimensions:batchSize:)``, reading blocks of `blockSize` bytes (tests use small blocks).
    init(path: String, dimensions: [String]? = nil, batchSize: Int, blockSize: Int) throws(ExportError) {
        try self.init(
            source: FileByteSource.openText(path: path),
            dimensions: dimensions,
            batchSize: batchSize,
            blockSize: blockSize
        )
    }

    /// `parallelChunkBytes`: the chunk size for reading a regular file on several threads (see
    /// ``ParallelChunkReader``); nil: chosen from the file's size and the cores, and a file under
    /// 2 MiB or a single core reads on this thread only. `threads` (tests): the threads to use.
    init(
        source: any InputByteSource,
        matching reference: InputColumns? = nil,
        dimensions: [String]? = nil,
        batchSize: Int,
        blockSize: Int,
        parallelChunkBytes: Int? = nil,
        threads: Int? = nil
    ) throws(ExportError) {
        guard batchSize > 0 else { throw .validation("The batch size must be positive, got \(batchSize)") }
        let scanner = try CSVRecordScanner(source: source, blockSize: blockSize)
        let header = try CSVHeader(scanner: scanner, expecting: BacktestColumnMap.requiredColumns)
        let (columns, schema) = try BacktestColumnMap.map(header, matching: reference, declaredDimensions: dimensions)
        self.init(scanner: scanner, columns: columns, schema: schema, batchSize: batchSize)
        guard let file = source as? FileByteSource, let size = file.regularFileSize else { return }
        fileSize = size
        let start = scanner.consumedBytes
        let threads = threads ?? AvailableCores.count
        let chunkBytes: Int
        if let parallelChunkBytes {
            chunkBytes = parallelChunkBytes
        } else {
            guard threads > 1 && size - start >= Self.parallelFileBytes else { return }
            chunkBytes = min(4 << 20, max(1 << 20, (size - start) / threads))
        }
        let prototype = self
        chunks = try ParallelChunkReader(
            file: file,
            fileSize: size,
            start: start,
            linesBefore: scanner.linesConsumed,
            chunkBytes: chunkBytes,
            threads: threads,
            worker: { (chunk: any InputByteSource) throws(ExportError) -> BacktestCSVReader in
                try prototype.worker(reading: chunk, blockSize: blockSize)
            }
        )
    }

    /// Regular files at least this long (after the header) are read on several threads.
    static let parallelFileBytes = 2 << 20

    private init(scanner: CSVRecordScanner, columns: BacktestColumnMap, schema: ExportSchema, batchSize: Int) {
        self.columns = columns
        self.schema = schema
        self.path = scanner.path
        self.batchSize = batchSize
        self.scanner = scanner
        scanner.columnNames = columns.names
        keys = SeriesKeyInterner(keyFields: [columns.itemId] + columns.dimensions)
        doubleFields = [columns.targetValue] + columns.forecastTypes
        seriesIndex = ScratchColumns(columns: 1, capacity: batchSize)
        times = ScratchColumns(columns: 3, capacity: batchSize)
        doubles = ScratchColumns(columns: doubleFields.count, capacity: batchSize)
        presence = ScratchColumns(columns: doubleFields.count, capacity: batchSize)
        lines = ScratchColumns(columns: 1, capacity: batchSize)
    }

    /// A reader of this file's columns for a part of it (no header), with its own scanner and
    /// batch columns: one of a ``ParallelChunkReader``'s workers.
    private func worker(reading chunk: any InputByteSource, blockSize: Int) throws(ExportError) -> BacktestCSVReader {
        let scanner = try CSVRecordScanner(source: chunk, blockSize: blockSize, skipsByteOrderMark: false)
        return BacktestCSVReader(scanner: scanner, columns: columns, schema: schema, batchSize: batchSize)
    }

    /// Series the reader's series table remembers before it starts afresh at the next batch
    /// (``SeriesKeyInterner/maxRemembered``; tests lower it).
    var rememberedSeries: Int {
        get { keys.maxRemembered }
        set { keys.maxRemembered = newValue }
    }

    /// Starts this worker over on `source`, whose first record is on line `firstLine`.
    mutating func restart(on source: any InputByteSource, firstLine: Int, maxRecordBytes: Int) {
        scanner.restart(on: source, firstLine: firstLine)
        scanner.maxRecordBytes = maxRecordBytes
        finished = false
    }

    /// The bytes of the file read so far and its size, for a regular file read by its path (nil
    /// for standard input, a pipe or gzip data).
    public var inputProgress: InputProgress? {
        if let chunks { return chunks.inputProgress }
        guard let size = fileSize else { return nil }
        return InputProgress(bytesRead: min(size, scanner.consumedBytes), totalBytes: size)
    }

    /// Physical lines consumed so far (all of the source's once it is exhausted).
    var linesConsumed: Int { scanner.linesConsumed }

    /// The longest record (or quoted field) accepted, in bytes; a longer one is an input error
    /// naming its line, so that a file without line breaks (`/dev/zero`) fails fast with bounded
    /// memory. Default 64 MiB.
    public var maxRecordBytes: Int {
        get { scanner.maxRecordBytes }
        nonmutating set { scanner.maxRecordBytes = max(newValue, 1) }
    }

    /// The next rows, at most ``batchSize``; nil once the file is exhausted (a file with a header
    /// and no rows gives nil at once). Each distinct series of the batch appears once in its
    /// ``ForecastBatch/series``.
    public mutating func nextBatch() throws(ExportError) -> ForecastBatch? {
        if let chunks { return try chunks.nextBatch(maxRecordBytes: scanner.maxRecordBytes) }
        if finished { return nil }
        let scanner = self.scanner
        let fieldCount = columns.names.count
        let timestampField = columns.timestamp
        let windowStartField = columns.windowStart
        let windowEndField = columns.windowEnd
        let doubleFields = self.doubleFields
        let seriesIndex = self.seriesIndex.base
        let timestamps = times.pointer(column: 0)
        let windowStarts = times.pointer(column: 1)
        let windowEnds = times.pointer(column: 2)
        let values = doubles.base
        let present = presence.base
        let recordLines = lines.base
        let capacity = batchSize
        // The date caches as locals for the loop (moved out, so that no copy shares their tables).
        var timestampDates = self.timestampDates
        var startDates = self.startDates
        var endDates = self.endDates
        (self.timestampDates, self.startDates, self.endDates) = (.init(), .init(), .init())
        keys.startBatch()
        var rows = 0
        while rows < capacity {
            guard let record = try scanner.nextRecord() else {
                finished = true
                break
            }
            guard record.count == fieldCount else { throw scanner.fieldCountError(record, expected: fieldCount) }
            recordLines[rows] = Int64(record.line)
            // The key's table look-up finishes after the other fields are parsed (see beginIndex).
            let knownSeries = keys.beginIndex(of: record)
            timestamps[rows] = try scanner.timestamp(record, at: timestampField, cache: &timestampDates)
            let start = try scanner.timestamp(record, at: windowStartField, cache: &startDates)
            let end = try scanner.timestamp(record, at: windowEndField, cache: &endDates)
            guard end >= start else { throw windowOrderError(record) }
            guard start % 1000 == 0 && end % 1000 == 0 else { throw windowFractionError(record, start: start) }
            guard timestamps[rows] >= start && timestamps[rows] <= end else { throw outsideWindowError(record) }
            windowStarts[rows] = start
            windowEnds[rows] = end
            for k in 0..<doubleFields.count {
                let slot = k &* capacity &+ rows
                if let value = try scanner.optionalDouble(record, at: doubleFields[k]) {
                    values[slot] = value
                    present[slot] = true
                } else {
                    values[slot] = 0
                    present[slot] = false
                }
            }
            seriesIndex[rows] = knownSeries >= 0 ? knownSeries : try keys.finishIndex(of: record, in: scanner)
            rows += 1
        }
        (self.timestampDates, self.startDates, self.endDates) = (timestampDates, startDates, endDates)
        if rows == 0 { return nil }
        var batch = ForecastBatch(forecastTypeCount: 0)
        let (series, origin) = keys.takeSeries()
        batch.series = series
        batch.seriesOrigin = origin  // after series: setting series clears it
        batch.seriesIndex = self.seriesIndex.array(column: 0, count: rows)
        batch.timestamp = times.array(column: 0, count: rows)
        batch.windowStart = times.array(column: 1, count: rows)
        batch.windowEnd = times.array(column: 2, count: rows)
        batch.target = doubles.doubleColumn(0, count: rows, presence: presence)
        batch.forecasts = (1..<doubleFields.count).map { doubles.doubleColumn($0, count: rows, presence: presence) }
        batch.sourceLine = lines.array(column: 0, count: rows)
        batch.sourceName = path
        return batch
    }

    @inline(never)
    private func outsideWindowError(_ record: CSVRecord) -> ExportError {
        let time = quotedForMessage(record.field(columns.timestamp))
        let start = quotedForMessage(record.field(columns.windowStart))
        let end = quotedForMessage(record.field(columns.windowEnd))
        return .input(
            "timestamp \(time) is outside its row's backtest window \(start)…\(end):"
                + " a row's timestamp must lie within backtestwindow_start_time and backtestwindow_end_time (inclusive)",
            at: scanner.location(record, of: columns.timestamp)
        )
    }

    @inline(never)
    private func windowFractionError(_ record: CSVRecord, start: Int64) -> ExportError {
        let column = start % 1000 != 0 ? columns.windowStart : columns.windowEnd
        let bound = quotedForMessage(record.field(column))
        return .input(
            "backtest window bound \(bound) has a fraction of a second: window bounds are whole seconds"
                + " (the window columns are written to the second, so two windows would look alike)",
            at: scanner.location(record, of: column)
        )
    }

    @inline(never)
    private func windowOrderError(_ record: CSVRecord) -> ExportError {
        let start = quotedForMessage(record.field(columns.windowStart))
        let end = quotedForMessage(record.field(columns.windowEnd))
        return .input(
            "backtestwindow_end_time \(end) is before backtestwindow_start_time \(start):"
                + " a window must end at or after its start",
            at: scanner.location(record, of: columns.windowEnd)
        )
    }
}
