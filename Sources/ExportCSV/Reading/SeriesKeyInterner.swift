internal import CPrefetch
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
/// A row's key is its fields, each followed by `0xFF` (a byte that never occurs in UTF-8, so
/// that two keys are equal exactly when their fields are): read as two words straight from the
/// record when it is one field of at most 15 bytes, else copied into one scratch key. When
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
/// Cost per row: reading or copying the key bytes and one compare (grouped input), or a hash and a
/// probe (any other order). The probe of a row in random order reads one 32-byte ``Slot``, which
/// holds the series number, its place in the current batch and, for keys of at most 16 bytes,
/// the key itself: one memory access, which ``beginIndex(of:)`` starts early (the table of a few
/// thousand series is rarely in cache while a chunk streams through). Memory: the key bytes and
/// ``SeriesKey`` of each remembered series and 64 to 128 bytes of table per series.
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

    /// A table slot, all a look-up reads for a key of at most 16 bytes.
    private struct Slot {
        /// The key hash's high 31 bits (bits 33...63), whether the key is longer than 16 bytes
        /// (bit 32, ``longKey``) and the series number + 1 (low 32 bits); 0 when empty.
        var entry: UInt64 = 0
        /// The batch that last used the series (high 32 bits) and its index in that batch (low
        /// 32 bits).
        var batchState: UInt64 = 0
        /// A short key's bytes, zero-padded (exact: every key ends in `0xFF`, so no two keys of
        /// different lengths pad alike); for a long key, `word0` is where its bytes are in
        /// ``keyBytes`` (`start << 24 | count`, or `~0` when too long or too far to pack).
        var word0: UInt64 = 0
        var word1: UInt64 = 0
    }

    private static let tagMask: UInt64 = 0xFFFF_FFFE_0000_0000
    private static let longKey: UInt64 = 1 << 32

    // The current batch.
    private var batchNumbers: [Int32] = []
    private var batch: UInt32 = 0
    /// The previous row's slot and batch index, or -1 at the start of a batch.
    private var previousSlot = -1
    private var previousIndex: Int32 = -1
    /// The current row's key bytes, when ``scratchHoldsKey``: a short key of one field is read
    /// into ``scratchWords`` straight from the record, and copied here only for a new series.
    private var scratch: [UInt8] = []
    private var scratchHoldsKey = false
    /// The current row's key length in bytes (separators included).
    private var scratchCount = 0
    /// The key's field when it has just one (no dimensions).
    private let singleKeyField: Int?
    /// `scratch` as a short key's two words (``Slot/word0``, ``Slot/word1``) when it is one.
    private var scratchWords: (UInt64, UInt64) = (0, 0)
    /// The hash of `scratch`, from ``beginIndex(of:)`` for ``finishIndex(of:in:)``.
    private var pendingHash: UInt64 = 0

    private static let separator: UInt8 = 0xFF
    private static let initialSlots = 1024

    init(keyFields: [Int]) {
        self.keyFields = keyFields
        singleKeyField = keyFields.count == 1 ? keyFields[0] : nil
        slots = Array(repeating: Slot(), count: Self.initialSlots)
        scratch.reserveCapacity(256)
    }

    /// Starts a new batch (and a fresh table once it remembers ``maxRemembered`` series).
    mutating func startBatch() {
        batchNumbers = []
        previousIndex = -1
        previousSlot = -1
        batch &+= 1
        if batch == 0 {
            // Wrapped: no stored batch number may match the new one by accident.
            slots.withUnsafeMutableBufferPointer { slots in
                for i in slots.indices { slots[i].batchState = 0 }
            }
            batch = 1
        }
        if keys.count >= maxRemembered {
            table = SeriesOrigin.newTableNumber()
            seed = Self.randomSeed()
            keys = []
            keyBytes = []
            keyEnds = []
            slots = Array(repeating: Slot(), count: Self.initialSlots)
        }
    }

    /// Takes the batch's distinct series and their numbers in the reader's table.
    mutating func takeSeries() -> (series: [SeriesKey], origin: SeriesOrigin) {
        let series = keys.withUnsafeBufferPointer { keys in batchNumbers.map { keys[Int($0)] } }
        let result = (series, SeriesOrigin(table: table, ids: batchNumbers))
        batchNumbers = []
        return result
    }

    /// The series index of `record`. Throws for a key field that is not valid UTF-8.
    @inline(__always)
    mutating func index(of record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int32 {
        let known = beginIndex(of: record)
        return known >= 0 ? known : try finishIndex(of: record, in: scanner)
    }

    /// The first half of ``index(of:in:)``: copies the row's key and returns its index when it is
    /// the previous row's series; otherwise returns -1 after hashing the key and asking the CPU to
    /// fetch its table slot, so that work done before ``finishIndex(of:in:)`` (parsing the row's
    /// other fields) hides the memory latency of the look-up.
    @inline(__always)
    mutating func beginIndex(of record: CSVRecord) -> Int32 {
        if let single = singleKeyField, case let field = record.field(single), field.count < 16 {
            // A short key of one field: its words read from the record, no copy.
            scratchWords = Self.shortKeyWords(field: field)
            scratchCount = field.count &+ 1
            scratchHoldsKey = false
        } else {
            copyKey(record)
        }
        if previousSlot >= 0 && slotHoldsScratch(previousSlot) { return previousIndex }
        pendingHash =
            scratchCount <= 16
            ? Self.shortHash(scratchWords, count: scratchCount, seed: seed)
            : scratch.withUnsafeBytes { Self.hash($0, seed: seed) }
        let slot = Int(truncatingIfNeeded: pendingHash) & (slots.count &- 1)
        slots.withUnsafeBufferPointer { slots in
            let raw = UnsafeRawPointer(slots.baseAddress! + slot)
            // A slot may straddle two cache lines (the array's storage is 16-byte aligned).
            cprefetch_read(raw)
            cprefetch_read(raw + (MemoryLayout<Slot>.stride &- 1))
        }
        return -1
    }

    /// The second half of ``index(of:in:)``, after ``beginIndex(of:)`` returned -1 for the same
    /// record: looks the key up (adding a new series) and numbers it in the batch.
    @inline(__always)
    mutating func finishIndex(of record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int32 {
        let slot = try lookUp(record, in: scanner)
        let index: Int32 = slots.withUnsafeMutableBufferPointer { slots in
            let state = slots[slot].batchState
            if UInt32(truncatingIfNeeded: state >> 32) == batch { return Int32(truncatingIfNeeded: state) }
            let index = Int32(batchNumbers.count)
            batchNumbers.append(Int32(truncatingIfNeeded: slots[slot].entry & 0xFFFF_FFFF) &- 1)
            slots[slot].batchState = UInt64(batch) << 32 | UInt64(UInt32(bitPattern: index))
            return index
        }
        previousSlot = slot
        previousIndex = index
        return index
    }

    /// Copies the key fields of `record` into ``scratch`` (each followed by the separator) and
    /// sets ``scratchCount`` and ``scratchWords``.
    @inline(__always)
    private mutating func copyKey(_ record: CSVRecord) {
        scratch.removeAll(keepingCapacity: true)
        for field in keyFields {
            scratch.append(contentsOf: record.field(field))
            scratch.append(Self.separator)
        }
        scratchCount = scratch.count
        scratchWords = scratchCount <= 16 ? scratch.withUnsafeBytes { Self.shortKeyWords($0) } : (0, 0)
        scratchHoldsKey = true
    }

    /// Where series `number`'s key bytes are in ``keyBytes``.
    @inline(__always)
    private func keyRange(of number: Int) -> Range<Int> {
        (number == 0 ? 0 : keyEnds[number &- 1])..<keyEnds[number]
    }

    /// Whether the occupied slot `slot` holds the key in `scratch`. Compares the inline words for
    /// a short key, the bytes in ``keyBytes`` for a long one; the caller has checked the tag or
    /// knows the slot.
    @inline(__always)
    private func slotHoldsScratch(_ slot: Int) -> Bool {
        let occupant = slots.withUnsafeBufferPointer { $0[slot] }
        let count = scratchCount
        if occupant.entry & Self.longKey == 0 {
            guard count <= 16 else { return false }
            return occupant.word0 == scratchWords.0 && occupant.word1 == scratchWords.1
        }
        guard count > 16 else { return false }
        if occupant.word0 == ~0 {
            let range = keyRange(of: Int(truncatingIfNeeded: occupant.entry & 0xFFFF_FFFF) &- 1)
            return keyEquals(start: range.lowerBound, count: range.count)
        }
        return keyEquals(
            start: Int(truncatingIfNeeded: occupant.word0 >> 24),
            count: Int(truncatingIfNeeded: occupant.word0 & 0xFF_FFFF)
        )
    }

    /// A key of at most 16 bytes as two little-endian words, zero-padded.
    @inline(__always)
    static func shortKeyWords(_ key: UnsafeRawBufferPointer) -> (UInt64, UInt64) {
        let count = key.count
        guard let p = key.baseAddress else { return (0, 0) }
        if count >= 8 {
            let word0 = p.loadUnaligned(as: UInt64.self).littleEndian
            // The last eight bytes, shifted down to drop the ones already in word0.
            let tail = p.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self).littleEndian
            let word1 = count == 8 ? 0 : tail >> UInt64(truncatingIfNeeded: (16 &- count) &* 8)
            return (word0, word1)
        }
        var word0: UInt64 = 0
        for i in 0..<count { word0 |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << UInt64(i &* 8) }
        return (word0, 0)
    }

    /// ``shortKeyWords(_:)`` of the key `field` + separator, for a field of at most 15 bytes,
    /// read from the field itself (no byte outside it is read): the field's words, with the
    /// separator put in the byte after it.
    @inline(__always)
    static func shortKeyWords(field: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        var words = shortKeyWords(UnsafeRawBufferPointer(field))
        let n = field.count
        let separator = UInt64(Self.separator)
        if n < 8 {
            words.0 |= separator << UInt64(truncatingIfNeeded: n &* 8)
        } else {
            words.1 |= separator << UInt64(truncatingIfNeeded: (n &- 8) &* 8)
        }
        return words
    }

    /// Whether the `count` key bytes at `start` equal `scratch`.
    @inline(__always)
    private func keyEquals(start: Int, count: Int) -> Bool {
        guard count == scratchCount else { return false }
        return scratch.withUnsafeBytes { key in
            keyBytes.withUnsafeBytes { memcmp(key.baseAddress!, $0.baseAddress! + start, count) == 0 }
        }
    }

    /// The slot of the series whose key bytes are `scratch` (hashed into ``pendingHash``), the
    /// series added to the table when new.
    @inline(never)
    private mutating func lookUp(_ record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int {
        let hash = pendingHash
        let tag = hash & Self.tagMask
        let mask = slots.count &- 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots.withUnsafeBufferPointer { $0[slot].entry }
            if entry == 0 { break }
            if entry & Self.tagMask == tag && slotHoldsScratch(slot) { return slot }
            slot = (slot &+ 1) & mask
        }
        let number = try addSeries(record, in: scanner)
        slots[slot] = newSlot(number: Int(number), tag: tag)
        if keys.count &* 2 > slots.count {
            growTable()
            // Find the new series' slot in the grown table.
            return try lookUp(record, in: scanner)
        }
        return slot
    }

    /// Validates the key fields, makes the ``SeriesKey`` and records its bytes.
    private mutating func addSeries(_ record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int32 {
        var values: [String] = []
        values.reserveCapacity(keyFields.count)
        for field in keyFields {
            if let error = scanner.textError(record, at: field) { throw error }
            values.append(String(decoding: record.field(field), as: UTF8.self))
        }
        let number = Int32(keys.count)
        keys.append(SeriesKey(itemId: values[0], dimensions: Array(values.dropFirst())))
        if !scratchHoldsKey { copyKey(record) }
        keyBytes.append(contentsOf: scratch)
        keyEnds.append(keyBytes.count)
        return number
    }

    /// The slot of series `number`, just added with the key in `scratch`, not yet used by any batch.
    private func newSlot(number: Int, tag: UInt64) -> Slot {
        let range = keyRange(of: number)
        var slot = Slot(entry: tag | UInt64(UInt32(number) &+ 1))
        if range.count <= 16 {
            (slot.word0, slot.word1) = scratchWords
        } else {
            slot.entry |= Self.longKey
            let packable = range.count < 1 << 24 && range.lowerBound < 1 << 40
            slot.word0 = packable ? UInt64(range.lowerBound) << 24 | UInt64(range.count) : ~0
        }
        return slot
    }

    /// Doubles the table and places every series again, hashing its key anew and keeping its
    /// place in the current batch.
    private mutating func growTable() {
        let capacity = slots.count * 2
        var newSlots = [Slot](repeating: Slot(), count: capacity)
        let mask = capacity &- 1
        for old in slots where old.entry != 0 {
            let number = Int(truncatingIfNeeded: old.entry & 0xFFFF_FFFF) &- 1
            let hash = keyBytes.withUnsafeBytes { bytes in
                Self.hash(UnsafeRawBufferPointer(rebasing: bytes[keyRange(of: number)]), seed: seed)
            }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while newSlots[slot].entry != 0 { slot = (slot &+ 1) & mask }
            newSlots[slot] = old
        }
        slots = newSlots
        previousSlot = -1
    }

    /// A keyed hash of `bytes`. A key of at most 16 bytes is hashed from its two words
    /// (``shortHash(_:count:seed:)``: two multiplies, no loop); a longer one folds in each 8-byte
    /// word (the last one zero-padded) with a 64×64→128-bit multiply whose halves are xored,
    /// keyed by `seed`.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        let count = bytes.count
        if count <= 16 { return shortHash(shortKeyWords(bytes), count: count, seed: seed) }
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

    /// The keyed hash of a key of `count` ≤ 16 bytes whose words (``shortKeyWords(_:)``) are
    /// `words`: the words, each xored with its own function of the seed, multiplied 64×64→128
    /// bits and folded, then folded again with the seed and the length.
    @inline(__always)
    static func shortHash(_ words: (UInt64, UInt64), count: Int, seed: UInt64) -> UInt64 {
        let h = fold(words.0 ^ seed, words.1 ^ (seed &* 0x9E37_79B9_7F4A_7C15 ^ 0xE703_7ED1_A0B4_28DB))
        return fold(h ^ UInt64(truncatingIfNeeded: count), seed | 1)
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
