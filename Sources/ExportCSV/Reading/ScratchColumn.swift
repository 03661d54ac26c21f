internal import ExportCore

/// A fixed-capacity column a reader fills row by row, then copies out as an array per batch.
///
/// Writing through a raw pointer keeps the per-row cost to one store; the copy at the end of a
/// batch is one `memcpy` per column. Memory: `capacity` elements, allocated once.
final class ScratchColumn<Element> {
    let pointer: UnsafeMutablePointer<Element>
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        pointer = .allocate(capacity: capacity)
    }

    deinit { pointer.deallocate() }

    /// The first `count` elements as an array (they must have been written).
    func array(count: Int) -> [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// A fixed-capacity column of optional doubles: values, presence flags and whether any is missing.
final class ScratchDoubleColumn {
    let values: UnsafeMutablePointer<Double>
    let isPresent: UnsafeMutablePointer<Bool>
    /// Whether a missing value was written since the last ``column(count:)``.
    var anyMissing = false

    init(capacity: Int) {
        values = .allocate(capacity: capacity)
        isPresent = .allocate(capacity: capacity)
    }

    deinit {
        values.deallocate()
        isPresent.deallocate()
    }

    @inline(__always)
    func set(_ row: Int, _ value: Double?) {
        if let value {
            values[row] = value
            isPresent[row] = true
        } else {
            values[row] = 0
            isPresent[row] = false
            anyMissing = true
        }
    }

    /// The first `count` rows as a ``DoubleColumn`` (presence flags only when one is missing);
    /// resets ``anyMissing``.
    func column(count: Int) -> DoubleColumn {
        let presence = anyMissing ? Array(UnsafeBufferPointer(start: isPresent, count: count)) : nil
        anyMissing = false
        return DoubleColumn(values: Array(UnsafeBufferPointer(start: values, count: count)), isPresent: presence)
    }
}
