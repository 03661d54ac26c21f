internal import ExportCore

/// The dictionary ids of a column chunk's rows, one `UInt32` per row, for the column writers that
/// dictionary-encode (``StringColumnWriter``, ``Int64ColumnWriter``).
///
/// Typed storage: the memory is allocated as `UInt32` (so bound to it once), and the ids are
/// written and read through `UnsafeMutablePointer<UInt32>` without rebinding. Noncopyable and
/// freed with its owner, like ``RawBuffer``; growth doubles the capacity; nothing is zero-filled;
/// large buffers ask for huge pages.
struct IDBuffer: ~Copyable {
    private(set) var base: UnsafeMutablePointer<UInt32>
    /// Ids in use, from `base`.
    private(set) var count: Int
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        self.base = .allocate(capacity: self.capacity)
        self.count = 0
        HugePageAdvice.advise(UnsafeMutableRawPointer(base), byteCount: self.capacity * 4)
    }

    deinit { base.deallocate() }

    /// Makes room for `n` more ids and returns where they go; call ``commit(_:)`` with how many
    /// were written.
    @inline(__always)
    mutating func reserve(_ n: Int) -> UnsafeMutablePointer<UInt32> {
        if count + n > capacity { grow(to: count + n) }
        return base + count
    }

    @inline(__always)
    mutating func commit(_ n: Int) {
        precondition(n >= 0 && count + n <= capacity, "IDBuffer commit past capacity")
        count += n
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        HugePageAdvice.advise(UnsafeMutableRawPointer(newBase), byteCount: newCapacity * 4)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    mutating func removeAll() { count = 0 }

    /// The last `n` ids (n ≤ ``count``).
    func suffix(_ n: Int) -> UnsafeBufferPointer<UInt32> {
        UnsafeBufferPointer(start: base + count - n, count: n)
    }
}
