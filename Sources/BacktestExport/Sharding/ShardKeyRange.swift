public import ExportCore

/// The series one shard exports: keys `k` with `lower ≤ k < upper` in byte-wise ``SeriesKey``
/// order; a nil bound is open. The ranges of a ``ShardPlan``'s shards partition every key, so each
/// series goes to exactly one shard, and shard order is export order.
public struct ShardKeyRange: Sendable, Equatable, CustomStringConvertible {
    public var lower: SeriesKey?
    public var upper: SeriesKey?

    /// A range that holds no key (a shard past the split points of an empty sample).
    public var holdsNothing = false

    public init(lower: SeriesKey?, upper: SeriesKey?) {
        self.lower = lower
        self.upper = upper
    }

    /// The range that holds no key.
    public static var nothing: ShardKeyRange {
        var range = ShardKeyRange(lower: nil, upper: nil)
        range.holdsNothing = true
        return range
    }

    /// Whether `key` belongs to this range. O(key length).
    public func contains(_ key: SeriesKey) -> Bool {
        if holdsNothing { return false }
        if let lower, key < lower { return false }
        if let upper, !(key < upper) { return false }
        return true
    }

    public var description: String {
        if holdsNothing { return "no series" }
        return
            "[\(lower.map { "'\($0)'" } ?? "first series"), \(upper.map { "'\($0)'" } ?? "last series")\(upper == nil ? "]" : ")")"
    }
}
