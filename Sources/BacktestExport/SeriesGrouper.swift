public import ExportCore
import ExportSinks

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How the ``SeriesGrouper`` may use memory and disk.
public struct GroupingOptions: Sendable {
    /// Bytes of rows held in memory before a run is spilled to disk. Default 1 GiB.
    public var memoryLimit: Int
    /// Where run files go. Default: `$TMPDIR` or `/tmp`.
    public var temporaryDirectory: String
    /// Rows per batch handed out.
    public var batchSize: Int
    /// The most run files merged at once (and so open at once); more runs are merged in passes.
    /// Default 64; fewer when the open-file limit (`ulimit -n`) would not allow twice as many.
    public var mergeFanIn: Int

    public init(
        memoryLimit: Int = 1 << 30,
        temporaryDirectory: String? = nil,
        batchSize: Int = 65_536,
        mergeFanIn: Int = 64
    ) {
        self.memoryLimit = max(memoryLimit, 1)
        self.temporaryDirectory =
            temporaryDirectory ?? (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
        self.batchSize = max(batchSize, 1)
        self.mergeFanIn = max(mergeFanIn, 2)
    }
}

/// Where a row came from: an origin (a file name, interned by the grouper) in the top 24 bits
/// and the 1-based line in the low 40 (or, for rows of a source that gives no lines, the row's
/// 1-based position in the input, with origin 0).
enum RowProvenance {
    static let lineBits: UInt64 = 40
    static let lineMask: UInt64 = (1 << lineBits) - 1
}

/// An origin of ``RowProvenance``: the file's name as the user gave it, and whether its numbers
/// are rows (a Parquet file, 1-based) rather than lines.
struct RowOrigin: Hashable {
    var name: String
    var countsRows: Bool
}

/// Puts rows that arrive in any order into the export's order (series byte-wise, then window
/// start, then timestamp) in one pass over the input, with bounded memory, and refuses two rows
/// of one series, window start and timestamp (an input error naming both rows' lines).
///
/// Rows are gathered column by column in a ``RowBuffer`` (each series key interned once) up to
/// ``GroupingOptions/memoryLimit``. Without spills, the rows are ordered by a radix sort of
/// packed integer keys and handed out by gathering: O(rows) for any input order. Past the
/// budget, the rows so far are sorted and written to a run file (``SpillRun``) and memory is
/// reused; at the end the runs are merged, at most ``GroupingOptions/mergeFanIn`` at a time
/// (more runs are merged in passes into larger runs first), so neither open files nor merge
/// buffers grow with the input. Temporary files are removed when the grouper ends, fails, or the
/// process is interrupted (SIGINT/SIGTERM, see ``TemporaryFiles``).
public final class SeriesGrouper<Source: ForecastSource>: ForecastSource {
    public var schema: ExportSchema { source.schema }
    public var inputProgress: InputProgress? { source.inputProgress }
    /// How many sorted runs were written to disk (including those of intermediate merge passes).
    public private(set) var spilledRunCount = 0
    /// Whether the rows arrived in the export's order already (known once the first batch is out).
    public private(set) var inputWasInExportOrder = true
    /// How many merge passes ran before the last merge (each merges groups of runs into larger runs).
    public private(set) var mergePassCount = 0

    private var source: Source
    private let options: GroupingOptions
    private let publishGate: PublishGate?
    private var buffer: RowBuffer
    private var state = State.collecting
    private var runs: [(path: String, registration: Int)] = []
    private var folder: (path: String, registration: Int)?
    private var origins: [RowOrigin] = [RowOrigin(name: "", countsRows: false)]
    private var originIndex: [RowOrigin: Int] = [RowOrigin(name: "", countsRows: false): 0]
    private var rowsRead: Int64 = 0
    private var runNumber = 0
    /// Runs merged at once: ``GroupingOptions/mergeFanIn``, or fewer when the process may not open
    /// that many files (the last merge and its duplicate check each hold one file per run).
    private lazy var fanIn = min(options.mergeFanIn, Self.fanInAllowedByOpenFileLimit())

    private enum State {
        case collecting
        /// Rows handed out in `order`, or in their buffered order when it is nil (the input was in
        /// the export's order).
        case emittingSorted(order: RowOrder?, next: Int)
        case merging(RunMerger)
        case finished
    }

    /// - Parameter publishGate: when given, the duplicate check over spilled runs runs beside the
    ///   merge instead of before it, and the caller must wait for ``PublishGate/passed()`` before
    ///   publishing anything (rows are then handed out before the check has ended; a duplicate
    ///   still fails ``nextBatch()`` when the merge reaches it).
    public init(source: Source, options: GroupingOptions = GroupingOptions(), publishGate: PublishGate? = nil) {
        self.source = source
        self.options = options
        self.publishGate = publishGate
        self.buffer = RowBuffer(forecastTypeCount: source.schema.forecastTypes.count)
    }

    deinit { removeTemporaryFiles() }

    public func nextBatch() throws -> ForecastBatch? {
        do {
            if case .collecting = state { try collect() }
            switch state {
            case .collecting, .finished:
                return nil
            case .emittingSorted(let order, let next):
                guard next < buffer.rowCount else {
                    state = .finished
                    buffer.removeAll()
                    return nil
                }
                let end = min(next + options.batchSize, buffer.rowCount)
                state = .emittingSorted(order: order, next: end)
                guard let order else { return buffer.slice(next..<end) }
                return buffer.gather(order, next..<end)
            case .merging(let merger):
                var batch = ForecastBatch(forecastTypeCount: schema.forecastTypes.count)
                var provenance: [UInt64] = []
                batch.reserveCapacity(options.batchSize)
                guard try merger.next(into: &batch, provenance: &provenance, rows: options.batchSize) else {
                    state = .finished
                    removeTemporaryFiles()
                    return nil
                }
                if !merger.runsWereInOrder { inputWasInExportOrder = false }
                return batch
            }
        } catch {
            state = .finished
            removeTemporaryFiles()
            throw error
        }
    }

    // MARK: - Collecting and spilling

    private func collect() throws {
        var reserved = false
        while let batch = try source.nextBatch() {
            // The export stopped (failed or cancelled): end here, removing the runs (see catch).
            if Task.isCancelled { throw CancellationError() }
            if !reserved && runs.isEmpty && batch.rowCount > 0 {
                reserved = true
                reserveForWholeInput(rowsRead: Int(rowsRead) + batch.rowCount)
            }
            let origin =
                UInt64(originNumber(RowOrigin(name: batch.sourceName, countsRows: batch.sourceCountsRows)))
                << RowProvenance.lineBits
            let lines = batch.sourceLine.count == batch.rowCount ? batch.sourceLine : nil
            let first = rowsRead + 1
            let provenance: (Int) -> UInt64 =
                if let lines {
                    { origin | (UInt64(bitPattern: lines[$0]) & RowProvenance.lineMask) }
                } else {
                    { UInt64(first + Int64($0)) & RowProvenance.lineMask }
                }
            // Append in slices that fit what is left of the budget, so that a batch larger than
            // the budget still spills at the budget.
            var start = 0
            while start < batch.rowCount {
                let room = max(1, (options.memoryLimit - buffer.estimatedBytes) / buffer.bytesPerRow)
                let end = min(batch.rowCount, start + room)
                buffer.append(batch, rows: start..<end, provenance: provenance)
                start = end
                if buffer.estimatedBytes >= options.memoryLimit { try spill() }
            }
            rowsRead += Int64(batch.rowCount)
        }
        if runs.isEmpty {
            let sorted = buffer.sortedOrder()
            if let duplicate = sorted.duplicate { throw duplicateError(in: buffer, duplicate) }
            if let order = sorted.order {
                inputWasInExportOrder = false
                buffer.releaseKeyColumns(readableFrom: order)
            }
            state = .emittingSorted(order: sorted.order, next: 0)
            return
        }
        if buffer.rowCount > 0 { try spill() }
        buffer = RowBuffer(forecastTypeCount: schema.forecastTypes.count)
        while runs.count > fanIn { try mergePass() }
        // A duplicate in two runs shows only in the merge: find it before anything is published
        // for such an input (one more read of the runs). With a gate, beside the merge that hands
        // rows out (whose publishing waits at the gate); else before any row is handed out.
        let check = try makeMerger(for: runs, bufferSize: 64 << 10)
        if let publishGate {
            let handed = HandedOver(value: check)
            publishGate.start { try handed.value.checkForDuplicates() }
        } else {
            try check.checkForDuplicates()
        }
        state = .merging(try makeMerger(for: runs))
    }

    /// Sizes the buffer once, from the first batch, for the rows the whole input holds (by its
    /// bytes read so far), within the memory budget: the columns then never grow by copying.
    private func reserveForWholeInput(rowsRead: Int) {
        guard let estimate = source.inputProgress?.estimatedTotalRows(rowsRead: rowsRead) else { return }
        let budgetRows = max(0, options.memoryLimit - buffer.estimatedBytes) / buffer.bytesPerRow
        buffer.reserve(rows: min(estimate + estimate / 64 + 1024, budgetRows + 1))
    }

    private func originNumber(_ origin: RowOrigin) -> Int {
        if let known = originIndex[origin] { return known }
        let number = origins.count
        origins.append(origin)
        originIndex[origin] = number
        return number
    }

    private func spill() throws {
        let sorted = buffer.sortedOrder()
        if let duplicate = sorted.duplicate { throw duplicateError(in: buffer, duplicate) }
        if sorted.order != nil { inputWasInExportOrder = false }
        var writer = try newRun()
        let provenance = buffer.provenance
        let order = sorted.order
        // A slice at a time, in the export's order (gathered when the rows are not: the random
        // reads of a gather overlap in a tight loop).
        var start = 0
        while start < buffer.rowCount {
            if Task.isCancelled { throw CancellationError() }
            let end = min(start + spillSlice, buffer.rowCount)
            let batch = order.map { buffer.gather($0, start..<end) } ?? buffer.slice(start..<end)
            try writer.append(batch, keys: batch.series, provenance: { provenance[order?[start + $0] ?? start + $0] })
            start = end
        }
        try writer.close()
        buffer.removeAll()
    }

    /// Rows gathered at once when a run is written: 16 K rows (about 1 MiB at five values a row).
    private var spillSlice: Int { 16_384 }

    private func newRun() throws -> SpillRun.Writer {
        let folder = try temporaryFolder()
        let path = "\(folder)/run\(runNumber).bin"
        runNumber += 1
        runs.append((path, TemporaryFiles.register(path)))
        spilledRunCount += 1
        return try SpillRun.Writer(path: path)
    }

    /// One merge pass: each group of ``GroupingOptions/mergeFanIn`` consecutive runs becomes one
    /// run in its place (so runs stay in input order); every row is rewritten once per pass, and
    /// there are about log_fanIn(runs) passes.
    private func mergePass() throws {
        let groups = stride(from: 0, to: runs.count, by: fanIn).map {
            Array(runs[$0..<min($0 + fanIn, runs.count)])
        }
        runs.removeAll()
        for (index, group) in groups.enumerated() {
            if group.count == 1 {
                runs.append(group[0])
                continue
            }
            do {
                try merge(group)
            } catch {
                // The runs not merged yet must still be removed.
                for later in groups[(index + 1)...] { runs += later }
                throw error
            }
        }
        mergePassCount += 1
    }

    /// Merges `inputs` into one new run at the end of ``runs`` and removes them.
    private func merge(_ inputs: [(path: String, registration: Int)]) throws {
        defer {
            for run in inputs {
                unlink(run.path)
                TemporaryFiles.unregister(run.registration)
            }
        }
        let merger = try makeMerger(for: inputs)
        var writer = try newRun()
        var batch = ForecastBatch(forecastTypeCount: schema.forecastTypes.count)
        var provenance: [UInt64] = []
        while try merger.next(into: &batch, provenance: &provenance, rows: options.batchSize) {
            if Task.isCancelled { throw CancellationError() }
            if !merger.runsWereInOrder { inputWasInExportOrder = false }
            try writer.append(batch, keys: batch.series, provenance: { provenance[$0] })
            batch.removeAll()
            provenance.removeAll(keepingCapacity: true)
        }
        try writer.close()
    }

    private func makeMerger(for runs: [(path: String, registration: Int)], bufferSize: Int? = nil) throws -> RunMerger {
        let bufferSize = bufferSize ?? min(1 << 20, max(64 << 10, options.memoryLimit / fanIn))
        var readers: [SpillRun.Reader] = []
        for run in runs {
            readers.append(
                try SpillRun.Reader(
                    path: run.path,
                    forecastTypeCount: schema.forecastTypes.count,
                    dimensionCount: schema.dimensions.count,
                    bufferSize: bufferSize
                )
            )
        }
        let origins = self.origins
        return try RunMerger(readers: readers) { key, windowStart, timestamp, first, second in
            Self.duplicateError(key, windowStart, timestamp, first, second, origins)
        }
    }

    /// Half of what the soft limit on open files (`ulimit -n`) leaves after the descriptors open
    /// now (inherited ones too) and 48 for everything else (inputs, the destination, sockets, the
    /// runtime), at least 2.
    private static func fanInAllowedByOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return .max }
        return max(2, (Int(clamping: limit.rlim_cur) - OpenDescriptors.count() - 48) / 2)
    }

    private func temporaryFolder() throws -> String {
        if let folder { return folder.path }
        guard let made = TemporaryFiles.makeFolder(in: options.temporaryDirectory) else {
            throw SpillRun.error("cannot create a temporary folder (--temp-dir) in", options.temporaryDirectory)
        }
        folder = (made.path, made.token)
        return made.path
    }

    private func removeTemporaryFiles() {
        for run in runs {
            unlink(run.path)
            TemporaryFiles.unregister(run.registration)
        }
        runs.removeAll()
        if let folder {
            TemporaryFiles.removeFolder(folder.path, token: folder.registration)
        }
        folder = nil
    }

    // MARK: - Duplicates

    private func duplicateError(in buffer: RowBuffer, _ rows: (first: Int, second: Int)) -> ExportError {
        let key = buffer.keys[Int(buffer.rows.seriesIndex[rows.first])]
        return Self.duplicateError(
            key,
            buffer.window(ofRow: rows.first).start,
            buffer.rows.timestamp[rows.first],
            buffer.provenance[rows.first],
            buffer.provenance[rows.second],
            origins
        )
    }

    static func duplicateError(
        _ key: SeriesKey,
        _ windowStart: Int64,
        _ timestamp: Int64,
        _ first: UInt64,
        _ second: UInt64,
        _ origins: [RowOrigin]
    ) -> ExportError {
        let (a, b) = first <= second ? (first, second) : (second, first)
        let rule =
            "duplicate row: series \(key), window starting \(CivilTime.text(ofMilliseconds: windowStart)), timestamp"
            + " \(CivilTime.text(ofMilliseconds: timestamp)) appears twice"
        let once = "(each series, window and timestamp must appear once)"
        func origin(_ provenance: UInt64) -> RowOrigin { origins[Int(provenance >> RowProvenance.lineBits)] }
        func line(_ provenance: UInt64) -> Int { Int(provenance & RowProvenance.lineMask) }
        if origin(b).name.isEmpty {
            return .input("Rows \(line(a)) and \(line(b)) of the input: \(rule) \(once)")
        }
        // A Parquet file has rows (counted from 1), not lines: said so rather than a file:line.
        func place(_ provenance: UInt64) -> String {
            let origin = origin(provenance)
            return origin.countsRows
                ? "row \(line(provenance)) of \(origin.name)" : "\(origin.name):\(line(provenance))"
        }
        if origin(b).countsRows {
            let places =
                origin(a) == origin(b)
                ? "rows \(line(a)) and \(line(b)) of \(origin(b).name)" : "\(place(a)) and \(place(b))"
            return .input("\(rule): \(places), counting rows from 1 \(once)")
        }
        let other = origin(a) == origin(b) ? "line \(line(a))" : place(a)
        return .input("\(rule), also on \(other) \(once)", at: .init(file: origin(b).name, line: line(b)))
    }
}
