/// Buffered rows in the export's order, as ``RowBuffer/sortedOrder()`` found it: for each
/// position, the number of the row in the buffer and, when the sort keys were packed into one
/// integer, the key itself.
///
/// A packed key is (series rank, window start, timestamp), each reduced to a small integer; with
/// ``PackedKeys`` it reads back as the row's series, window and timestamp. Handing rows out in
/// order then reads those three columns sequentially from the keys instead of at random from the
/// buffer: only the value columns are gathered. Cost: 8 bytes a row (the sort's own array, kept).
struct RowOrder {
    /// Per position: the row number in the low ``indexBits`` bits, the packed key (if any) above.
    let entries: [UInt64]
    let indexBits: Int
    /// How to read the keys back; nil when the keys did not pack (the entries are row numbers
    /// from a comparison sort) or when a window is not told apart by its start alone.
    let keys: PackedKeys?

    var count: Int { entries.count }
    /// The bits of an entry that hold its row number.
    var rowMask: UInt64 { Self.lowBits(indexBits) }

    /// The buffered row at `position`.
    @inline(__always)
    subscript(position: Int) -> Int {
        Int(truncatingIfNeeded: entries[position] & rowMask)
    }

    /// A mask of the lowest `count` bits (0 ≤ `count` ≤ 64).
    @inline(__always)
    static func lowBits(_ count: Int) -> UInt64 {
        count == 0 ? 0 : ~0 >> UInt64(64 - count)
    }
}

/// The layout of a packed sort key, from its highest bits: the series' rank in byte-wise key
/// order, the window start reduced (``RowBuffer/CompressedTimes``), the timestamp reduced; and
/// the tables that turn it back into a row's series, window and timestamp.
struct PackedKeys {
    let windowBits: Int
    let time: RowBuffer.CompressedTimes
    /// The index in ``RowBuffer/keys`` of the series of each rank.
    let seriesOfRank: [Int32]
    /// The reduced start of each window of ``RowBuffer/windows`` (no two alike: one window per
    /// start).
    let reducedStarts: [UInt64]

    /// The row's series rank, reduced window start and reduced timestamp in `key`.
    @inline(__always)
    func fields(of key: UInt64) -> (rank: UInt64, window: UInt64, time: UInt64) {
        (
            key >> UInt64(time.bits + windowBits), (key >> UInt64(time.bits)) & RowOrder.lowBits(windowBits),
            key & RowOrder.lowBits(time.bits)
        )
    }

    /// The index in ``RowBuffer/windows`` of the window whose reduced start is `reducedStart`
    /// (a scan: windows are few, and rows in order change window rarely).
    func window(reducedStart: UInt64) -> Int {
        guard let window = reducedStarts.firstIndex(of: reducedStart) else {
            preconditionFailure("a packed key holds a window start that no window has")
        }
        return window
    }
}
