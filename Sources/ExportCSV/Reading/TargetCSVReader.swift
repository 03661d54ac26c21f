public import ExportCore

/// Streams a target-time-series CSV file (the `--history` input for MASE: `item_id`,
/// `<dimensions>`, `timestamp`, `target_value`, in any column order) as ``TargetBatch``es of up to
/// ``batchSize`` rows, in file order.
///
/// Every column other than `item_id`, `timestamp` and `target_value` is a dimension. Given the
/// forecast file's dimensions, the reader checks that the file has exactly those (in any order)
/// and builds each ``SeriesKey`` with the dimensions in that order, so that keys match the
/// forecast's. Parsing rules, errors and memory are those of ``BacktestCSVReader``: an empty
/// `target_value` is a missing value. A copy of the reader shares its file position with the
/// original; use one of them.
public struct TargetCSVReader {
    /// The path as the user gave it (used in error locations).
    public let path: String
    /// The dimension names, in key order.
    public let dimensions: [String]
    /// Where each column is in the file.
    public let columns: TargetColumnMap
    /// The most rows a batch holds.
    public let batchSize: Int

    private let scanner: CSVRecordScanner
    private let keys: SeriesKeyInterner
    private let seriesIndex: ScratchColumn<Int32>
    private let timestamps: ScratchColumn<Int64>
    private let target: ScratchDoubleColumn
    private var finished = false

    /// Opens `path` and reads its header. With `expectedDimensions` (the forecast schema's), throws
    /// an input error unless the file's dimension columns are exactly those.
    public init(path: String, expectedDimensions: [String]? = nil, batchSize: Int = 65_536) throws(ExportError) {
        try self.init(
            path: path,
            expectedDimensions: expectedDimensions,
            batchSize: batchSize,
            blockSize: CSVRecordScanner.defaultBlockSize
        )
    }

    /// As ``init(path:expectedDimensions:batchSize:)``, reading blocks of `blockSize` bytes.
    init(path: String, expectedDimensions: [String]?, batchSize: Int, blockSize: Int) throws(ExportError) {
        guard batchSize > 0 else { throw .validation("The batch size must be positive, got \(batchSize)") }
        let scanner = try CSVRecordScanner(path: path, blockSize: blockSize)
        let header = try CSVHeader(scanner: scanner, expecting: TargetColumnMap.requiredColumns)
        columns = try TargetColumnMap.map(header, expectedDimensions: expectedDimensions)
        dimensions = columns.dimensions.map { header.names[$0] }
        self.path = path
        self.batchSize = batchSize
        self.scanner = scanner
        keys = SeriesKeyInterner(keyFields: [columns.itemId] + columns.dimensions)
        seriesIndex = ScratchColumn(capacity: batchSize)
        timestamps = ScratchColumn(capacity: batchSize)
        target = ScratchDoubleColumn(capacity: batchSize)
    }

    /// The next rows, at most ``batchSize``; nil once the file is exhausted. Each distinct series
    /// of the batch appears once in its ``TargetBatch/series``.
    public mutating func nextBatch() throws(ExportError) -> TargetBatch? {
        if finished { return nil }
        let scanner = self.scanner
        let columns = self.columns
        let names = columns.names
        let fieldCount = names.count
        let seriesIndex = self.seriesIndex.pointer
        let timestamps = self.timestamps.pointer
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
            target.set(rows, try scanner.optionalDouble(at: columns.targetValue, columnNames: names))
            rows += 1
        }
        if rows == 0 { return nil }
        var batch = TargetBatch()
        batch.series = keys.takeSeries()
        batch.seriesIndex = self.seriesIndex.array(count: rows)
        batch.timestamp = self.timestamps.array(count: rows)
        batch.target = target.column(count: rows)
        return batch
    }
}
