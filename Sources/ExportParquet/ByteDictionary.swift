/// A dictionary of byte strings for one column chunk: assigns ids 0, 1, 2… in first-seen order and
/// keeps the entries PLAIN-encoded (`u32 LE length` + bytes), so that ``plainEntries`` is the
/// dictionary page body as is.
///
/// Keys are compared as bytes, never as `String` (Swift's `String ==` uses canonical equivalence,
/// which would merge byte-different ids). Open addressing with linear probing over a power-of-two
/// slot table kept at most half full. Cost per lookup: one hash of the bytes and, on a hit, one
/// `memcmp`; an insert appends to the arena.
struct ByteDictionary: ~Copyable {
    /// The PLAIN-encoded entries, in id order.
    private(set) var plainEntries = RawBuffer(capacity: 1 << 12)
    private var entryOffsets: [Int] = []
    private var entryHashes: [UInt64] = []
    private var slots: UnsafeMutablePointer<Int32>
    private var slotMask: Int

    init() {
        slotMask = (1 << 10) - 1
        slots = .allocate(capacity: slotMask + 1)
        slots.initialize(repeating: -1, count: slotMask + 1)
    }

    deinit { slots.deallocate() }

    var count: Int { entryOffsets.count }

    /// Bytes of the dictionary page body (before compression).
    var byteCount: Int { plainEntries.count }

    /// The bytes of entry `id` (without the length prefix).
    func entry(_ id: Int) -> UnsafeRawBufferPointer {
        let offset = entryOffsets[id]
        let length = Int(UInt32(littleEndian: plainEntries.base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        return UnsafeRawBufferPointer(start: plainEntries.base + offset + 4, count: length)
    }

    /// The id of `bytes`, inserting it when new, unless inserting would take the PLAIN size past
    /// `byteLimit` and the dictionary is not empty: then nil (the caller falls back to PLAIN).
    /// `inserted` tells whether a new entry was made.
    mutating func id(for bytes: UnsafeRawBufferPointer, byteLimit: Int, inserted: inout Bool) -> Int32? {
        let h = Self.hash(bytes)
        var slot = Int(truncatingIfNeeded: h) & slotMask
        while true {
            let candidate = slots[slot]
            if candidate < 0 { break }
            if entryHashes[Int(candidate)] == h && Self.equal(entry(Int(candidate)), bytes) { return candidate }
            slot = (slot + 1) & slotMask
        }
        if count > 0 && plainEntries.count + 4 + bytes.count > byteLimit { return nil }
        precondition(bytes.count <= Int(UInt32.max), "string value longer than 4 GiB")
        let id = Int32(count)
        entryOffsets.append(plainEntries.count)
        entryHashes.append(h)
        plainEntries.appendUInt32LE(UInt32(bytes.count))
        plainEntries.append(bytes)
        slots[slot] = id
        inserted = true
        if count * 2 > slotMask + 1 { rehash() }
        return id
    }

    /// Empties the dictionary, keeping its memory.
    mutating func removeAll() {
        plainEntries.removeAll()
        entryOffsets.removeAll(keepingCapacity: true)
        entryHashes.removeAll(keepingCapacity: true)
        slots.update(repeating: -1, count: slotMask + 1)
    }

    private mutating func rehash() {
        let newSize = (slotMask + 1) * 2
        slots.deallocate()
        slots = .allocate(capacity: newSize)
        slots.initialize(repeating: -1, count: newSize)
        slotMask = newSize - 1
        for (id, h) in entryHashes.enumerated() {
            var slot = Int(truncatingIfNeeded: h) & slotMask
            while slots[slot] >= 0 { slot = (slot + 1) & slotMask }
            slots[slot] = Int32(id)
        }
    }

    @inline(__always)
    private static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard a.count > 0 else { return true }
        return memcmpEqual(a.baseAddress!, b.baseAddress!, a.count)
    }

    @inline(__always)
    private static func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
        var i = 0
        while i + 8 <= n {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                != b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            {
                return false
            }
            i += 8
        }
        while i < n {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }

    /// A 64-bit hash of the bytes (multiply-xorshift over 8-byte words).
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let p = bytes.baseAddress else { return mix(h) }
        let n = bytes.count
        var i = 0
        while i + 8 <= n {
            h = mix(h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < n {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < n {
                tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift += 8
                i += 1
            }
            h = mix(h ^ tail)
        }
        return h
    }

    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &* 0xBF58_476D_1CE4_E5B9
        z ^= z >> 31
        z = z &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 29)
    }
}
