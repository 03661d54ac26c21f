public import ExportCore

/// A ``ForecastSource`` that passes on only the rows whose series lies in one shard's key range,
/// so that everything after it (order check, grouping, encoding, metrics) sees one shard's rows.
///
/// Cost per batch: one range check per distinct series entry of the batch (O(log) key
/// comparisons are not needed: two comparisons per key); a batch entirely inside the range is
/// passed on as it is (no copy); one entirely outside is skipped; only a batch that straddles a
/// bound is copied, once, keeping its rows in their order and its used series entries only.
public struct ShardFilterSource<Base: ForecastSource>: ForecastSource {
    private var base: Base
    public let range: ShardKeyRange
    /// Rows read from the base source, and rows passed on.
    public private(set) var rowsRead = 0
    public private(set) var rowsKept = 0

    public init(base: Base, range: ShardKeyRange) {
        self.base = base
        self.range = range
    }

    public var schema: ExportSchema { base.schema }

    public mutating func nextBatch() throws -> ForecastBatch? {
        while let batch = try base.nextBatch() {
            rowsRead += batch.rowCount
            let inside = batch.series.map(range.contains)
            if inside.allSatisfy({ $0 }) {
                rowsKept += batch.rowCount
                return batch
            }
            if !inside.contains(true) { continue }
            let kept = Self.keeping(batch, inside: inside)
            rowsKept += kept.rowCount
            return kept
        }
        return nil
    }

    /// The rows of `batch` whose series entry is marked inside, in order.
    static func keeping(_ batch: ForecastBatch, inside: [Bool]) -> ForecastBatch {
        var newIndex = [Int32](repeating: -1, count: batch.series.count)
        var out = ForecastBatch(forecastTypeCount: batch.forecasts.count)
        var rows: [Int] = []
        rows.reserveCapacity(batch.rowCount)
        for row in 0..<batch.rowCount where inside[Int(batch.seriesIndex[row])] {
            rows.append(row)
            let entry = Int(batch.seriesIndex[row])
            if newIndex[entry] < 0 {
                newIndex[entry] = Int32(out.series.count)
                out.series.append(batch.series[entry])
            }
            out.seriesIndex.append(newIndex[entry])
        }
        out.timestamp = rows.map { batch.timestamp[$0] }
        out.windowStart = rows.map { batch.windowStart[$0] }
        out.windowEnd = rows.map { batch.windowEnd[$0] }
        out.target = gather(batch.target, rows)
        out.forecasts = batch.forecasts.map { gather($0, rows) }
        return out
    }

    private static func gather(_ column: DoubleColumn, _ rows: [Int]) -> DoubleColumn {
        DoubleColumn(
            values: rows.map { column.values[$0] },
            isPresent: column.isPresent.map { p in rows.map { p[$0] } }
        )
    }
}
