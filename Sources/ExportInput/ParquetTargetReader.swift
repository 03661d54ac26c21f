public import ExportCSV
public import ExportCore
public import ExportParquet

/// Streams a target-time-series Parquet file (the `--history` input for MASE) as ``TargetBatch``es
/// of up to ``batchSize`` rows, in file order: the Parquet counterpart of ``TargetCSVReader``.
///
/// Columns are found by name with the CSV reader's rules (``TargetColumnMap``): `item_id`,
/// `timestamp`, `target_value`, every other column a dimension, which must be exactly the
/// forecast input's dimensions when given. Column types, value rules and errors are the forecast
/// Parquet reader's (``ParquetColumnRole``, `file:rowgroup:row`): a null `target_value` is a
/// missing value; a null `item_id` or `timestamp` is an error.
///
/// Memory: one page per column and one batch; row groups are read one at a time, page by page.
public struct ParquetTargetReader {
    /// The input's name (as in error locations).
    public let path: String
    /// Where each column is in the file.
    public let columns: TargetColumnMap
    /// The dimension names, in key order.
    public let dimensions: [String]
    public let batchSize: Int

    /// Groups: item_id and dimensions, then timestamp, then target_value.
    private var rows: ParquetRowStream
    private let keys: ParquetKeyColumns

    /// Maps the columns of an open file (its ``ParquetReader/path`` names it in errors). With
    /// `expectedDimensions` (the forecast schema's), throws an input error unless the file's
    /// dimension columns are exactly those.
    public init(
        reader: ParquetReader,
        expectedDimensions: [String]? = nil,
        batchSize: Int = 65_536
    ) throws(ExportError) {
        guard batchSize > 0 else { throw .validation("The batch size must be positive, got \(batchSize)") }
        let header = try CSVHeader(
            names: reader.columnNames,
            path: reader.path,
            line: 1,
            expecting: TargetColumnMap.requiredColumns
        )
        let columns = try TargetColumnMap.map(header, expectedDimensions: expectedDimensions)
        self.path = reader.path
        self.columns = columns
        self.dimensions = columns.dimensions.map { header.names[$0] }
        self.batchSize = batchSize
        let keyColumns = [columns.itemId] + columns.dimensions
        rows = try ParquetRowStream(
            reader: reader,
            groups: [keyColumns.map { ($0, .key) }, [(columns.timestamp, .time)], [(columns.targetValue, .value)]]
        )
        keys = ParquetKeyColumns(count: keyColumns.count)
    }

    /// The next rows, at most ``batchSize``; nil once the file is exhausted. Each distinct series
    /// of the batch appears once in its ``TargetBatch/series``.
    public mutating func nextBatch() throws(ExportError) -> TargetBatch? {
        var seriesIndex = [Int32]()
        var timestamps = [Int64]()
        var values = [Double]()
        var present: [Bool]?
        seriesIndex.reserveCapacity(batchSize)
        timestamps.reserveCapacity(batchSize)
        values.reserveCapacity(batchSize)
        keys.startBatch()
        var count = 0
        while count < batchSize {
            let n = try rows.nextRun(limit: batchSize - count)
            if n == 0 { break }
            let keyCursors = rows.cursors[0]
            for r in 0..<n { seriesIndex.append(try keys.index(row: r, cursors: keyCursors)) }
            try rows.cursors[1][0].appendTimes(n, to: &timestamps)
            try rows.cursors[2][0].appendValues(n, to: &values, presence: &present)
            rows.consume(n)
            count += n
        }
        if count == 0 { return nil }
        var batch = TargetBatch()
        batch.series = keys.takeSeries()
        batch.seriesIndex = seriesIndex
        batch.timestamp = timestamps
        batch.target = DoubleColumn(values: values, isPresent: present)
        return batch
    }
}
