internal import ExportCore

/// A growable, uniquely owned byte buffer for the encoder's staging areas (page values, page bodies,
/// compressed pages, column chunks).
///
/// Noncopyable, so it can never be copied by accident (no copy-on-write checks on the hot path), and
/// freed when its owner goes. Growth doubles the capacity (amortised O(1) per byte); nothing is
/// zero-filled; large buffers ask for huge pages (``HugePageAdvice``). Writers reserve space, fill it through a pointer and commit what they wrote.
///
/// Memory model: the storage is bound to `UInt8` once, when it is allocated, so byte access through
/// `assumingMemoryBound(to: UInt8.self)` (and C calls taking `UInt8` pointers) is valid. Values of
/// other types are written and read with the raw pointer API (`storeBytes(of:toByteOffset:as:)`,
/// `loadUnaligned`), which needs neither a binding nor alignment: nothing here assumes that an
/// offset is aligned for the type stored there. Typed arrays of ids live in ``IDBuffer`` instead.
struct RawBuffer: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer
    /// Bytes in use, from `base`.
    private(set) var count: Int
    private(set) var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        self.base = .allocate(byteCount: self.capacity, alignment: 16)
        self.base.bindMemory(to: UInt8.self, capacity: self.capacity)
        self.count = 0
        HugePageAdvice.advise(base, byteCount: self.capacity)
    }

    deinit { base.deallocate() }

    /// Makes room for `n` more bytes and returns where they go; call ``commit(_:)`` with what was written.
    @inline(__always)
    mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        if count + n > capacity { grow(to: count + n) }
        return base + count
    }

    @inline(__always)
    mutating func commit(_ n: Int) {
        precondition(count + n <= capacity, "RawBuffer commit past capacity")
        count += n
    }

    @inline(never)
    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.bindMemory(to: UInt8.self, capacity: newCapacity)
        HugePageAdvice.advise(newBase, byteCount: newCapacity)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ source: UnsafeRawPointer, count n: Int) {
        guard n > 0 else { return }
        let p = reserve(n)
        p.copyMemory(from: source, byteCount: n)
        count += n
    }

    mutating func append(_ source: UnsafeRawBufferPointer) {
        guard let b = source.baseAddress else { return }
        append(b, count: source.count)
    }

    mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inline(__always)
    mutating func append(byte: UInt8) {
        let p = reserve(1)
        p.storeBytes(of: byte, as: UInt8.self)
        count += 1
    }

    /// Appends `value` as 4 bytes little-endian.
    @inline(__always)
    mutating func appendUInt32LE(_ value: UInt32) {
        let p = reserve(4)
        p.storeBytes(of: value.littleEndian, as: UInt32.self)
        count += 4
    }

    /// Sets the count (must be ≤ capacity); used to drop or keep headroom.
    mutating func setCount(_ n: Int) {
        precondition(n >= 0 && n <= capacity, "RawBuffer count out of range")
        count = n
    }

    mutating func removeAll() { count = 0 }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
