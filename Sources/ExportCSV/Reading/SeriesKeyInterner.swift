internal import ExportCore

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Turns the key fields of each row (`item_id`, then the dimensions in schema order) into an
/// index into the batch's distinct ``SeriesKey`` list.
///
/// A row's key fields are copied into one scratch key (each field followed by `0xFF`, a byte
/// that never occurs in UTF-8, so that two keys are equal exactly when their fields are). When
/// it equals the previous row's key, the previous index is reused (input grouped by series hits
/// this on all but one row per series). Otherwise it is looked up by its bytes in a per-batch
/// open-addressing table (hashed with the standard library's seeded `Hasher`, so that crafted
/// ids cannot make the lookups quadratic): no `String` is made for a series already seen in the
/// batch. Only a series new to the batch is validated as UTF-8 and becomes a ``SeriesKey``.
///
/// Cost per row: one copy of the key bytes and one compare (grouped input), or a hash and a
/// probe (any other order). Memory: the key bytes of the batch's distinct series and a table of
/// about four slots per distinct series.
struct SeriesKeyInterner {
    /// Field numbers (0-based) of `item_id` and the dimensions, in key order.
    let keyFields: [Int]
    /// The distinct series of the current batch, in order of first appearance.
    private var series: [SeriesKey] = []
    /// The key bytes of each distinct series, one after another; series `i` ends at `keyEnds[i]`.
    private var keyBytes: [UInt8] = []
    private var keyEnds: [Int] = []
    /// Open addressing: each slot holds a series index + 1 (0: empty) and its key's hash.
    private var slots: [Int32]
    private var slotHashes: [Int]
    /// Index of the previous row's series, or -1 at the start of a batch.
    private var previousIndex: Int32 = -1
    /// The current row's key bytes.
    private var scratch: [UInt8] = []

    private static let separator: UInt8 = 0xFF
    private static let initialSlots = 1024

    init(keyFields: [Int]) {
        self.keyFields = keyFields
        slots = Array(repeating: 0, count: Self.initialSlots)
        slotHashes = Array(repeating: 0, count: Self.initialSlots)
        scratch.reserveCapacity(256)
    }

    /// Starts a new batch: forgets the batch's series.
    mutating func startBatch() {
        series = []
        keyBytes.removeAll(keepingCapacity: true)
        keyEnds.removeAll(keepingCapacity: true)
        if slots.count > Self.initialSlots * 64 {
            slots = Array(repeating: 0, count: Self.initialSlots)
            slotHashes = Array(repeating: 0, count: Self.initialSlots)
        } else {
            slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        }
        previousIndex = -1
    }

    /// Takes the batch's distinct series.
    mutating func takeSeries() -> [SeriesKey] {
        let result = series
        series = []
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
        if previousIndex >= 0 && keyEquals(Int(previousIndex)) { return previousIndex }
        return try lookUp(record, in: scanner)
    }

    /// Whether series `index`'s key bytes equal `scratch`.
    @inline(__always)
    private func keyEquals(_ index: Int) -> Bool {
        let start = index == 0 ? 0 : keyEnds[index &- 1]
        let count = keyEnds[index] &- start
        guard count == scratch.count else { return false }
        return scratch.withUnsafeBytes { key in
            keyBytes.withUnsafeBytes { memcmp(key.baseAddress!, $0.baseAddress! + start, count) == 0 }
        }
    }

    @inline(never)
    private mutating func lookUp(_ record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int32 {
        var hasher = Hasher()
        scratch.withUnsafeBytes { hasher.combine(bytes: $0) }
        let hash = hasher.finalize()
        let mask = slots.count &- 1
        var slot = hash & mask
        while true {
            let occupant = slots[slot]
            if occupant == 0 { break }
            if slotHashes[slot] == hash && keyEquals(Int(occupant) &- 1) {
                previousIndex = occupant &- 1
                return previousIndex
            }
            slot = (slot &+ 1) & mask
        }
        let index = try addSeries(record, in: scanner)
        slots[slot] = index &+ 1
        slotHashes[slot] = hash
        if series.count * 2 > slots.count { growTable() }
        previousIndex = index
        return index
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
        let index = Int32(series.count)
        series.append(SeriesKey(itemId: values[0], dimensions: Array(values.dropFirst())))
        keyBytes.append(contentsOf: scratch)
        keyEnds.append(keyBytes.count)
        return index
    }

    /// Doubles the table and places every series again by its stored hash.
    private mutating func growTable() {
        let capacity = slots.count * 2
        var newSlots = [Int32](repeating: 0, count: capacity)
        var newHashes = [Int](repeating: 0, count: capacity)
        let mask = capacity &- 1
        for old in 0..<slots.count where slots[old] != 0 {
            var slot = slotHashes[old] & mask
            while newSlots[slot] != 0 { slot = (slot &+ 1) & mask }
            newSlots[slot] = slots[old]
            newHashes[slot] = slotHashes[old]
        }
        slots = newSlots
        slotHashes = newHashes
    }
}
