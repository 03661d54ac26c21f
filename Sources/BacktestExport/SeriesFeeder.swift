import ExportCore

/// One series' rows, possibly spread over several batches.
struct SeriesSlices {
    var pieces: [(batch: ForecastBatch, rows: Range<Int>)] = []
}

/// Thrown by ``SeriesFeeder`` when it checks the order and finds a row out of it.
struct InputNotInExportOrder: Error {}

/// Cuts a stream of batches into whole series, without copying rows.
///
/// A series that continues into the next batch is held (as a reference to its batch) until the
/// next batch shows where it ends. With `verifyingOrder`, it checks that rows arrive in the
/// export's order (series byte-wise, then window start, timestamp, window end, strictly) and
/// throws ``InputNotInExportOrder`` at the first row that does not. Cost: O(rows) comparisons of
/// integers, and one key comparison per series.
struct SeriesFeeder<Source: ForecastSource> {
    private let source: PrefetchingSource<Source>
    private let verifyingOrder: Bool
    private var current = SeriesSlices()
    private var currentKey: SeriesKey?
    private var ready: [SeriesSlices] = []
    private var readyIndex = 0
    private var last: (windowStart: Int64, timestamp: Int64, windowEnd: Int64)?
    private var exhausted = false

    init(source: PrefetchingSource<Source>, verifyingOrder: Bool) {
        self.source = source
        self.verifyingOrder = verifyingOrder
    }

    var schema: ExportSchema { source.schema }

    /// The next whole series, or nil at the end.
    mutating func nextSeries() async throws -> SeriesSlices? {
        while readyIndex == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyIndex = 0
            if exhausted { return nil }
            guard let batch = try await source.nextBatch() else {
                exhausted = true
                if !current.pieces.isEmpty {
                    ready.append(current)
                    current = SeriesSlices()
                }
                continue
            }
            try cut(batch)
        }
        defer { readyIndex += 1 }
        return ready[readyIndex]
    }

    private mutating func cut(_ batch: ForecastBatch) throws {
        for run in batch.seriesRuns() {
            let key = batch.series[Int(batch.seriesIndex[run.lowerBound])]
            if key != currentKey {
                if verifyingOrder, let previous = currentKey, !(previous < key) { throw InputNotInExportOrder() }
                if !current.pieces.isEmpty { ready.append(current) }
                current = SeriesSlices()
                currentKey = key
                last = nil
            }
            if verifyingOrder { try verifyRows(batch, run) }
            current.pieces.append((batch, run))
        }
    }

    private mutating func verifyRows(_ batch: ForecastBatch, _ run: Range<Int>) throws {
        try batch.windowStart.withUnsafeBufferPointer { ws in
            try batch.timestamp.withUnsafeBufferPointer { ts in
                try batch.windowEnd.withUnsafeBufferPointer { we in
                    var previous = last
                    for row in run {
                        let next = (ws[row], ts[row], we[row])
                        if let p = previous, !(p < next) { throw InputNotInExportOrder() }
                        previous = next
                    }
                    last = previous
                }
            }
        }
    }
}
