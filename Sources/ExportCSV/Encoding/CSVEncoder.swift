public import ExportCore
public import NIOCore
import Synchronization

/// Encodes one CSV part of either output table (SPEC §4–§5): the header at creation, then one
/// line per row, UTF-8 without BOM, `,` separated, LF line ends, RFC 4180 quoting of the series
/// keys and the header; times, labels and Java-style doubles never need quoting.
///
/// Cost per row: one copy of the series key (quoted once per series per `append`), a cached
/// timestamp per time column, a ``JavaDoubleFormatter`` call per present double. Bytes go
/// straight into a `ByteBuffer` reserved once per ~1 MiB slab using a per-row upper bound that is
/// computed once per `append`; nothing is allocated per row.
///
/// Chunks: finished chunks of about ``chunkSize`` bytes (uncompressed CSV, or compressed bytes
/// for gzip) are handed out by ``takeReadyBytes()``; ``finish()`` returns the rest (and any chunk
/// not taken).
///
/// gzip: the CSV text is built in a 256 KiB scratch area and streamed through zlib at level
/// ``GzipDeflater/defaultLevel`` into one gzip member.
///
/// The encoder owns non-copyable resources (its caches, the zlib stream) through references:
/// use one value per part and do not use a copy after the original was appended to.
public struct CSVEncoder: TableEncoder {
    /// The size at which a chunk is handed out.
    public let chunkSize: Int
    public let compression: CSVFormat.Compression
    /// Threads for ``append(pieces:)`` (1 or 2).
    public let threads: Int

    private var plan: [CSVColumnPlan]
    private let schema: TableSchema
    private let storage: CSVEncoderStorage
    private var current: ByteBuffer
    private var ready: [ByteBuffer] = []
    private var keyBytes: [UInt8] = []
    private var keyOffsets: [Int] = []
    /// Uncompressed bytes produced so far, header included.
    private var csvBytes = 0
    private var finished = false

    /// An encoder for the table described by `schema`; writes the header row at once.
    public init(
        schema: TableSchema,
        compression: CSVFormat.Compression = .none,
        chunkSize: Int = 1 << 20,
        threads: Int = 1
    ) {
        self.init(schema: schema, compression: compression, chunkSize: chunkSize, threads: threads, header: true)
    }

    private init(schema: TableSchema, compression: CSVFormat.Compression, chunkSize: Int, threads: Int, header: Bool) {
        self.schema = schema
        self.compression = compression
        self.chunkSize = max(chunkSize, 1)
        self.threads = min(2, max(1, threads))
        var slots = 0
        var missingTexts: [[UInt8]] = []
        var plan: [CSVColumnPlan] = []
        for column in schema.valueColumns {
            switch column.kind {
            case .instant, .windowTime:
                var p = CSVColumnPlan(kind: column.kind == .instant ? .instant : .windowTime)
                p.slot = slots
                slots += 1
                plan.append(p)
            case .backtestWindow:
                plan.append(CSVColumnPlan(kind: .backtestWindow))
            case .double(let missingText):
                var p = CSVColumnPlan(kind: .double)
                p.missingCount = missingText.utf8.count
                missingTexts.append(Array(missingText.utf8))
                plan.append(p)
            }
        }
        storage = CSVEncoderStorage(timeSlots: slots, missingTexts: missingTexts, gzip: compression == .gzip)
        var missingIndex = 0
        for i in plan.indices where plan[i].kind == .double {
            plan[i].missingText = UnsafePointer(storage.missingTexts[missingIndex])
            missingIndex += 1
        }
        self.plan = plan
        current = ByteBufferAllocator().buffer(capacity: self.chunkSize + Self.slack)
        guard header else { return }
        var header = CSVFieldQuoting.line(schema.columnNames)
        header.append(UInt8(ascii: "\n"))
        header.withUnsafeBytes { appendRaw($0) }
    }

    /// Extra capacity of each chunk buffer beyond ``chunkSize``: room for the last slab's rows.
    private static let slack = 64 * 1024

    /// Bytes of this part so far. Uncompressed: exact, every byte produced (handed out or
    /// buffered). gzip: the compressed bytes zlib produced so far, plus the CSV bytes still in the
    /// scratch area divided by 3 (the typical ratio at level 1); zlib's own look-ahead (up to a few
    /// tens of KiB of input) is not counted, so the figure may lag the real size by that much.
    public var byteCount: Int {
        switch compression {
        case .none: csvBytes
        case .gzip: storage.deflater!.totalOut + storage.scratchUsed / 3
        }
    }

    /// Uncompressed CSV bytes produced so far, header included.
    public var uncompressedByteCount: Int { csvBytes }

    public mutating func takeReadyBytes() -> ByteBuffer? {
        ready.isEmpty ? nil : ready.removeFirst()
    }

    /// Uncompressed: rows × (the longest quoted key of the rows' series + every column's longest
    /// cell + separators), exact enough to hold appends back until a part nears its limit. gzip:
    /// unknown (`Int.max`), as ``byteCount`` is an estimate there.
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public func byteBound<Batch: ColumnarBatch>(_ batch: Batch, rows: Range<Int>) -> Int {
        guard compression == .none, !rows.isEmpty else { return rows.isEmpty ? 0 : .max }
        let seriesIndex = batch.seriesIndex
        guard rows.lowerBound >= 0, rows.upperBound <= seriesIndex.count else { return .max }
        var lowest = Int32.max
        var highest = Int32.min
        for row in rows {
            lowest = min(lowest, seriesIndex[row])
            highest = max(highest, seriesIndex[row])
        }
        guard lowest >= 0, Int(highest) < batch.series.count else { return .max }
        var longestKey = 0
        for s in Int(lowest)...Int(highest) {
            let key = batch.series[s]
            // Quoting at most doubles a value and adds two quotes; a comma follows each value.
            var length = 2 * key.itemId.utf8.count + 3
            for d in key.dimensions { length += 2 * d.utf8.count + 3 }
            longestKey = max(longestKey, length)
        }
        return rows.count * (longestKey + plan.reduce(0) { $0 + $1.cellBound + 1 })
    }

    /// With two threads and at least ``parallelRows`` rows: the rows are cut into slices of about
    /// ``sliceRows`` rows, and two helper encoders (kept for the next call, each with its own
    /// timestamp caches) take the next slice in turn on two threads, so that a thread slowed by
    /// other work (the hasher, the writes) leaves the rest of the block to the other one instead of
    /// holding it at the join. The slices' bytes follow this part's bytes in order: the same bytes
    /// as one thread; only the chunk boundaries differ. Cost: a chunk buffer per slice.
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func append<Batch: ColumnarBatch>(
        pieces: [(batch: Batch, rows: Range<Int>)]
    ) throws(ExportError) {
        let total = pieces.reduce(0) { $0 + $1.rows.count }
        guard threads > 1, compression == .none, total >= Self.parallelRows else {
            for piece in pieces { try append(piece.batch, rows: piece.rows) }
            return
        }
        let slices = Self.slices(of: pieces, count: min(Self.maxSlices, max(2, total / Self.sliceRows)))
        var helpers =
            storage.helpers.isEmpty
            ? (0..<2).map { _ in
                CSVEncoder(schema: schema, compression: .none, chunkSize: chunkSize, threads: 1, header: false)
            }
            : storage.helpers
        storage.helpers = []
        var outputs = [[ByteBuffer]](repeating: [], count: slices.count)
        var failures = [ExportError?](repeating: nil, count: slices.count)
        let nextSlice = Atomic<Int>(0)
        helpers.withUnsafeMutableBufferPointer { helpers in
            outputs.withUnsafeMutableBufferPointer { outputs in
                failures.withUnsafeMutableBufferPointer { failures in
                    // Each thread uses only its own helper, and each slice index is taken once.
                    ParallelWork.run(2) { thread in
                        while true {
                            let i = nextSlice.wrappingAdd(1, ordering: .relaxed).oldValue
                            guard i < slices.count else { return }
                            do throws(ExportError) {
                                for piece in slices[i] { try helpers[thread].append(piece.batch, rows: piece.rows) }
                            } catch {
                                failures[i] = error
                            }
                            outputs[i] = helpers[thread].takeAllBytes()
                        }
                    }
                }
            }
        }
        storage.helpers = helpers
        if let failure = failures.lazy.compactMap({ $0 }).first { throw failure }
        // The slices' bytes follow this encoder's: close the current chunk, then hand theirs on.
        if current.readableBytes > 0 {
            ready.append(current)
            current = ByteBufferAllocator().buffer(capacity: chunkSize + Self.slack)
        }
        for output in outputs {
            for chunk in output {
                csvBytes += chunk.readableBytes
                ready.append(chunk)
            }
        }
    }

    /// Rows per slice of ``append(pieces:)`` (the unit the two threads take in turn).
    static let sliceRows = 4096
    /// At most this many slices per ``append(pieces:)``.
    static let maxSlices = 16

    /// `pieces` cut into `count` runs of about equal rows (a piece may be split between two runs).
    private static func slices<Batch: ColumnarBatch>(
        of pieces: [(batch: Batch, rows: Range<Int>)],
        count: Int
    ) -> [[(batch: Batch, rows: Range<Int>)]] {
        let total = pieces.reduce(0) { $0 + $1.rows.count }
        var result: [[(batch: Batch, rows: Range<Int>)]] = []
        result.reserveCapacity(count)
        var slice: [(batch: Batch, rows: Range<Int>)] = []
        var taken = 0
        var boundary = total / count
        for piece in pieces {
            var rows = piece.rows
            while !rows.isEmpty {
                let n = min(rows.count, boundary - taken)
                if n > 0 {
                    slice.append((piece.batch, rows.lowerBound..<rows.lowerBound + n))
                    rows = rows.lowerBound + n..<rows.upperBound
                    taken += n
                }
                if taken == boundary && result.count < count - 1 {
                    result.append(slice)
                    slice = []
                    boundary = total * (result.count + 1) / count
                }
            }
        }
        result.append(slice)
        return result
    }

    /// Every byte this encoder holds (handed-out chunks not taken, then the current chunk), in
    /// order; the encoder continues with no bytes and a new chunk buffer.
    private mutating func takeAllBytes() -> [ByteBuffer] {
        var all = ready
        ready.removeAll()
        if current.readableBytes > 0 {
            all.append(current)
            current = ByteBufferAllocator().buffer(capacity: chunkSize + Self.slack)
        }
        csvBytes = 0
        return all
    }

    /// Rows handed over together below which ``append(pieces:)`` stays on one thread.
    public static let parallelRows = 8192

    public mutating func finish() throws(ExportError) -> ByteBuffer {
        guard !finished else { throw .internal("CSV encoder: finish() called twice") }
        finished = true
        if compression == .gzip {
            try storage.deflater!.compress(
                UnsafeRawBufferPointer(start: storage.scratch, count: storage.scratchUsed),
                into: &current,
                finish: true
            )
            storage.scratchUsed = 0
        }
        guard !ready.isEmpty else { return current }
        var result = ready.removeFirst()
        for chunk in ready { result.writeImmutableBuffer(chunk) }
        result.writeBuffer(&current)
        ready.removeAll()
        return result
    }

    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func append<Batch: ColumnarBatch>(_ batch: Batch, rows: Range<Int>) throws(ExportError) {
        guard !finished else { throw .internal("CSV encoder: append after finish()") }
        guard !rows.isEmpty else { return }
        let columns = schema.outputColumns(of: batch)
        let seriesIndex = batch.seriesIndex
        let series = batch.series
        guard rows.lowerBound >= 0, rows.upperBound <= seriesIndex.count else {
            throw .internal("CSV encoder: rows \(rows) out of the batch's \(seriesIndex.count) rows")
        }
        guard columns.count == plan.count else {
            throw .internal(
                "CSV encoder: batch has \(columns.count) value columns, the table schema \(plan.count)"
            )
        }
        // Quote each series key once: the series the rows refer to, as `key,dim,…,` byte runs.
        var lowest = Int32.max
        var highest = Int32.min
        for row in rows {
            let s = seriesIndex[row]
            lowest = min(lowest, s)
            highest = max(highest, s)
        }
        guard lowest >= 0, Int(highest) < series.count else {
            throw .internal("CSV encoder: series index \(lowest < 0 ? lowest : highest) out of \(series.count) series")
        }
        keyBytes.removeAll(keepingCapacity: true)
        keyOffsets.removeAll(keepingCapacity: true)
        var longestKey = 0
        for s in Int(lowest)...Int(highest) {
            let start = keyBytes.count
            keyOffsets.append(start)
            let key = series[s]
            guard key.dimensions.count + 1 == schema.keyColumns.count else {
                throw .internal(
                    "CSV encoder: series '\(key)' has \(key.dimensions.count) dimensions, the schema \(schema.keyColumns.count - 1)"
                )
            }
            CSVFieldQuoting.append(key.itemId, to: &keyBytes)
            keyBytes.append(UInt8(ascii: ","))
            for d in key.dimensions {
                CSVFieldQuoting.append(d, to: &keyBytes)
                keyBytes.append(UInt8(ascii: ","))
            }
            longestKey = max(longestKey, keyBytes.count - start)
        }
        keyOffsets.append(keyBytes.count)
        keyBytes.append(contentsOf: repeatElement(0, count: 8))  // word-copy overshoot

        var plan = self.plan
        var rowBound = longestKey + 8 + 1
        for (i, column) in columns.enumerated() {
            try check(plan[i], column, index: i, needed: rows.upperBound)
            rowBound += plan[i].cellBound + 1
        }
        let timestamps = storage.timestamps.writer
        // Every pointer the row loop uses is taken inside the closure of the array it points into.
        try seriesIndex.withUnsafeBufferPointer { (indexes) throws(ExportError) in
            try keyBytes.withUnsafeBufferPointer { (keys) throws(ExportError) in
                try keyOffsets.withUnsafeBufferPointer { (offsets) throws(ExportError) in
                    try plan.withUnsafeMutableBufferPointer { (plan) throws(ExportError) in
                        try Self.withColumnPointers(columns, from: 0, in: plan) { () throws(ExportError) in
                            let writer = CSVRowWriter(
                                plan: UnsafeBufferPointer(plan),
                                seriesIndex: indexes.baseAddress!,
                                keyBytes: keys.baseAddress!,
                                keyOffsets: offsets.baseAddress!,
                                firstSeries: Int(lowest),
                                timestamps: timestamps
                            )
                            try writeRows(writer, rows: rows, rowBound: rowBound)
                        }
                    }
                }
            }
        }
    }

    // MARK: - Internals

    /// Checks that `column` is of the plan's kind and holds rows up to `needed`.
    private func check(
        _ plan: CSVColumnPlan,
        _ column: BatchColumn,
        index: Int,
        needed: Int
    ) throws(ExportError) {
        let name = schema.valueColumns[index].name
        func tooShort(_ count: Int) -> ExportError {
            .internal("CSV encoder: column '\(name)' has \(count) values, rows up to \(needed) were asked for")
        }
        switch (plan.kind, column) {
        case (.instant, .times(let values)), (.windowTime, .times(let values)):
            guard values.count >= needed else { throw tooShort(values.count) }
        case (.backtestWindow, .backtestWindows(let values)):
            guard values.count >= needed else { throw tooShort(values.count) }
        case (.double, .doubles(let values)):
            guard values.values.count >= needed else { throw tooShort(values.values.count) }
            guard (values.isPresent?.count ?? needed) >= needed else { throw tooShort(values.isPresent!.count) }
        default:
            throw .internal("CSV encoder: column '\(name)' (\(plan.kind)) got a batch column of another kind")
        }
    }

    /// Points `plan[index...]` at the storage of `columns[index...]` and runs `body`, inside one
    /// `withUnsafeBufferPointer` per array (nested by recursion, once per column and `append`), so
    /// that no pointer outlives the access it came from. Kinds and counts are checked before.
    private static func withColumnPointers(
        _ columns: [BatchColumn],
        from index: Int,
        in plan: UnsafeMutableBufferPointer<CSVColumnPlan>,
        _ body: () throws(ExportError) -> Void
    ) throws(ExportError) {
        guard index < columns.count else { return try body() }
        switch columns[index] {
        case .times(let values):
            try values.withUnsafeBufferPointer { (values) throws(ExportError) in
                plan[index].times = values.baseAddress
                try withColumnPointers(columns, from: index + 1, in: plan, body)
            }
        case .backtestWindows(let values):
            try values.withUnsafeBufferPointer { (values) throws(ExportError) in
                plan[index].windows = values.baseAddress
                try withColumnPointers(columns, from: index + 1, in: plan, body)
            }
        case .doubles(let column):
            try column.values.withUnsafeBufferPointer { (values) throws(ExportError) in
                plan[index].doubles = values.baseAddress
                guard let isPresent = column.isPresent else {
                    plan[index].present = nil
                    return try withColumnPointers(columns, from: index + 1, in: plan, body)
                }
                try isPresent.withUnsafeBufferPointer { (present) throws(ExportError) in
                    plan[index].present = present.baseAddress
                    try withColumnPointers(columns, from: index + 1, in: plan, body)
                }
            }
        }
    }

    /// Writes rows slab by slab into the current chunk (or the gzip scratch area).
    private mutating func writeRows(_ writer: CSVRowWriter, rows: Range<Int>, rowBound: Int) throws(ExportError) {
        var row = rows.lowerBound
        while row < rows.upperBound {
            switch compression {
            case .none:
                let room = max(rowBound, chunkSize - current.readableBytes)
                var next = row
                let written = current.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { out in
                    let base = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                    let (end, count) = writer.write(
                        rows: row..<rows.upperBound,
                        rowBound: rowBound,
                        to: base,
                        capacity: room
                    )
                    next = end
                    return count
                }
                csvBytes += written
                row = next
                if current.readableBytes >= chunkSize {
                    ready.append(current)
                    current = ByteBufferAllocator().buffer(capacity: chunkSize + Self.slack)
                }
            case .gzip:
                if storage.scratchCapacity - storage.scratchUsed < rowBound {
                    try flushScratch()
                    storage.ensureScratch(capacity: rowBound)
                }
                let base = storage.scratch + storage.scratchUsed
                let (end, count) = writer.write(
                    rows: row..<rows.upperBound,
                    rowBound: rowBound,
                    to: base,
                    capacity: storage.scratchCapacity - storage.scratchUsed
                )
                storage.scratchUsed += count
                csvBytes += count
                row = end
            }
        }
    }

    /// Appends bytes as they are (the header).
    private mutating func appendRaw(_ bytes: UnsafeRawBufferPointer) {
        csvBytes += bytes.count
        switch compression {
        case .none:
            current.writeBytes(bytes)
        case .gzip:
            storage.ensureScratch(capacity: storage.scratchUsed + bytes.count)
            if bytes.count > 0 {
                (storage.scratch + storage.scratchUsed).update(
                    from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    count: bytes.count
                )
            }
            storage.scratchUsed += bytes.count
        }
    }

    /// Compresses the scratch area into the current chunk; hands the chunk out once it is full.
    private mutating func flushScratch() throws(ExportError) {
        guard storage.scratchUsed > 0 else { return }
        try storage.deflater!.compress(
            UnsafeRawBufferPointer(start: storage.scratch, count: storage.scratchUsed),
            into: &current,
            finish: false
        )
        storage.scratchUsed = 0
        if current.readableBytes >= chunkSize {
            ready.append(current)
            current = ByteBufferAllocator().buffer(capacity: chunkSize + Self.slack)
        }
    }
}

/// The memory an encoder keeps across batches: timestamp caches, missing-value texts, the gzip
/// scratch area and stream. A class so that the encoder value stays small and the pointers stable.
final class CSVEncoderStorage {
    let timestamps: CSVTimestampCache
    /// The two threads' encoders for ``CSVEncoder/append(pieces:)``, kept between calls.
    var helpers: [CSVEncoder] = []
    /// Each missing text followed by 8 zero bytes (for word copies).
    let missingTexts: [UnsafeMutablePointer<UInt8>]
    let deflater: GzipDeflater?
    private(set) var scratch: UnsafeMutablePointer<UInt8>
    private(set) var scratchCapacity: Int
    var scratchUsed = 0

    init(timeSlots: Int, missingTexts texts: [[UInt8]], gzip: Bool) {
        timestamps = CSVTimestampCache(slotCount: timeSlots)
        missingTexts = texts.map { text in
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: text.count + 8)
            p.initialize(repeating: 0, count: text.count + 8)
            if !text.isEmpty { p.update(from: text, count: text.count) }
            return p
        }
        // zlib's deflateInit2 only fails on bad parameters or out of memory: both are bugs here.
        deflater = gzip ? try! GzipDeflater() : nil
        scratchCapacity = gzip ? 256 * 1024 : 0
        scratch = .allocate(capacity: max(scratchCapacity, 1))
    }

    deinit {
        for p in missingTexts { p.deallocate() }
        scratch.deallocate()
    }

    /// Makes the scratch area at least `capacity` bytes, keeping its content.
    func ensureScratch(capacity: Int) {
        guard capacity > scratchCapacity else { return }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        bigger.update(from: scratch, count: scratchUsed)
        scratch.deallocate()
        scratch = bigger
        scratchCapacity = capacity
    }
}
