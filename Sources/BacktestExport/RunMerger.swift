import ExportCore

/// Merges sorted run files into one stream in the export's order, series by series.
///
/// Two levels, so that the per-row work compares integers only: among the runs not yet on the
/// current series, the smallest series key is found with one key comparison per run and series;
/// the runs that hold that series then form a small heap ordered by (window start, timestamp),
/// and rows are taken from its top until every one of them has moved past the series. Two rows
/// of one series, window start and timestamp are reported through `duplicate` (an input error).
///
/// Memory: the readers' buffers only; one series is never held whole.
final class RunMerger {
    typealias DuplicateReport = (
        _ key: SeriesKey, _ windowStart: Int64, _ timestamp: Int64, _ first: UInt64, _ second: UInt64
    ) -> ExportError

    private let readers: [SpillRun.Reader]
    private let duplicate: DuplicateReport
    /// Readers with rows left that are not on the current series.
    private var waiting: [Int] = []
    /// Readers on the current series, a heap by (window start, timestamp, provenance), each with
    /// a copy of its current row's sort fields so that sifting compares integers in one array
    /// instead of reading (and reference-counting) the readers.
    private var heap: [HeapEntry] = []

    private struct HeapEntry {
        var windowStart: Int64
        var timestamp: Int64
        var provenance: UInt64
        var reader: Int

        init(_ reader: SpillRun.Reader, index: Int) {
            windowStart = reader.windowStart
            timestamp = reader.timestamp
            provenance = reader.provenance
            self.reader = index
        }

        @inline(__always)
        func precedes(_ other: HeapEntry) -> Bool {
            if windowStart != other.windowStart { return windowStart < other.windowStart }
            if timestamp != other.timestamp { return timestamp < other.timestamp }
            return provenance < other.provenance
        }
    }
    private var currentKey: SeriesKey?
    private var last: (windowStart: Int64, timestamp: Int64, provenance: UInt64)?
    private var lastReader = 0
    /// False once a row came from an earlier run than the row before it (so the input, read run
    /// after run, was not in the export's order).
    private(set) var runsWereInOrder = true

    init(readers: [SpillRun.Reader], duplicate: @escaping DuplicateReport) throws {
        self.readers = readers
        self.duplicate = duplicate
        for i in readers.indices where try readers[i].advance() { waiting.append(i) }
    }

    /// Appends up to `rows` rows to `batch` (and their provenance); false when none was left.
    func next(into batch: inout ForecastBatch, provenance: inout [UInt64], rows: Int) throws -> Bool {
        try next(into: &batch, provenance: &provenance, rows: rows, checkingOnly: false)
    }

    /// Reads every row to the end without keeping any, only to find duplicates.
    func checkForDuplicates() throws {
        for reader in readers { reader.readsValues = false }
        var batch = ForecastBatch(forecastTypeCount: 0)
        var provenance: [UInt64] = []
        while try next(into: &batch, provenance: &provenance, rows: 1 << 20, checkingOnly: true) {}
    }

    private func next(
        into batch: inout ForecastBatch,
        provenance: inout [UInt64],
        rows: Int,
        checkingOnly: Bool
    ) throws -> Bool {
        let start = batch.rowCount
        var taken = 0
        if !heap.isEmpty, let currentKey, !checkingOnly { batch.series.append(currentKey) }
        while taken < rows {
            if heap.isEmpty {
                guard startNextSeries() else { break }
                if !checkingOnly { batch.series.append(currentKey!) }
            }
            let top = heap[0].reader
            let reader = readers[top]
            if let last, last.windowStart == reader.windowStart, last.timestamp == reader.timestamp {
                throw duplicate(reader.key, reader.windowStart, reader.timestamp, last.provenance, reader.provenance)
            }
            last = (reader.windowStart, reader.timestamp, reader.provenance)
            if top < lastReader { runsWereInOrder = false }
            lastReader = top
            taken += 1
            if !checkingOnly {
                reader.appendRow(to: &batch)
                provenance.append(reader.provenance)
            }
            let stamp = reader.keyStamp
            if try reader.advance() {
                if reader.keyStamp == stamp {
                    heap[0] = HeapEntry(reader, index: top)
                    siftDown(0)
                    continue
                }
                waiting.append(top)
            }
            let tail = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = tail
                siftDown(0)
            }
        }
        return checkingOnly ? taken > 0 : batch.rowCount > start
    }

    /// Moves the readers on the smallest waiting series into the heap.
    private func startNextSeries() -> Bool {
        guard var smallest = waiting.first else { return false }
        for i in waiting.dropFirst() where readers[i].key < readers[smallest].key { smallest = i }
        let key = readers[smallest].key
        var stillWaiting: [Int] = []
        for i in waiting {
            if i == smallest || readers[i].key == key {
                heap.append(HeapEntry(readers[i], index: i))
                siftUp(heap.count - 1)
            } else {
                stillWaiting.append(i)
            }
        }
        waiting = stillWaiting
        currentKey = key
        last = nil
        return true
    }

    private func siftUp(_ index: Int) {
        heap.withUnsafeMutableBufferPointer { heap in
            var child = index
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child].precedes(heap[parent]) else { return }
                heap.swapAt(child, parent)
                child = parent
            }
        }
    }

    private func siftDown(_ index: Int) {
        heap.withUnsafeMutableBufferPointer { heap in
            var parent = index
            let count = heap.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { return }
                var best = parent
                if heap[left].precedes(heap[best]) { best = left }
                if left + 1 < count && heap[left + 1].precedes(heap[best]) { best = left + 1 }
                if best == parent { return }
                heap.swapAt(parent, best)
                parent = best
            }
        }
    }
}
