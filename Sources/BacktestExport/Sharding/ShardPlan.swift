public import ExportCore

/// What every worker of a sharded export agrees on without talking to the others: the job's
/// name and timestamp, the number of shards, and the split points that cut the series keys
/// (byte-wise order) into one range per shard. Written by `backtest-export plan`, read by each
/// shard and by the commit. Pure: no I/O.
///
/// Shard `K` (0-based) holds the keys `k` with `splitPoints[K−1] ≤ k < splitPoints[K]` (open at
/// both ends), so shard order is the export's series order and every series has one shard.
/// With fewer split points than `shardCount − 1` (an empty input), the shards past them hold
/// nothing.
public struct ShardPlan: Sendable, Equatable {
    public static let formatVersion = 1

    public var jobName: JobName
    public var timestamp: ExportTimestamp
    public var shardCount: Int
    /// Non-decreasing; at most `shardCount − 1`.
    public var splitPoints: [SeriesKey]
    /// The input's dimension columns (a split point has one value per dimension).
    public var dimensions: [String]
    /// Rows the sample was drawn from (for the record).
    public var sampledRowCount: Int

    public init(
        jobName: JobName,
        timestamp: ExportTimestamp,
        shardCount: Int,
        splitPoints: [SeriesKey],
        dimensions: [String],
        sampledRowCount: Int
    ) throws(ExportError) {
        guard shardCount >= 1, shardCount <= 10_000 else {
            throw .validation("Invalid shard count \(shardCount): use 1 to 10000")
        }
        guard splitPoints.count <= shardCount - 1 else {
            throw .validation(
                "A plan of \(shardCount) shards has at most \(shardCount - 1) split points, not \(splitPoints.count)"
            )
        }
        for (a, b) in zip(splitPoints, splitPoints.dropFirst()) where b < a {
            throw .validation("Split points out of order: '\(b)' after '\(a)'")
        }
        for point in splitPoints where point.dimensions.count != dimensions.count {
            throw .validation("Split point '\(point)' does not have one value per dimension (\(dimensions.count))")
        }
        self.jobName = jobName
        self.timestamp = timestamp
        self.shardCount = shardCount
        self.splitPoints = splitPoints
        self.dimensions = dimensions
        self.sampledRowCount = sampledRowCount
    }

    /// The keys shard `shard` exports.
    public func range(ofShard shard: Int) -> ShardKeyRange {
        precondition((0..<shardCount).contains(shard), "shard out of range")
        if shard > splitPoints.count { return .nothing }
        return ShardKeyRange(
            lower: shard == 0 ? nil : splitPoints[shard - 1],
            upper: shard < splitPoints.count ? splitPoints[shard] : nil
        )
    }

    /// The shard that holds `key`: binary search over the split points, O(log shards).
    public func shard(of key: SeriesKey) -> Int {
        var low = 0
        var high = splitPoints.count
        while low < high {
            let middle = (low + high) / 2
            if key < splitPoints[middle] { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// `_staging/<job>_<timestamp>/`: below the destination, where every shard stages its files.
    public var stagingPrefix: String { "_staging/\(jobName.rawValue)_\(timestamp.fileNameForm)/" }

    /// `_staging/<job>_<timestamp>/shard-<K>/`.
    public func stagingPrefix(ofShard shard: Int) -> String { stagingPrefix + "shard-\(shard)/" }

    /// A fingerprint of what decides shard membership (shard count and split points: 64-bit
    /// FNV-1a, not a security measure), so that a shard manifest written under another plan of
    /// the same job and timestamp is recognised.
    public var membershipDigest: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01B3
            }
            hash ^= 0xFF  // never in UTF-8: separates the values
            hash &*= 0x0000_0100_0000_01B3
        }
        add(String(shardCount))
        for point in splitPoints { for value in point.values { add(value) } }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The plan as JSON (deterministic).
    public func json() -> String {
        let points = splitPoints.map { point in "[" + point.values.map(JSONText.quote).joined(separator: ", ") + "]" }
        return """
            {
              "version": \(Self.formatVersion),
              "job_name": \(JSONText.quote(jobName.rawValue)),
              "export_timestamp": \(JSONText.quote(timestamp.iso8601)),
              "shards": \(shardCount),
              "key_columns": [\((["item_id"] + dimensions).map(JSONText.quote).joined(separator: ", "))],
              "split_points": [\(points.isEmpty ? "" : "\n    " + points.joined(separator: ",\n    ") + "\n  ")],
              "sampled_rows": \(sampledRowCount)
            }

            """
    }

    /// Reads a plan written by ``json()``; `what` names it in errors.
    public init(parsing text: String, what: String) throws(ExportError) {
        let document = try JSONValue(parsing: text, what: what)
        func fail(_ why: String) -> ExportError { .validation("\(what) is not a shard plan: \(why)") }
        guard let version = document["version"]?.int else { throw fail("no version") }
        guard version == Self.formatVersion else {
            throw fail("version \(version) is not supported (this build reads version \(Self.formatVersion))")
        }
        guard let job = document["job_name"]?.string else { throw fail("no job_name") }
        guard let stamp = document["export_timestamp"]?.string else { throw fail("no export_timestamp") }
        guard let shards = document["shards"]?.int else { throw fail("no shards") }
        guard let columns = document["key_columns"]?.array?.compactMap(\.string), columns.first == "item_id" else {
            throw fail("no key_columns starting with item_id")
        }
        guard let rawPoints = document["split_points"]?.array else { throw fail("no split_points") }
        var points: [SeriesKey] = []
        for raw in rawPoints {
            guard let values = raw.array?.compactMap(\.string), values.count == columns.count else {
                throw fail("a split point does not have one string per key column")
            }
            points.append(SeriesKey(itemId: values[0], dimensions: Array(values.dropFirst())))
        }
        try self.init(
            jobName: try JobName(job),
            timestamp: try ExportTimestamp(parsing: stamp),
            shardCount: shards,
            splitPoints: points,
            dimensions: Array(columns.dropFirst()),
            sampledRowCount: document["sampled_rows"]?.int ?? 0
        )
    }
}
