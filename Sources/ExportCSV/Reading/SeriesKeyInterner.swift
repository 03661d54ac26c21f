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
/// Fast path: when a row's key bytes equal the previous row's, the previous index is reused and
/// no `String` is made (input grouped by series hits this on all but one row per series).
/// Otherwise the fields are validated as UTF-8, a ``SeriesKey`` is built and looked up in a
/// per-batch dictionary, so each distinct series appears once per batch.
///
/// Memory: the previous key's bytes, plus one dictionary entry per distinct series of the batch.
struct SeriesKeyInterner {
    /// Field numbers (0-based) of `item_id` and the dimensions, in key order.
    let keyFields: [Int]
    /// The distinct series of the current batch, in order of first appearance.
    private var series: [SeriesKey] = []
    private var indexByKey: [SeriesKey: Int32] = [:]
    /// Index of the previous row's series in `series`, or -1 at the start of a batch.
    private var previousIndex: Int32 = -1
    private var previousKey: SeriesKey?
    /// The previous key's field bytes, concatenated.
    private var previousBytes: [UInt8] = []
    /// For each key field, the end offset of its bytes in `previousBytes`.
    private var previousEnds: [Int]

    init(keyFields: [Int]) {
        self.keyFields = keyFields
        self.previousEnds = Array(repeating: 0, count: keyFields.count)
    }

    /// Starts a new batch: forgets the batch's series, keeps the previous key.
    mutating func startBatch() {
        series = []
        indexByKey.removeAll(keepingCapacity: true)
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
        if previousIndex >= 0 && matchesPrevious(record) { return previousIndex }
        return try lookUp(record, in: scanner)
    }

    @inline(__always)
    private func matchesPrevious(_ record: CSVRecord) -> Bool {
        previousBytes.withUnsafeBufferPointer { previous in
            var offset = 0
            for k in 0..<keyFields.count {
                let field = record.field(keyFields[k])
                let end = previousEnds[k]
                guard field.count == end &- offset else { return false }
                if field.count > 0 && memcmp(field.baseAddress!, previous.baseAddress! + offset, field.count) != 0 {
                    return false
                }
                offset = end
            }
            return true
        }
    }

    @inline(never)
    private mutating func lookUp(_ record: CSVRecord, in scanner: CSVRecordScanner) throws(ExportError) -> Int32 {
        let key: SeriesKey
        if let previousKey, matchesPrevious(record) {
            key = previousKey
        } else {
            var values: [String] = []
            values.reserveCapacity(keyFields.count)
            for field in keyFields {
                guard let value = String(validating: record.field(field), as: UTF8.self) else {
                    throw scanner.invalidUTF8Error(record, at: field)
                }
                values.append(value)
            }
            key = SeriesKey(itemId: values[0], dimensions: Array(values.dropFirst()))
            previousBytes.removeAll(keepingCapacity: true)
            for k in 0..<keyFields.count {
                previousBytes.append(contentsOf: record.field(keyFields[k]))
                previousEnds[k] = previousBytes.count
            }
            previousKey = key
        }
        let index: Int32
        if let known = indexByKey[key] {
            index = known
        } else {
            index = Int32(series.count)
            series.append(key)
            indexByKey[key] = index
        }
        previousIndex = index
        return index
    }
}
