public import ExportCore

/// Streams a backtest-forecast CSV file (the `forecasted-values` layout, SPEC §7) as
/// ``ForecastBatch``es of up to ``batchSize`` rows, in file order.
///
/// The header names the columns, in any order: `item_id`, `timestamp`, `target_value`,
/// `backtestwindow_start_time` and `backtestwindow_end_time` are required; the forecast types are
/// the columns named `^[pP]\d+$|^mean$`, in file order; every other column is a dimension, in file
/// order. Fields follow RFC 4180 (quotes, `""`, commas and line breaks inside quotes), lines end
/// in LF or CRLF, a UTF-8 byte order mark is skipped, empty lines are skipped. Timestamps are
/// read as described in ``CSVTimestampParser`` (UTC, milliseconds kept); numbers are correctly
/// rounded and may be `NaN`, `Infinity`, `-Infinity` (any case, also `inf`, `nan`); an empty
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
    /// The most rows a batch holds.
    public let batchSize: Int

    private let scanner: CSVRecordScanner
    private let keys: SeriesKeyInterner
    private let seriesIndex: ScratchColumn<Int32>
    private let timestamps: ScratchColumn<Int64>
    private let windowStarts: ScratchColumn<Int64>
    private let windowEnds: ScratchColumn<Int64>
    private let target: ScratchDoubleColumn
    private let forecasts: [ScratchDoubleColumn]
    private var finished = false

    /// Opens `path` and reads its header. Throws an input error when the file cannot be opened,
    /// is empty, or its header lacks a required column, repeats a name or names no forecast type.
    public init(path: String, batchSize: Int = 65_536) throws(ExportError) {
        try self.init(path: path, batchSize: batchSize, blockSize: CSVRecordScanner.defaultBlockSize)
    }

    /// As ``init(path:batchSize:)``, reading blocks of `blockSize` bytes (tests use small blocks).
    init(path: String, batchSize: Int, blockSize: Int) throws(ExportError) {
        guard batchSize > 0 else { throw .validation("The batch size must be positive, got \(batchSize)") }
        let scanner = try CSVRecordScanner(path: path, blockSize: blockSize)
        let header = try CSVHeader(scanner: scanner, expecting: BacktestColumnMap.requiredColumns)
        (columns, schema) = try BacktestColumnMap.map(header)
        self.path = path
        self.batchSize = batchSize
        self.scanner = scanner
        keys = SeriesKeyInterner(keyFields: [columns.itemId] + columns.dimensions)
        seriesIndex = ScratchColumn(capacity: batchSize)
        timestamps = ScratchColumn(capacity: batchSize)
        windowStarts = ScratchColumn(capacity: batchSize)
        windowEnds = ScratchColumn(capacity: batchSize)
        target = ScratchDoubleColumn(capacity: batchSize)
        forecasts = columns.forecastTypes.map { _ in ScratchDoubleColumn(capacity: batchSize) }
    }

    /// The next rows, at most ``batchSize``; nil once the file is exhausted (a file with a header
    /// and no rows gives nil at once). Each distinct series of the batch appears once in its
    /// ``ForecastBatch/series``.
    public mutating func nextBatch() throws(ExportError) -> ForecastBatch? {
        if finished { return nil }
        let scanner = self.scanner
        let columns = self.columns
        let names = columns.names
        let fieldCount = names.count
        let forecastFields = columns.forecastTypes
        let seriesIndex = self.seriesIndex.pointer
        let timestamps = self.timestamps.pointer
        let windowStarts = self.windowStarts.pointer
        let windowEnds = self.windowEnds.pointer
        keys.startBatch()
        var rows = 0
        while rows < batchSize {
            guard try scanner.nextRecord() else {
                finished = true
                break
            }
            guard scanner.fieldCount == fieldCount else { throw scanner.fieldCountError(expected: fieldCount) }
            seriesIndex[rows] = try keys.index(of: scanner, columnNames: names)
            timestamps[rows] = try scanner.timestamp(at: columns.timestamp, columnNames: names)
            let start = try scanner.timestamp(at: columns.windowStart, columnNames: names)
            let end = try scanner.timestamp(at: columns.windowEnd, columnNames: names)
            guard end >= start else { throw windowOrderError(scanner) }
            windowStarts[rows] = start
            windowEnds[rows] = end
            target.set(rows, try scanner.optionalDouble(at: columns.targetValue, columnNames: names))
            for k in 0..<forecastFields.count {
                forecasts[k].set(rows, try scanner.optionalDouble(at: forecastFields[k], columnNames: names))
            }
            rows += 1
        }
        if rows == 0 { return nil }
        var batch = ForecastBatch(forecastTypeCount: 0)
        batch.series = keys.takeSeries()
        batch.seriesIndex = self.seriesIndex.array(count: rows)
        batch.timestamp = self.timestamps.array(count: rows)
        batch.target = target.column(count: rows)
        batch.windowStart = self.windowStarts.array(count: rows)
        batch.windowEnd = self.windowEnds.array(count: rows)
        batch.forecasts = forecasts.map { $0.column(count: rows) }
        return batch
    }

    @inline(never)
    private func windowOrderError(_ scanner: CSVRecordScanner) -> ExportError {
        let names = columns.names
        let start = quotedForMessage(scanner.field(columns.windowStart))
        let end = quotedForMessage(scanner.field(columns.windowEnd))
        return .input(
            "backtestwindow_end_time \(end) is before backtestwindow_start_time \(start):"
                + " a window must end at or after its start",
            at: scanner.location(of: columns.windowEnd, columnNames: names)
        )
    }
}
