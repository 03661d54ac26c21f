public import ExportCore
public import NIOCore

/// Encodes one part of a table as a Parquet file, in one forward pass with bounded memory.
///
/// Rows are appended into per-column chunk buffers (pages are encoded and compressed as they fill);
/// when a row group is full its column chunks are laid out back to back and become ready bytes
/// (the first ready chunk starts with the `PAR1` magic). ``finish()`` closes the last row group and
/// adds the footer (FileMetaData, its length, `PAR1`). A part with no rows is a valid file with zero
/// row groups.
///
/// Memory: one row group's encoded column chunks (at most about ``ParquetFormat/Limits/rowGroupBytes``)
/// plus one open page per column. ``byteCount`` is the bytes handed out or ready plus those
/// buffered in the open row group, so it grows with every append.
///
/// After any thrown error the encoder is spent (further calls throw). It holds reference-typed column writers: copies of one encoder share them, so use
/// each encoder value once (as the exporter does).
public struct ParquetEncoder: TableEncoder {
    /// `created_by` of every file.
    public static let createdBy = "backtest-export version 0.1.0"

    private enum Column {
        case key(StringColumnWriter, position: Int)
        case window(StringColumnWriter)
        case time(Int64ColumnWriter)
        case double(DoubleColumnWriter)
    }

    private let context: PartContext
    private let tableSchema: TableSchema
    private let limits: ParquetFormat.Limits
    /// Why the limits given to `init` are not usable (the encoder then throws it at first use).
    private let limitsError: ExportError?
    private let compressor: PageCompressor
    private let columns: [Column]
    /// With two threads: which thread appends to each column, and the second thread's compressor.
    private let columnThread: [Int]
    private let secondCompressor: PageCompressor?
    private var rowGroupRows = 0
    private var rowGroups: [RowGroup] = []
    /// Bytes of the file before the open row group (magic and finished row groups).
    private var fileOffset: Int64 = 0
    private var ready: ByteBuffer?
    /// The last buffer handed out, kept to be recycled for the next row group: once the consumer has
    /// dropped its copy, `clear(minimumCapacity:)` reuses the storage (already faulted in, no
    /// allocation); while the consumer still holds it, a fresh buffer is allocated as before.
    private var spare: ByteBuffer?
    private var finished = false
    private var reportedByteCount = 0
    private let allocator = ByteBufferAllocator()

    /// `threads` (1 or 2): with 2, each append of at least ``parallelRows`` rows encodes half of
    /// the columns on another thread (each column's pages are the same either way, so the file's
    /// bytes are too).
    public init(
        context: PartContext,
        codec: ParquetFormat.Codec = .snappy,
        limits: ParquetFormat.Limits = .init(),
        threads: Int = 1
    ) {
        self.context = context
        self.tableSchema = context.tableSchema
        // Limits out of range (ParquetFormat.Limits.validate) are reported by append and finish;
        // the writers are sized with the defaults meanwhile.
        let limitsError: ExportError?
        do throws(ExportError) {
            try limits.validate()
            limitsError = nil
        } catch {
            limitsError = error
        }
        let limits = limitsError == nil ? limits : ParquetFormat.Limits()
        self.limitsError = limitsError
        self.limits = limits
        self.compressor = PageCompressor(codec: codec)
        var columns: [Column] = []
        for (position, name) in tableSchema.keyColumns.enumerated() {
            columns.append(.key(StringColumnWriter(name: name, limits: limits), position: position))
        }
        for column in tableSchema.valueColumns {
            switch column.kind {
            case .instant, .windowTime: columns.append(.time(Int64ColumnWriter(name: column.name, limits: limits)))
            case .backtestWindow: columns.append(.window(StringColumnWriter(name: column.name, limits: limits)))
            case .double: columns.append(.double(DoubleColumnWriter(name: column.name, limits: limits)))
            }
        }
        self.columns = columns
        // Balance the columns' costs over two threads (a string column costs about two doubles).
        var load = [0, 0]
        var assignment: [Int] = []
        for column in columns {
            let cost: Int
            switch column {
            case .key, .window: cost = 4
            case .time: cost = 1
            case .double: cost = 2
            }
            let thread = threads > 1 && load[1] < load[0] ? 1 : 0
            load[thread] += cost
            assignment.append(thread)
        }
        self.columnThread = assignment
        self.secondCompressor = threads > 1 ? PageCompressor(codec: codec) : nil
    }

    /// Rows appended at once below which one thread encodes every column.
    public static let parallelRows = 4096

    /// Never decreases: the estimate of open pages can shrink when they are encoded and compressed,
    /// so the largest value reported so far is kept (it overshoots the true size by at most the
    /// estimation error of one open page per column).
    public var byteCount: Int { max(reportedByteCount, Int(fileOffset) + bufferedByteCount) }

    /// Bytes held for the open row group (stored pages plus estimates of open pages and dictionaries).
    private var bufferedByteCount: Int {
        var total = fileOffset == 0 ? 4 : 0
        for column in columns {
            switch column {
            case .key(let w, _), .window(let w): total += w.bufferedByteCount
            case .time(let w): total += w.bufferedByteCount
            case .double(let w): total += w.bufferedByteCount
            }
        }
        return total
    }

    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func append<Batch: ColumnarBatch>(_ batch: Batch, rows: Range<Int>) throws(ExportError) {
        if let limitsError { throw limitsError }
        guard !finished else { throw .internal("Parquet encoder used after finish()") }
        guard rows.lowerBound >= 0, rows.upperBound <= batch.rowCount else {
            throw .internal("Parquet append: rows \(rows) outside the batch's \(batch.rowCount) rows")
        }
        guard !rows.isEmpty else { return }
        let valueColumns = tableSchema.outputColumns(of: batch)
        try validate(batch, valueColumns, rows: rows)
        let series = batch.series
        let seriesIndex = batch.seriesIndex
        // A failure part-way leaves columns with different row counts: the encoder is spent.
        finished = true
        var start = rows.lowerBound
        while start < rows.upperBound {
            let n = min(rows.upperBound - start, limits.rowGroupRows - rowGroupRows, limits.appendSliceRows)
            let slice = start..<(start + n)
            try seriesIndex.withUnsafeBufferPointer { (index) throws(ExportError) in
                if let secondCompressor, n >= Self.parallelRows {
                    var failures: [ExportError?] = [nil, nil]
                    failures.withUnsafeMutableBufferPointer { failures in
                        ParallelWork.run(2) { thread in
                            do throws(ExportError) {
                                try appendColumns(
                                    of: thread,
                                    slice,
                                    series: series,
                                    index: index,
                                    valueColumns: valueColumns,
                                    compressor: thread == 0 ? compressor : secondCompressor
                                )
                            } catch {
                                failures[thread] = error
                            }
                        }
                    }
                    if let failure = failures[0] ?? failures[1] { throw failure }
                } else {
                    try appendColumns(
                        of: nil,
                        slice,
                        series: series,
                        index: index,
                        valueColumns: valueColumns,
                        compressor: compressor
                    )
                }
            }
            rowGroupRows += n
            start += n
            if rowGroupRows >= limits.rowGroupRows || bufferedByteCount >= limits.rowGroupBytes {
                try finishRowGroup()
            }
            reportedByteCount = max(reportedByteCount, Int(fileOffset) + bufferedByteCount)
        }
        finished = false
    }

    /// Appends `slice` to the columns given to `thread` (nil: every column).
    private func appendColumns(
        of thread: Int?,
        _ slice: Range<Int>,
        series: [SeriesKey],
        index: UnsafeBufferPointer<Int32>,
        valueColumns: [BatchColumn],
        compressor: PageCompressor
    ) throws(ExportError) {
        for (c, column) in columns.enumerated() where thread == nil || columnThread[c] == thread {
            switch column {
            case .key(let writer, let position):
                let source = SeriesKeyColumnSource(series: series, seriesIndex: index, position: position)
                try writer.append(source, rows: slice, compressor: compressor)
            case .window(let writer):
                guard case .backtestWindows(let windows) = valueColumns[c - tableSchema.keyColumns.count]
                else { continue }
                try windows.withUnsafeBufferPointer { (w) throws(ExportError) in
                    try writer.append(BacktestWindowSource(windows: w), rows: slice, compressor: compressor)
                }
            case .time(let writer):
                guard case .times(let values) = valueColumns[c - tableSchema.keyColumns.count] else { continue }
                try writer.append(values, rows: slice, compressor: compressor)
            case .double(let writer):
                guard case .doubles(let values) = valueColumns[c - tableSchema.keyColumns.count] else {
                    continue
                }
                try writer.append(values, rows: slice, compressor: compressor)
            }
        }
    }

    /// A bound on how much ``byteCount`` can grow when `rows` of `batch` are appended: every value
    /// as if PLAIN (a string's length prefix and bytes, at the longest key of those rows; 8 bytes a
    /// number) plus its levels, a fifth more for a codec that expands, and page headers. With it,
    /// the part writer holds rows back and hands them over together (``append(pieces:)``).
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public func byteBound<Batch: ColumnarBatch>(_ batch: Batch, rows: Range<Int>) -> Int {
        guard !rows.isEmpty else { return 0 }
        let seriesIndex = batch.seriesIndex
        guard rows.lowerBound >= 0, rows.upperBound <= seriesIndex.count else { return .max }
        var lowest = Int32.max
        var highest = Int32.min
        seriesIndex.withUnsafeBufferPointer { index in
            for row in rows {
                lowest = min(lowest, index[row])
                highest = max(highest, index[row])
            }
        }
        guard lowest >= 0, Int(highest) < batch.series.count else { return .max }
        var longestKeys = 0
        for s in Int(lowest)...Int(highest) {
            let key = batch.series[s]
            var length = key.itemId.utf8.count + 5
            for d in key.dimensions { length += d.utf8.count + 5 }
            longestKeys = max(longestKeys, length)
        }
        var perRow = longestKeys
        var pageHeaders = 0
        for column in columns {
            switch column {
            case .key: break
            case .window: perRow += 16
            case .time: perRow += 17
            case .double: perRow += 10
            }
            pageHeaders += (2 + rows.count / max(1, limits.pageRows)) * 128
        }
        return rows.count * perRow * 5 / 4 + pageHeaders + 1024
    }

    /// Appends the pieces in order; pieces that continue each other in one batch are appended as
    /// one range, so that runs of short series reach the threads (``parallelRows``).
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func append<Batch: ColumnarBatch>(pieces: [(batch: Batch, rows: Range<Int>)]) throws(ExportError) {
        var index = 0
        while index < pieces.count {
            let batch = pieces[index].batch
            let identity = batch.seriesIndex.withUnsafeBufferPointer { $0.baseAddress }
            var rows = pieces[index].rows
            index += 1
            while index < pieces.count, pieces[index].rows.lowerBound == rows.upperBound,
                pieces[index].batch.seriesIndex.withUnsafeBufferPointer({ $0.baseAddress }) == identity
            {
                rows = rows.lowerBound..<pieces[index].rows.upperBound
                index += 1
            }
            try append(batch, rows: rows)
        }
    }

    /// Checks that the batch has this table's columns, with enough rows and valid series indices.
    private func validate<Batch: ColumnarBatch>(
        _ batch: Batch,
        _ valueColumns: [BatchColumn],
        rows: Range<Int>
    )
        throws(ExportError)
    {
        let expected = tableSchema.valueColumns
        guard valueColumns.count == expected.count else {
            throw .internal(
                "Parquet append: the batch has \(valueColumns.count) value columns, the \(context.table.folderName) table \(expected.count)"
            )
        }
        guard batch.seriesIndex.count >= rows.upperBound else {
            throw .internal("Parquet append: seriesIndex has \(batch.seriesIndex.count) rows, need \(rows.upperBound)")
        }
        for (column, spec) in zip(valueColumns, expected) {
            let count: Int
            switch (column, spec.kind) {
            case (.times(let v), .instant), (.times(let v), .windowTime): count = v.count
            case (.backtestWindows(let v), .backtestWindow): count = v.count
            case (.doubles(let v), .double):
                count = v.count
                if let p = v.isPresent, p.count != v.count {
                    throw .internal(
                        "Parquet append: column '\(spec.name)' has \(p.count) presence flags for \(v.count) values"
                    )
                }
            default:
                throw .internal("Parquet append: column '\(spec.name)' has the wrong kind of data (\(column))")
            }
            guard count >= rows.upperBound else {
                throw .internal("Parquet append: column '\(spec.name)' has \(count) rows, need \(rows.upperBound)")
            }
        }
        // One pass over the rows: every series index is valid and every series used has the dimensions.
        let series = batch.series
        let dimensionCount = tableSchema.keyColumns.count - 1
        try batch.seriesIndex.withUnsafeBufferPointer { (index) throws(ExportError) in
            var previous: Int32 = -1
            for r in rows where index[r] != previous {
                let s = index[r]
                guard s >= 0, Int(s) < series.count else {
                    throw .internal(
                        "Parquet append: row \(r) has series index \(s), the batch has \(series.count) series"
                    )
                }
                guard series[Int(s)].dimensions.count >= dimensionCount else {
                    throw .internal(
                        "Parquet append: series \(series[Int(s)]) has \(series[Int(s)].dimensions.count) dimension values, the table \(dimensionCount)"
                    )
                }
                previous = s
            }
        }
    }

    public mutating func takeReadyBytes() -> ByteBuffer? {
        defer { ready = nil }
        if let ready { spare = ready }
        return ready
    }

    public mutating func finish() throws(ExportError) -> ByteBuffer {
        if let limitsError { throw limitsError }
        guard !finished else { throw .internal("Parquet encoder finished twice") }
        finished = true
        if rowGroupRows > 0 {
            // Room for the footer in the last row group's buffer, so that it is never copied to grow:
            // the footer so far plus a bound on one more row group's metadata.
            var bound = footerMetadata().serialized.count + 64
            for column in columns {
                switch column {
                case .key(let w, _), .window(let w):
                    bound += 256 + 2 * w.name.utf8.count + 2 * StringColumnWriter.statisticsLengthLimit
                case .time(let w): bound += 256 + 2 * w.name.utf8.count
                case .double(let w): bound += 256 + 2 * w.name.utf8.count
                }
            }
            try finishRowGroup(reserving: bound)
        }
        let footer = footerMetadata().serialized
        var out = ready ?? allocator.buffer(capacity: footer.count + 12)
        ready = nil
        spare = nil
        if fileOffset == 0 {
            out.writeBytes(Self.magic)
            fileOffset = 4
        }
        out.writeBytes(footer)
        out.writeInteger(UInt32(footer.count), endianness: .little)
        out.writeBytes(Self.magic)
        fileOffset += Int64(footer.count + 8)
        return out
    }

    static let magic: [UInt8] = Array("PAR1".utf8)

    /// The footer for the row groups written so far.
    func footerMetadata() -> FileMetaData {
        var schema: [SchemaElement] = [.root(numChildren: columns.count)]
        for column in columns {
            switch column {
            case .key(let w, _), .window(let w): schema.append(.string(w.name, repetition: .required))
            case .time(let w): schema.append(.timestampMillis(w.name, repetition: .required))
            case .double(let w): schema.append(.double(w.name, repetition: .optional))
            }
        }
        return FileMetaData(
            schema: schema,
            rowGroups: rowGroups,
            keyValueMetadata: [
                ("backtest-export.job", context.jobName.rawValue),
                ("backtest-export.timestamp", context.timestamp.iso8601),
                (
                    "backtest-export.forecast_types",
                    context.schema.outputForecastTypes.map(\.columnName).joined(separator: ",")
                ),
            ],
            createdBy: Self.createdBy
        )
    }

    /// Seals every column chunk, lays the chunks out after the file's current end and records the
    /// row group's metadata.
    /// `reserving` adds capacity after the chunks (for the footer).
    ///
    /// With two threads, each thread seals its own columns and copies their chunks into the row
    /// group's buffer at offsets fixed beforehand: the same bytes as one thread, and the copy (the
    /// whole row group, ~10 MB by default) no longer runs on one core while the other waits.
    private mutating func finishRowGroup(reserving extra: Int = 0) throws(ExportError) {
        guard rowGroupRows > 0 else { return }
        let parallel = secondCompressor != nil && rowGroupRows >= Self.parallelRows
        var statistics = [Statistics](repeating: Statistics(nullCount: 0, legacyMinMax: false), count: columns.count)
        var failures: [ExportError?] = [nil, nil]
        statistics.withUnsafeMutableBufferPointer { statistics in
            failures.withUnsafeMutableBufferPointer { failures in
                ParallelWork.run(parallel ? 2 : 1) { thread in
                    do throws(ExportError) {
                        try sealColumns(
                            of: parallel ? thread : nil,
                            compressor: thread == 0 ? compressor : secondCompressor!,
                            into: statistics
                        )
                    } catch {
                        failures[thread] = error
                    }
                }
            }
        }
        if let failure = failures[0] ?? failures[1] { throw failure }
        // Metadata and offsets first (they read the chunks' counts), then the copies and resets.
        // The first row group follows the 4-byte magic.
        let start = fileOffset == 0 ? Int64(Self.magic.count) : fileOffset
        var metadata: [ColumnMetaData] = []
        metadata.reserveCapacity(columns.count)
        var offsets: [Int] = []
        offsets.reserveCapacity(columns.count)
        var offset = start
        let codec = compressor.thriftCodec
        for (column, stats) in zip(columns, statistics) {
            let m: ColumnMetaData
            switch column {
            case .key(let w, _), .window(let w):
                m = w.chunk.metadata(
                    type: .byteArray,
                    path: w.name,
                    codec: codec,
                    chunkOffset: offset,
                    statistics: stats
                )
            case .time(let w):
                m = w.chunk.metadata(type: .int64, path: w.name, codec: codec, chunkOffset: offset, statistics: stats)
            case .double(let w):
                m = w.chunk.metadata(type: .double, path: w.name, codec: codec, chunkOffset: offset, statistics: stats)
            }
            guard m.numValues == Int64(rowGroupRows) else {
                throw .internal(
                    "Parquet column '\(m.path)' has \(m.numValues) values in a row group of \(rowGroupRows) rows"
                )
            }
            metadata.append(m)
            offsets.append(Int(offset - start))
            offset += m.totalCompressedSize  // the chunk's stored bytes, page headers included
        }
        let size = Int(offset - start)
        var out: ByteBuffer
        if var existing = ready {
            ready = nil
            existing.reserveCapacity(minimumWritableBytes: size + extra)
            out = existing
        } else if var recycled = spare {
            spare = nil
            recycled.clear(minimumCapacity: size + 4 + extra)
            out = recycled
        } else {
            out = allocator.buffer(capacity: size + 4 + extra)
            out.withUnsafeMutableWritableBytes { HugePageAdvice.advise($0.baseAddress!, byteCount: $0.count) }
        }
        if fileOffset == 0 {
            out.writeBytes(Self.magic)
            fileOffset = start
        }
        let copyInParallel = parallel && size >= Self.parallelCopyBytes
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { destination in
            let base = destination.baseAddress!
            ParallelWork.run(copyInParallel ? 2 : 1) { thread in
                for (c, column) in columns.enumerated() where !copyInParallel || columnThread[c] == thread {
                    Self.copyChunk(of: column, to: base + offsets[c])
                }
            }
            return size
        }
        rowGroups.append(RowGroup(columns: metadata, numRows: Int64(rowGroupRows), fileOffset: fileOffset))
        fileOffset = offset
        rowGroupRows = 0
        ready = out
    }

    /// Row-group bytes below which one thread copies every chunk.
    static let parallelCopyBytes = 1 << 20

    /// Seals the columns given to `thread` (nil: every column), each statistics at its column's index.
    private func sealColumns(
        of thread: Int?,
        compressor: PageCompressor,
        into statistics: UnsafeMutableBufferPointer<Statistics>
    ) throws(ExportError) {
        for (c, column) in columns.enumerated() where thread == nil || columnThread[c] == thread {
            switch column {
            case .key(let w, _), .window(let w): statistics[c] = try w.seal(compressor: compressor)
            case .time(let w): statistics[c] = try w.seal(compressor: compressor)
            case .double(let w): statistics[c] = try w.seal(compressor: compressor)
            }
        }
    }

    /// Copies `column`'s sealed chunk to `destination` and empties the writer for the next row group.
    private static func copyChunk(of column: Column, to destination: UnsafeMutableRawPointer) {
        switch column {
        case .key(let w, _), .window(let w):
            w.chunk.copy(to: destination)
            w.reset()
        case .time(let w):
            w.chunk.copy(to: destination)
            w.reset()
        case .double(let w):
            w.chunk.copy(to: destination)
            w.reset()
        }
    }
}
