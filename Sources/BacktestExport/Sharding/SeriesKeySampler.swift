public import ExportCore

/// A uniform sample of the input's rows, keeping only each sampled row's series key: where the
/// rows are, so that split points cut the input into shards of about equal row counts.
///
/// Reservoir sampling (Algorithm R) with a fixed seed: the same input gives the same sample on
/// every machine. Memory: `capacity` keys. Cost per batch: O(series runs) plus one random number
/// per row once the reservoir is full.
public struct SeriesKeySampler: Sendable {
    public let capacity: Int
    public private(set) var sample: [SeriesKey] = []
    /// Rows seen so far.
    public private(set) var rowCount = 0
    private var random: SplitMix64

    public init(capacity: Int = 100_000, seed: UInt64 = 0x5EED_5A3D_1E5) {
        precondition(capacity > 0, "a sample needs room for one key")
        self.capacity = capacity
        random = SplitMix64(seed: seed)
        sample.reserveCapacity(min(capacity, 1 << 16))
    }

    /// Adds every row of `batch`.
    public mutating func add(_ batch: ForecastBatch) {
        for run in batch.seriesRuns() {
            let key = batch.series[Int(batch.seriesIndex[run.lowerBound])]
            var remaining = run.count
            while remaining > 0 && sample.count < capacity {
                sample.append(key)
                rowCount += 1
                remaining -= 1
            }
            while remaining > 0 {
                rowCount += 1
                remaining -= 1
                let slot = Int(random.next() % UInt64(rowCount))
                if slot < capacity { sample[slot] = key }
            }
        }
    }

    /// `shardCount − 1` split points: the sampled keys at the row quantiles `i/shardCount`, in
    /// non-decreasing order. A key holding many rows cannot be cut, so a split point may repeat:
    /// the shard between two equal points is empty (it still runs and commits nothing). An empty
    /// sample gives no split points and the plan then has one shard.
    public func splitPoints(shardCount: Int) -> [SeriesKey] {
        precondition(shardCount >= 1, "at least one shard")
        let sorted = sample.sorted()
        guard !sorted.isEmpty, shardCount > 1 else { return [] }
        return (1..<shardCount).map { i in
            // Never split before the first key: shard 0 would be empty for no reason.
            sorted[min(max(1, i * sorted.count / shardCount), sorted.count - 1)]
        }
    }
}
