internal import ExportCore

/// Fixed-capacity columns a reader fills row by row, then copies out as arrays per batch.
///
/// One allocation holds `columnCount` columns of `capacity` elements, column after column.
/// Writing through a raw pointer keeps the per-value cost to one store; the copy at the end of a
/// batch is one `memcpy` per column.
final class ScratchColumns<Element> {
    let base: UnsafeMutablePointer<Element>
    let capacity: Int
    let columnCount: Int

    init(columns: Int, capacity: Int) {
        self.capacity = capacity
        self.columnCount = columns
        base = .allocate(capacity: max(1, columns * capacity))
    }

    deinit { base.deallocate() }

    /// The first element of column `column`.
    func pointer(column: Int) -> UnsafeMutablePointer<Element> { base + column * capacity }

    /// The first `count` elements of `column` as an array (they must have been written).
    func array(column: Int, count: Int) -> [Element] {
        Array(UnsafeBufferPointer(start: pointer(column: column), count: count))
    }
}

extension ScratchColumns where Element == Double {
    /// Column `column`'s first `count` values as a ``DoubleColumn``, with presence flags from
    /// `presence` only when one of them is false.
    func doubleColumn(_ column: Int, count: Int, presence: ScratchColumns<Bool>) -> DoubleColumn {
        let flags = UnsafeBufferPointer(start: presence.pointer(column: column), count: count)
        return DoubleColumn(
            values: array(column: column, count: count),
            isPresent: flags.contains(false) ? Array(flags) : nil
        )
    }
}
