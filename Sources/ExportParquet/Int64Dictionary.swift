/// A dictionary of INT64 values for one column chunk: assigns ids 0, 1, 2… in first-seen order and
/// keeps the entries PLAIN-encoded (8 bytes little-endian each), so that ``plainEntries`` is the
/// dictionary page body as is.
///
/// Open addressing with linear probing over a power-of-two slot table kept at most half full; the
/// hash is a Fibonacci multiply (its high bits), which spreads values that share low bits, such as
/// millisecond timestamps on whole days. Cost per lookup: one multiply, usually one probe and one
/// load of the entry; an insert appends 8 bytes.
struct Int64Dictionary: ~Copyable {
    /// The PLAIN-encoded entries, in id order.
    private(set) var plainEntries = RawBuffer(capacity: 1 << 10)
    private var slots: UnsafeMutablePointer<Int32>
    private var slotBits: Int
    private(set) var count = 0

    init() {
        slotBits = 10
        slots = .allocate(capacity: 1 << slotBits)
        slots.initialize(repeating: -1, count: 1 << slotBits)
    }

    deinit { slots.deallocate() }

    /// Bytes of the dictionary page body (before compression).
    var byteCount: Int { plainEntries.count }

    /// Entry `id`.
    @inline(__always)
    func entry(_ id: Int) -> Int64 {
        Int64(littleEndian: plainEntries.base.load(fromByteOffset: id &* 8, as: Int64.self))
    }

    @inline(__always)
    private func slot(of value: Int64) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: value) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - slotBits))
    }

    /// A read-only view of the slot table for a hot loop: copy it into a local once, look values up
    /// with ``Probe/find(_:)`` (no access to the owner, so no exclusivity checks per row) and take a
    /// new probe after any insert (which may move the storage).
    struct Probe {
        let slots: UnsafeMutablePointer<Int32>
        let entries: UnsafeRawPointer
        let mask: Int
        let shift: UInt64
        /// Entries when the probe was taken.
        let count: Int

        /// Whether entry `id` (any integer) exists and is `value`: a check of a guessed id that
        /// costs one load, no hashing.
        @inline(__always)
        func holds(_ value: Int64, at id: UInt32) -> Bool {
            Int(id) < count && Int64(littleEndian: entries.load(fromByteOffset: Int(id) &* 8, as: Int64.self)) == value
        }

        /// The id of `value`, or -1 when it is not in the dictionary.
        @inline(__always)
        func find(_ value: Int64) -> Int32 {
            var s = Int(truncatingIfNeeded: (UInt64(bitPattern: value) &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let candidate = slots[s]
                if candidate < 0
                    || Int64(littleEndian: entries.load(fromByteOffset: Int(candidate) &* 8, as: Int64.self)) == value
                {
                    return candidate
                }
                s = (s + 1) & mask
            }
        }
    }

    var probe: Probe {
        Probe(
            slots: slots,
            entries: UnsafeRawPointer(plainEntries.base),
            mask: (1 << slotBits) - 1,
            shift: UInt64(64 - slotBits),
            count: count
        )
    }

    /// The id of `value`, inserting it when new, unless inserting would take the PLAIN size past
    /// `byteLimit` and the dictionary is not empty: then nil (the caller falls back to PLAIN).
    /// `inserted` is set to true when a new entry was made.
    @inline(__always)
    mutating func id(for value: Int64, byteLimit: Int, inserted: inout Bool) -> Int32? {
        let mask = (1 << slotBits) - 1
        var s = slot(of: value)
        while true {
            let candidate = slots[s]
            if candidate < 0 { break }
            if entry(Int(candidate)) == value { return candidate }
            s = (s + 1) & mask
        }
        if count > 0 && plainEntries.count + 8 > byteLimit { return nil }
        let id = Int32(count)
        let p = plainEntries.reserve(8)
        p.storeBytes(of: value.littleEndian, as: Int64.self)
        plainEntries.commit(8)
        slots[s] = id
        count += 1
        inserted = true
        if count * 2 > mask + 1 { rehash() }
        return id
    }

    /// Empties the dictionary, keeping its memory.
    mutating func removeAll() {
        plainEntries.removeAll()
        count = 0
        slots.update(repeating: -1, count: 1 << slotBits)
    }

    private mutating func rehash() {
        slots.deallocate()
        slotBits += 1
        let size = 1 << slotBits
        slots = .allocate(capacity: size)
        slots.initialize(repeating: -1, count: size)
        let mask = size - 1
        for id in 0..<count {
            var s = slot(of: entry(id))
            while slots[s] >= 0 { s = (s + 1) & mask }
            slots[s] = Int32(id)
        }
    }
}
