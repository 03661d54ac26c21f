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
final class SeriesKeyInterner {
    /// Field numbers (0-based) of `item_id` and the dimensions, in key order.
    let keyFields: [Int]
    /// The distinct series of the current batch, in order of first appearance.
    private(set) var series: [SeriesKey] = []
    private var indexByKey: [SeriesKey: Int32] = [:]
    /// Index of the previous row's series in ``series``, or -1 at the start of a batch.
    private var previousIndex: Int32 = -1
    private var previousKey: SeriesKey?
    private var previousBytes: UnsafeMutablePointer<UInt8>
    private var previousBytesCapacity = 256
    /// For each key field, the end offset of its bytes in `previousBytes`.
    private var previousEnds: [Int]

    init(keyFields: [Int]) {
        self.keyFields = keyFields
        self.previousBytes = .allocate(capacity: previousBytesCapacity)
        self.previousEnds = Array(repeating: 0, count: keyFields.count)
    }

    deinit { previousBytes.deallocate() }

    /// Starts a new batch: forgets the batch's series (keeping capacity), keeps the previous key.
    func startBatch() {
        series.removeAll(keepingCapacity: true)
        indexByKey.removeAll(keepingCapacity: true)
        previousIndex = -1
    }

    /// Takes the batch's distinct series.
    func takeSeries() -> [SeriesKey] {
        let result = series
        series = []
        return result
    }

    /// The series index of the current record of `scanner`. Throws for a key field that is not
    /// valid UTF-8 (the error names `columnNames[field]`).
    @inline(__always)
    func index(of scanner: CSVRecordScanner, columnNames: [String]) throws(ExportError) -> Int32 {
        if previousIndex >= 0 && matchesPrevious(scanner) { return previousIndex }
        return try lookUp(scanner, columnNames: columnNames)
    }

    @inline(__always)
    private func matchesPrevious(_ scanner: CSVRecordScanner) -> Bool {
        var offset = 0
        for k in 0..<keyFields.count {
            let field = scanner.field(keyFields[k])
            let end = previousEnds[k]
            guard field.count == end - offset else { return false }
            if field.count > 0 && memcmp(field.baseAddress!, previousBytes + offset, field.count) != 0 { return false }
            offset = end
        }
        return true
    }

    @inline(never)
    private func lookUp(_ scanner: CSVRecordScanner, columnNames: [String]) throws(ExportError) -> Int32 {
        let key: SeriesKey
        if let previousKey, matchesPrevious(scanner) {
            key = previousKey
        } else {
            var values: [String] = []
            values.reserveCapacity(keyFields.count)
            for field in keyFields {
                let bytes = scanner.field(field)
                guard let value = String(validating: bytes, as: UTF8.self) else {
                    throw invalidUTF8Error(scanner, field: field, columnNames: columnNames)
                }
                values.append(value)
            }
            key = SeriesKey(itemId: values[0], dimensions: Array(values.dropFirst()))
            remember(scanner)
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

    private func remember(_ scanner: CSVRecordScanner) {
        var total = 0
        for field in keyFields { total += scanner.field(field).count }
        if total > previousBytesCapacity {
            previousBytes.deallocate()
            previousBytesCapacity = max(total, previousBytesCapacity * 2)
            previousBytes = .allocate(capacity: previousBytesCapacity)
        }
        var offset = 0
        for k in 0..<keyFields.count {
            let field = scanner.field(keyFields[k])
            if field.count > 0 { (previousBytes + offset).update(from: field.baseAddress!, count: field.count) }
            offset += field.count
            previousEnds[k] = offset
        }
    }
}

/// The input error for a field whose bytes are not valid UTF-8.
func invalidUTF8Error(_ scanner: CSVRecordScanner, field: Int, columnNames: [String]) -> ExportError {
    .input(
        "Invalid UTF-8: the field's bytes are not valid UTF-8 (the input must be UTF-8 text)",
        at: .init(file: scanner.path, line: scanner.recordLine, column: field + 1, columnName: columnNames[field])
    )
}
