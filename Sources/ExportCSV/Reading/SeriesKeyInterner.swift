internal import ExportCore

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Turns the key fields of each row (`item_id`, then the dimensions in schema order) into an
/// index into the batch's distinct ``SeriesKey`` list, and numbers every series the reader has
/// seen in a table that outlives the batch (``SeriesOrigin``).
///
/// A row's key fields are copied into one scratch key (each field followed by `0xFF`, a byte
/// that never occurs in UTF-8, so that two keys are equal exactly when their fields are). When
/// it equals the previous row's key, the previous index is reused (input grouped by series hits
/// this on all but one row per series). Otherwise it is looked up by its bytes in the reader's
/// open-addressing table, hashed with a multiply-and-fold hash keyed by a random seed per table
/// (crafted ids cannot aim at collisions they cannot see). Only a series new to the table is
/// validated as UTF-8 and becomes a ``SeriesKey``: a series met again in later batches (any input
/// that is not grouped by series) costs a look-up, not a new `String`.
///
/// The table is kept across batches: a value copy of the reader that parses a chunk must be
/// handed back to keep it (``ParallelChunkReader`` does). Past ``maxRemembered`` series it is
/// started afresh at the next batch, under a new table number, so that its memory stays bounded
/// whatever the number of distinct series.
///
/// Cost per row: one copy of the key bytes and one compare (grouped input), or a hash and a
/// probe (any other order). Memory: the key bytes and ``SeriesKey`` of each remembered series and
/// about 40 bytes of table per series.
struct SeriesKeyInterner {
    /// Field numbers (0-based) of `item_id` and the dimensions, in key order.
    let keyFields: [Int]
    /// Series remembered before the table is started afresh (at a batch start).
    var maxRemembered = 1 << 17

    // The reader's table, by series number.
    private var table = SeriesOrigin.newTableNumber()
    private var seed = Self.randomSeed()
    private var keys: [SeriesKey] = []
    /// The key bytes of each series, one after another; series `i` ends at `keyEnds[i]`.
    private var keyBytes: [UInt8] = []
    private var keyEnds: [Int] = []
    /// Open addressing (see ``Slot``); a slot whose `entry` is 0 is empty.
    private var slots: [Slot]

    /// A table slot: the series number + 1 in the low 32 bits of `entry` and the key hash's high
    /// 32 bits above them; where its key bytes are (`start << 24 | count`, or `~0` for a key too
    /// long or too far to pack), so that a probe reads the key without reading ``keyEnds``.
    private struct Slot {
        var entry: UInt64 = 0
        var location: UInt64 = 0
    }

    // The current batch.
    private var batchSeries: [SeriesKey] = []
    private var batchNumbers: [Int32] = []
    /// By series number: the batch that last used the series (high 32 bits) and its index in
    /// that batch (low 32 bits), in one word so that a row reads one cache line.
    private var inBatch: [UInt64] = []
    private var batch: UInt32 = 0
    /// The previous row's series number and batch index, or -1 at the start of a batch.
    private var previousNumber: Int32 = -1
    private var previousIndex: Int32 = -1
    /// The current row's key bytes.
    private var scratch: [UInt8] = []

    private static let separator: UInt8 = 0xFF
    private static let initialSlots = 1024

    init(keyFields: [Int]) {
        self.keyFields = keyFields
        slots = Array(repeating: Slot(), count: Self.initialSlots)
        scratch.reserveCapacity(256)
    }

    /// Starts a new batch (and a fresh table once it remembers ``maxRemembered`` series).
    mutating func startBatch() {
        batchSeries = []
        batchNumbers = []
        previousIndex = -1
        previousNumber = -1
        batch &+= 1
        if batch == 0 {
            // Wrapped: no stored batch number may match the new one by accident.
            inBatch.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            batch = 1
        }
        if keys.count >= maxRemembered {
            table = SeriesOrigin.newTableNumber()
            seed = Self.randomSeed()
            keys = []
            keyBytes = []
            keyEnds = []
            inBatch = []
            slots = Array(repeating: Slot(), count: Self.initialSlots)
        }
    }

    /// Takes the batch's distinct series and their numbers in the reader's table.
    mutating func takeSeries() -> (series: [SeriesKey], origin: SeriesOrigin) {
        let result = (batchSeries, SeriesOrigin(table: table, ids: batchNumbers))
        batchSeries = []
        batchNumbers = []
        return result
    }

    /// The series index of `record`. Throws for a key field that is not valid UTF-8.
    @inline(__always)
    mutating func index(of record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int32 {
        scratch.removeAll(keepingCapacity: true)
        for field in keyFields {
            scratch.append(contentsOf: record.field(field))
            scratch.append(Self.separator)
        }
        if previousNumber >= 0 && keyEquals(Int(previousNumber)) { return previousIndex }
        let number = try lookUp(record, in: scanner)
        let n = Int(number)
        let index: Int32
        let state = inBatch[n]
        if UInt32(truncatingIfNeeded: state >> 32) == batch {
            index = Int32(truncatingIfNeeded: state)
        } else {
            index = Int32(batchSeries.count)
            batchSeries.append(keys[n])
            batchNumbers.append(number)
            inBatch[n] = UInt64(batch) << 32 | UInt64(UInt32(bitPattern: index))
        }
        previousNumber = number
        previousIndex = index
        return index
    }

    /// Where series `number`'s key bytes are in ``keyBytes``.
    @inline(__always)
    private func keyRange(of number: Int) -> Range<Int> {
        (number == 0 ? 0 : keyEnds[number &- 1])..<keyEnds[number]
    }

    /// Whether series `number`'s key bytes equal `scratch`.
    @inline(__always)
    private func keyEquals(_ number: Int) -> Bool {
        let range = keyRange(of: number)
        return keyEquals(start: range.lowerBound, count: range.count)
    }

    /// Whether the `count` key bytes at `start` equal `scratch`.
    @inline(__always)
    private func keyEquals(start: Int, count: Int) -> Bool {
        guard count == scratch.count else { return false }
        return scratch.withUnsafeBytes { key in
            keyBytes.withUnsafeBytes { Self.equal(key.baseAddress!, $0.baseAddress! + start, count) }
        }
    }

    /// Whether `count` bytes at `a` and `b` are equal: word compares for short keys (no call).
    @inline(__always)
    private static func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ count: Int) -> Bool {
        if count > 32 { return memcmp(a, b, count) == 0 }
        var i = 0
        while i &+ 8 <= count {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                != b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            {
                return false
            }
            i &+= 8
        }
        while i < count {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i &+= 1
        }
        return true
    }

    /// The number of the series whose key bytes are `scratch`, added to the table when new.
    @inline(never)
    private mutating func lookUp(_ record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int32 {
        let hash = scratch.withUnsafeBytes { Self.hash($0, seed: seed) }
        let tag = hash & 0xFFFF_FFFF_0000_0000
        let mask = slots.count &- 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let occupant = slots[slot]
            if occupant.entry == 0 { break }
            if occupant.entry & 0xFFFF_FFFF_0000_0000 == tag {
                let number = Int32(truncatingIfNeeded: occupant.entry & 0xFFFF_FFFF) &- 1
                let found =
                    occupant.location == ~0
                    ? keyEquals(Int(number))
                    : keyEquals(
                        start: Int(truncatingIfNeeded: occupant.location >> 24),
                        count: Int(truncatingIfNeeded: occupant.location & 0xFF_FFFF)
                    )
                if found { return number }
            }
            slot = (slot &+ 1) & mask
        }
        let number = try addSeries(record, in: scanner)
        slots[slot] = Slot(entry: tag | UInt64(UInt32(number) &+ 1), location: location(of: Int(number)))
        if keys.count &* 2 > slots.count { growTable() }
        return number
    }

    /// Validates the key fields, makes the ``SeriesKey`` and records its bytes.
    private mutating func addSeries(_ record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int32 {
        var values: [String] = []
        values.reserveCapacity(keyFields.count)
        for field in keyFields {
            guard let value = String(validating: record.field(field), as: UTF8.self) else {
                throw scanner.invalidUTF8Error(record, at: field)
            }
            values.append(value)
        }
        let number = Int32(keys.count)
        keys.append(SeriesKey(itemId: values[0], dimensions: Array(values.dropFirst())))
        keyBytes.append(contentsOf: scratch)
        keyEnds.append(keyBytes.count)
        inBatch.append(0)
        return number
    }

    /// Series `number`'s key bytes as a slot holds them (``Slot/location``).
    private func location(of number: Int) -> UInt64 {
        let range = keyRange(of: number)
        guard range.count < 1 << 24 && range.lowerBound < 1 << 40 else { return ~0 }
        return UInt64(range.lowerBound) << 24 | UInt64(range.count)
    }

    /// Doubles the table and places every series again, hashing its key anew.
    private mutating func growTable() {
        let capacity = slots.count * 2
        var newSlots = [Slot](repeating: Slot(), count: capacity)
        let mask = capacity &- 1
        for number in 0..<keys.count {
            let hash = keyBytes.withUnsafeBytes { bytes in
                Self.hash(UnsafeRawBufferPointer(rebasing: bytes[keyRange(of: number)]), seed: seed)
            }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while newSlots[slot].entry != 0 { slot = (slot &+ 1) & mask }
            newSlots[slot] = Slot(
                entry: (hash & 0xFFFF_FFFF_0000_0000) | UInt64(UInt32(number) &+ 1),
                location: location(of: number)
            )
        }
        slots = newSlots
    }

    /// A keyed hash of `bytes`: each 8-byte word (the last one zero-padded) is folded in with a
    /// 64×64→128-bit multiply whose halves are xored, keyed by `seed`.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let count = bytes.count
        var h = seed ^ (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15)
        guard let p = bytes.baseAddress else { return fold(h, 0xA076_1D64_78BD_642F) }
        var i = 0
        while i &+ 8 <= count {
            h = fold(h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self), 0xA076_1D64_78BD_642F)
            i &+= 8
        }
        if i < count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while i < count {
                word |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
                shift &+= 8
                i &+= 1
            }
            h = fold(h ^ word, 0xE703_7ED1_A0B4_28DB)
        }
        return fold(h, seed | 1)
    }

    @inline(__always)
    private static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    private static func randomSeed() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }
}
