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

    public init(memoryLimit: Int = 1 << 30, temporaryDirectory: String? = nil, batchSize: Int = 65_536) {
        self.memoryLimit = max(memoryLimit, 1)
        self.temporaryDirectory =
            temporaryDirectory ?? (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp")
        self.batchSize = max(batchSize, 1)
    }
}

/// Puts rows that arrive in any order into the export's order (series byte-wise, then window
/// start, then timestamp) with bounded memory.
///
/// Rows are gathered in memory up to ``GroupingOptions/memoryLimit``; past it, the rows so far are sorted
/// and written to a run file in ``GroupingOptions/temporaryDirectory`` and memory is reused. At the end,
/// without spills the rows are sorted in memory; with spills every run is merged (k-way, a heap)
/// as batches are asked for. Memory stays near the budget whatever the input size; temporary
/// files are removed when the grouper ends, fails, or the process is interrupted (SIGINT/SIGTERM,
/// see ``TemporaryFiles``).
public final class SeriesGrouper<Source: ForecastSource>: ForecastSource {
    public var schema: ExportSchema { source.schema }
    /// How many sorted runs were written to disk.
    public private(set) var spilledRunCount = 0

    private var source: Source
    private let options: GroupingOptions
    private var buffer: RowBuffer
    private var state = State.collecting
    private var runs: [(path: String, registration: Int)] = []
    private var folder: (path: String, registration: Int)?

    private enum State {
        case collecting
        case emittingSorted(order: [Int32], next: Int)
        case merging(readers: [SpillRun.Reader], heap: [Int])
        case finished
    }

    public init(source: Source, options: GroupingOptions = GroupingOptions()) {
        self.source = source
        self.options = options
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
                guard next < order.count else {
                    state = .finished
                    buffer.removeAll()
                    return nil
                }
                let end = min(next + options.batchSize, order.count)
                state = .emittingSorted(order: order, next: end)
                return buffer.gather(order[next..<end])
            case .merging(var readers, var heap):
                state = .finished
                let batch = try merge(&readers, &heap)
                if batch.rowCount == 0 {
                    removeTemporaryFiles()
                    return nil
                }
                state = .merging(readers: readers, heap: heap)
                return batch
            }
        } catch {
            removeTemporaryFiles()
            throw error
        }
    }

    // MARK: - Collecting and spilling

    private func collect() throws {
        while let batch = try source.nextBatch() {
            // Append in slices that fit what is left of the budget, so that a batch larger than
            // the budget still spills at the budget.
            var start = 0
            while start < batch.rowCount {
                let room = max(1, (options.memoryLimit - buffer.estimatedBytes) / buffer.bytesPerRow)
                let end = min(batch.rowCount, start + room)
                buffer.append(batch, rows: start..<end)
                start = end
                if buffer.estimatedBytes >= options.memoryLimit { try spill() }
            }
        }
        if runs.isEmpty {
            state = .emittingSorted(order: buffer.sortedOrder(), next: 0)
            return
        }
        if buffer.rowCount > 0 { try spill() }
        var readers: [SpillRun.Reader] = []
        for run in runs {
            readers.append(
                try SpillRun.Reader(
                    path: run.path,
                    forecastTypeCount: schema.forecastTypes.count,
                    dimensionCount: schema.dimensions.count
                )
            )
        }
        var heap: [Int] = []
        for i in readers.indices where try readers[i].advance() { heapPush(&heap, i, readers) }
        state = .merging(readers: readers, heap: heap)
    }

    private func spill() throws {
        let order = buffer.sortedOrder()
        let folder = try temporaryFolder()
        let path = "\(folder)/run\(runs.count).bin"
        runs.append((path, TemporaryFiles.register(path)))
        var writer = try SpillRun.Writer(path: path)
        try writer.append(buffer.rows, order: order, keys: buffer.keys)
        try writer.close()
        spilledRunCount += 1
        buffer.removeAll()
    }

    private func temporaryFolder() throws -> String {
        if let folder { return folder.path }
        let path = "\(options.temporaryDirectory)/backtest-export-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(path, 0o700) == 0 else {
            throw SpillRun.error("cannot create a temporary folder (set --temp-dir)", path)
        }
        folder = (path, TemporaryFiles.register(path))
        return path
    }

    private func removeTemporaryFiles() {
        for run in runs {
            unlink(run.path)
            TemporaryFiles.unregister(run.registration)
        }
        runs.removeAll()
        if let folder {
            rmdir(folder.path)
            TemporaryFiles.unregister(folder.registration)
        }
        folder = nil
    }

    // MARK: - Merging

    private func merge(_ readers: inout [SpillRun.Reader], _ heap: inout [Int]) throws -> ForecastBatch {
        var batch = ForecastBatch(forecastTypeCount: schema.forecastTypes.count)
        batch.reserveCapacity(options.batchSize)
        while batch.rowCount < options.batchSize, let top = heap.first {
            // Read the row in place: a copy of the reader would share its buffer, and the
            // advance below would then copy that buffer.
            let seriesIndex: Int32
            if let last = batch.series.last, last == readers[top].key {
                seriesIndex = Int32(batch.series.count - 1)
            } else {
                batch.series.append(readers[top].key)
                seriesIndex = Int32(batch.series.count - 1)
            }
            batch.seriesIndex.append(seriesIndex)
            batch.windowStart.append(readers[top].windowStart)
            batch.timestamp.append(readers[top].timestamp)
            batch.windowEnd.append(readers[top].windowEnd)
            batch.target.append(readers[top].values[0])
            for i in 0..<batch.forecasts.count { batch.forecasts[i].append(readers[top].values[i + 1]) }
            if try readers[top].advance() {
                heapSiftDown(&heap, 0, readers)
            } else {
                let last = heap.removeLast()
                if !heap.isEmpty {
                    heap[0] = last
                    heapSiftDown(&heap, 0, readers)
                }
            }
        }
        return batch
    }

    private static func precedes(_ a: SpillRun.Reader, _ b: SpillRun.Reader) -> Bool {
        if a.key != b.key { return a.key < b.key }
        if a.windowStart != b.windowStart { return a.windowStart < b.windowStart }
        if a.timestamp != b.timestamp { return a.timestamp < b.timestamp }
        if a.windowEnd != b.windowEnd { return a.windowEnd < b.windowEnd }
        for (x, y) in zip(a.values, b.values) where x?.bitPattern != y?.bitPattern {
            guard let x else { return true }
            guard let y else { return false }
            return x.bitPattern < y.bitPattern
        }
        return false
    }

    private func heapPush(_ heap: inout [Int], _ item: Int, _ readers: [SpillRun.Reader]) {
        heap.append(item)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(readers[heap[child]], readers[heap[parent]]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func heapSiftDown(_ heap: inout [Int], _ start: Int, _ readers: [SpillRun.Reader]) {
        var parent = start
        while true {
            var best = parent
            for child in [2 * parent + 1, 2 * parent + 2]
            where child < heap.count && Self.precedes(readers[heap[child]], readers[heap[best]]) {
                best = child
            }
            if best == parent { return }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}
