import ExportCore
import ExportParquet

/// The key columns (`item_id`, then the dimensions) of a Parquet input, turned row by row into
/// an index into the batch's distinct ``SeriesKey`` list, as the CSV reader's interner does.
///
/// A row whose key bytes equal the previous row's reuses its index without making a `String`;
/// otherwise the values are checked to be UTF-8, a key is built and looked up in the batch's
/// dictionary. Integer key columns are written in decimal, as they would be in CSV. A null
/// `item_id` is an input error; a null dimension is the empty string (an empty CSV field).
/// Memory: the previous key's bytes, one dictionary entry per distinct series of the batch.
final class ParquetKeyColumns {
    private var series: [SeriesKey] = []
    private var indexByKey: [SeriesKey: Int32] = [:]
    private var previousIndex: Int32 = -1
    private var previousBytes: [[UInt8]]
    /// 24 bytes per key column for integers written in decimal.
    private let digits: UnsafeMutablePointer<UInt8>

    init(count: Int) {
        previousBytes = Array(repeating: [], count: count)
        digits = .allocate(capacity: max(1, count) * 24)
    }

    deinit { digits.deallocate() }

    func startBatch() {
        series = []
        indexByKey.removeAll(keepingCapacity: true)
        previousIndex = -1
    }

    func takeSeries() -> [SeriesKey] {
        let result = series
        series = []
        return result
    }

    /// The series index of row `row` of the cursors' current pages (`cursors[0]` is `item_id`).
    func index(row: Int, cursors: [ParquetColumnCursor]) throws(ExportError) -> Int32 {
        var same = previousIndex >= 0
        for k in 0..<cursors.count {
            let field = try bytes(of: cursors[k], row: row, key: k)
            if same && !equal(field, previousBytes[k]) { same = false }
        }
        if same { return previousIndex }
        var values: [String] = []
        values.reserveCapacity(cursors.count)
        for k in 0..<cursors.count {
            let field = try bytes(of: cursors[k], row: row, key: k)
            guard let value = String(validating: field, as: UTF8.self) else {
                throw .input(
                    "Invalid UTF-8: the value's bytes are not valid UTF-8 (key columns must be UTF-8 text)",
                    at: cursors[k].location(ofRow: row)
                )
            }
            values.append(value)
            previousBytes[k] = Array(field)
        }
        let key = SeriesKey(itemId: values[0], dimensions: Array(values.dropFirst()))
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

    @inline(__always)
    private func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return b.withUnsafeBufferPointer { bb in
            a.count == 0 || memcmp(a.baseAddress!, bb.baseAddress!, a.count) == 0
        }
    }

    @inline(__always)
    private func bytes(
        of cursor: ParquetColumnCursor,
        row: Int,
        key k: Int
    ) throws(ExportError) -> UnsafeBufferPointer<UInt8> {
        let r = cursor.position + row
        if let validity = cursor.validity, validity[r] == 0 {
            if k == 0 {
                throw .input(
                    "Missing item_id: every row needs an item_id (the value is null)",
                    at: cursor.location(ofRow: r)
                )
            }
            return UnsafeBufferPointer(start: nil, count: 0)
        }
        if cursor.target == .integer {
            return decimal(cursor.integers[r], into: digits + 24 * k)
        }
        return UnsafeBufferPointer(start: cursor.byteBase + cursor.byteStarts[r], count: Int(cursor.byteLengths[r]))
    }
}

/// `value` in decimal (as Swift and CSV write it) at `out`, which has room for 24 bytes.
private func decimal(_ value: Int64, into out: UnsafeMutablePointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
    var v = value.magnitude
    var end = 24
    repeat {
        end -= 1
        out[end] = UInt8(ascii: "0") + UInt8(v % 10)
        v /= 10
    } while v > 0
    if value < 0 {
        end -= 1
        out[end] = UInt8(ascii: "-")
    }
    return UnsafeBufferPointer(start: out + end, count: 24 - end)
}

#if canImport(Glibc)
import Glibc
#endif
