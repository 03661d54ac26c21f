import ExportCore

/// Rows held in memory by the grouper, with one series table for all of them, until they are
/// sorted and handed on (or spilled to a run file).
///
/// Cost: the rows' columns (about `28 + 9 × (1 + forecast types)` bytes a row) plus each distinct
/// series once; ``estimatedBytes`` tracks that total for the memory budget.
struct RowBuffer {
    let forecastTypeCount: Int
    private(set) var keys: [SeriesKey] = []
    private var keyIndex: [SeriesKey: Int32] = [:]
    private(set) var rows: ForecastBatch
    private(set) var estimatedBytes = 0

    init(forecastTypeCount: Int) {
        self.forecastTypeCount = forecastTypeCount
        self.rows = ForecastBatch(forecastTypeCount: forecastTypeCount)
    }

    var rowCount: Int { rows.rowCount }
    var bytesPerRow: Int { 4 + 4 + 24 + 9 * (1 + forecastTypeCount) }

    /// Appends `rows` of `batch`: one dictionary look-up per series of the batch, then bulk copies.
    mutating func append(_ batch: ForecastBatch, rows range: Range<Int>) {
        guard !range.isEmpty else { return }
        var globalIndex = [Int32](repeating: 0, count: batch.series.count)
        for (local, key) in batch.series.enumerated() {
            if let known = keyIndex[key] {
                globalIndex[local] = known
            } else {
                let index = Int32(keys.count)
                keys.append(key)
                keyIndex[key] = index
                globalIndex[local] = index
                estimatedBytes += 96 + key.values.reduce(0) { $0 + $1.utf8.count + 16 }
            }
        }
        rows.seriesIndex.append(contentsOf: batch.seriesIndex[range].lazy.map { globalIndex[Int($0)] })
        rows.timestamp.append(contentsOf: batch.timestamp[range])
        rows.windowStart.append(contentsOf: batch.windowStart[range])
        rows.windowEnd.append(contentsOf: batch.windowEnd[range])
        Self.append(batch.target, range, to: &rows.target)
        for i in 0..<forecastTypeCount {
            Self.append(batch.forecasts[i], range, to: &rows.forecasts[i])
        }
        estimatedBytes += range.count * bytesPerRow
    }

    private static func append(_ column: DoubleColumn, _ range: Range<Int>, to target: inout DoubleColumn) {
        if let present = column.isPresent {
            if target.isPresent == nil { target.isPresent = Array(repeating: true, count: target.count) }
            target.isPresent!.append(contentsOf: present[range])
        } else if target.isPresent != nil {
            target.isPresent!.append(contentsOf: repeatElement(true, count: range.count))
        }
        target.values.append(contentsOf: column.values[range])
    }

    /// The row order of the export: series byte-wise, window start, timestamp, window end, and,
    /// for rows equal in all of these, their values, so that any input order gives one output.
    /// O(n log n).
    func sortedOrder() -> [Int32] {
        let ranks = seriesRanks()
        var order = [Int32](unsafeUninitializedCapacity: rowCount) { buffer, count in
            for i in 0..<rowCount { buffer[i] = Int32(i) }
            count = rowCount
        }
        let rows = self.rows
        ranks.withUnsafeBufferPointer { rank in
            rows.seriesIndex.withUnsafeBufferPointer { series in
                rows.windowStart.withUnsafeBufferPointer { ws in
                    rows.timestamp.withUnsafeBufferPointer { ts in
                        rows.windowEnd.withUnsafeBufferPointer { we in
                            order.sort { a, b in
                                let a = Int(a)
                                let b = Int(b)
                                let ra = rank[Int(series[a])]
                                let rb = rank[Int(series[b])]
                                if ra != rb { return ra < rb }
                                if ws[a] != ws[b] { return ws[a] < ws[b] }
                                if ts[a] != ts[b] { return ts[a] < ts[b] }
                                if we[a] != we[b] { return we[a] < we[b] }
                                return Self.valuesPrecede(rows, a, b)
                            }
                        }
                    }
                }
            }
        }
        return order
    }

    /// Orders rows equal in series and times by their values' bits (missing first).
    private static func valuesPrecede(_ rows: ForecastBatch, _ a: Int, _ b: Int) -> Bool {
        func key(_ column: DoubleColumn, _ row: Int) -> (Bool, UInt64) {
            guard let value = column[row] else { return (false, 0) }
            return (true, value.bitPattern)
        }
        for column in [rows.target] + rows.forecasts {
            let ka = key(column, a)
            let kb = key(column, b)
            if ka != kb { return ka.0 != kb.0 ? !ka.0 : ka.1 < kb.1 }
        }
        return false
    }

    /// Each series' rank in byte-wise key order.
    private func seriesRanks() -> [Int32] {
        let byKey = keys.indices.sorted { keys[$0] < keys[$1] }
        var ranks = [Int32](repeating: 0, count: keys.count)
        for (rank, index) in byKey.enumerated() { ranks[index] = Int32(rank) }
        return ranks
    }

    /// Rows `order[range]` as one batch, with a series table of just the series they use.
    func gather(_ order: ArraySlice<Int32>) -> ForecastBatch {
        var batch = ForecastBatch(forecastTypeCount: forecastTypeCount)
        batch.reserveCapacity(order.count)
        var lastGlobal: Int32 = -1
        for row32 in order {
            let row = Int(row32)
            let global = rows.seriesIndex[row]
            if global != lastGlobal {
                batch.series.append(keys[Int(global)])
                lastGlobal = global
            }
            batch.seriesIndex.append(Int32(batch.series.count - 1))
            batch.timestamp.append(rows.timestamp[row])
            batch.windowStart.append(rows.windowStart[row])
            batch.windowEnd.append(rows.windowEnd[row])
            batch.target.append(rows.target[row])
            for i in 0..<forecastTypeCount { batch.forecasts[i].append(rows.forecasts[i][row]) }
        }
        return batch
    }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        keyIndex.removeAll(keepingCapacity: true)
        rows.removeAll()
        estimatedBytes = 0
    }
}
