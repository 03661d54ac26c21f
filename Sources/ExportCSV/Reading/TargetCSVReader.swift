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
    private var keys: SeriesKeyInterner
    private let seriesIndex: ScratchColumns<Int32>
    private let timestamps: ScratchColumns<Int64>
    private let targets: ScratchColumns<Double>
    private let presence: ScratchColumns<Bool>
    private var finished = false
    /// The dates met in `timestamp`, kept from batch to batch.
    private var dates = CSVTimestampParser.DateCache()

    /// Opens `path` (`-`: standard input; gzip data is inflated as it is read) and reads its header. With `expectedDimensions` (the forecast schema's), throws
    /// an input error unless the file's dimension columns are exactly those.
    public init(path: String, expectedDimensions: [String]? = nil, batchSize: Int = 65_536) throws(ExportError) {
        try self.init(
            source: FileByteSource.openText(path: path),
            expectedDimensions: expectedDimensions,
            batchSize: batchSize,
            blockSize: CSVRecordScanner.defaultBlockSize
        )
    }

    /// Reads the CSV text of `source` from its current position (the header first).
    public init(
        source: any InputByteSource,
        expectedDimensions: [String]? = nil,
        batchSize: Int = 65_536
    ) throws(ExportError) {
        try self.init(
            source: source,
            expectedDimensions: expectedDimensions,
            batchSize: batchSize,
            blockSize: CSVRecordScanner.defaultBlockSize
        )
    }

    /// As ``init(path:expectedDimensions:batchSize:)``, reading blocks of `blockSize` bytes.
    init(path: String, expectedDimensions: [String]?, batchSize: Int, blockSize: Int) throws(ExportError) {
        try self.init(
            source: FileByteSource.openText(path: path),
            expectedDimensions: expectedDimensions,
            batchSize: batchSize,
            blockSize: blockSize
        )
    }

    init(source: any InputByteSource, expectedDimensions: [String]?, batchSize: Int, blockSize: Int) throws(ExportError)
    {
        guard batchSize > 0 else { throw .validation("The batch size must be positive, got \(batchSize)") }
        let path = source.name
        let scanner = try CSVRecordScanner(source: source, blockSize: blockSize)
        let header = try CSVHeader(scanner: scanner, expecting: TargetColumnMap.requiredColumns)
        columns = try TargetColumnMap.map(header, expectedDimensions: expectedDimensions)
        dimensions = columns.dimensions.map { header.names[$0] }
        self.path = path
        self.batchSize = batchSize
        self.scanner = scanner
        scanner.columnNames = columns.names
        keys = SeriesKeyInterner(keyFields: [columns.itemId] + columns.dimensions)
        seriesIndex = ScratchColumns(columns: 1, capacity: batchSize)
        timestamps = ScratchColumns(columns: 1, capacity: batchSize)
        targets = ScratchColumns(columns: 1, capacity: batchSize)
        presence = ScratchColumns(columns: 1, capacity: batchSize)
    }

    /// The next rows, at most ``batchSize``; nil once the file is exhausted. Each distinct series
    /// of the batch appears once in its ``TargetBatch/series``.
    public mutating func nextBatch() throws(ExportError) -> TargetBatch? {
        if finished { return nil }
        let scanner = self.scanner
        let fieldCount = columns.names.count
        let timestampField = columns.timestamp
        let targetField = columns.targetValue
        let seriesIndex = self.seriesIndex.base
        let timestamps = self.timestamps.base
        let values = targets.base
        let present = presence.base
        var dates = self.dates
        self.dates = .init()  // moved out, so that no copy shares its table
        keys.startBatch()
        var rows = 0
        while rows < batchSize {
            guard let record = try scanner.nextRecord() else {
                finished = true
                break
            }
            guard record.count == fieldCount else { throw scanner.fieldCountError(record, expected: fieldCount) }
            seriesIndex[rows] = try keys.index(of: record, in: scanner)
            timestamps[rows] = try scanner.timestamp(record, at: timestampField, cache: &dates)
            if let value = try scanner.optionalDouble(record, at: targetField) {
                values[rows] = value
                present[rows] = true
            } else {
                values[rows] = 0
                present[rows] = false
            }
            rows += 1
        }
        self.dates = dates
        if rows == 0 { return nil }
        var batch = TargetBatch()
        batch.series = keys.takeSeries().series
        batch.seriesIndex = self.seriesIndex.array(column: 0, count: rows)
        batch.timestamp = self.timestamps.array(column: 0, count: rows)
        batch.target = targets.doubleColumn(0, count: rows, presence: presence)
        return batch
    }
}
