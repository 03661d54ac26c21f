internal import Synchronization

/// Where a batch's series keys came from: for each entry of ``ForecastBatch/series``, its number
/// in a series table that outlives the batch (a reader's table of the series it has seen).
///
/// A consumer of many batches from one reader (the grouper) maps each table number once, with an
/// array look-up per batch key after that, instead of hashing every batch's keys. The guarantee a
/// reader gives: within one ``table``, one number always names the same key. A new table number
/// (``newTableNumber()``) is taken whenever a reader starts a table afresh.
///
/// Cost: one `Int32` per distinct series of the batch.
public struct SeriesOrigin: Sendable, Equatable {
    /// The table's number, unique in this process.
    public let table: UInt64
    /// Per entry of the batch's `series`, its number in the table.
    public let ids: [Int32]

    public init(table: UInt64, ids: [Int32]) {
        self.table = table
        self.ids = ids
    }

    /// A table number not handed out before in this process.
    public static func newTableNumber() -> UInt64 {
        nextTableNumber.add(1, ordering: .relaxed).oldValue
    }
}

private let nextTableNumber = Atomic<UInt64>(1)
