/// A `PageHeader`: written before every page of a column chunk.
///
/// Only data pages v1 (`DataPageHeader`, field 5) and dictionary pages (`DictionaryPageHeader`,
/// field 7) are produced. Definition and repetition level encodings are always RLE.
struct PageHeader: Equatable {
    /// `PageType`.
    enum Kind: Int32 {
        case dataPage = 0
        case dictionaryPage = 2
    }

    var kind: Kind
    var uncompressedPageSize: Int32
    var compressedPageSize: Int32
    /// Values in the page: rows including nulls (data page), entries (dictionary page).
    var numValues: Int32
    /// The page's value encoding: PLAIN or RLE_DICTIONARY for data pages, PLAIN for dictionaries.
    var encoding: Encoding

    func write(to w: inout ThriftCompactWriter) {
        w.field(1, i32: kind.rawValue)
        w.field(2, i32: uncompressedPageSize)
        w.field(3, i32: compressedPageSize)
        switch kind {
        case .dataPage:
            w.beginStruct(5)
            w.field(1, i32: numValues)
            w.field(2, i32: encoding.rawValue)
            w.field(3, i32: Encoding.rle.rawValue)
            w.field(4, i32: Encoding.rle.rawValue)
            w.endStruct()
        case .dictionaryPage:
            w.beginStruct(7)
            w.field(1, i32: numValues)
            w.field(2, i32: encoding.rawValue)
            w.endStruct()
        }
        w.finishTopLevelStruct()
    }

    /// An upper bound on the encoded size: three i32 fields, a nested struct of at most four i32
    /// fields, each at most 1 header byte and 5 varint bytes, plus the stop bytes.
    static let maxEncodedByteCount = 48

    /// Writes the same bytes as ``write(to:)`` straight to `p` (which must have room for
    /// ``maxEncodedByteCount`` bytes) and returns their count. No allocation: this is the page path.
    func encode(into p: UnsafeMutableRawPointer) -> Int {
        var n = 0
        @inline(__always) func byte(_ b: UInt8) {
            p.storeBytes(of: b, toByteOffset: n, as: UInt8.self)
            n += 1
        }
        // Every field id here is its predecessor's + 1 or + 2, so the short (delta) form applies.
        @inline(__always) func i32(delta: UInt8, _ value: Int32) {
            byte(delta << 4 | ThriftCompactWriter.WireType.i32.rawValue)
            let v64 = Int64(value)
            var v = UInt64(bitPattern: (v64 << 1) ^ (v64 >> 63))
            while v >= 0x80 {
                byte(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            byte(UInt8(v))
        }
        i32(delta: 1, kind.rawValue)
        i32(delta: 1, uncompressedPageSize)
        i32(delta: 1, compressedPageSize)
        switch kind {
        case .dataPage:
            byte(2 << 4 | ThriftCompactWriter.WireType.struct.rawValue)  // field 5
            i32(delta: 1, numValues)
            i32(delta: 1, encoding.rawValue)
            i32(delta: 1, Encoding.rle.rawValue)
            i32(delta: 1, Encoding.rle.rawValue)
        case .dictionaryPage:
            byte(4 << 4 | ThriftCompactWriter.WireType.struct.rawValue)  // field 7
            i32(delta: 1, numValues)
            i32(delta: 1, encoding.rawValue)
        }
        byte(0)
        byte(0)
        return n
    }

    /// The header's compact-protocol bytes (through ``ThriftCompactWriter``, the reference form).
    var serialized: [UInt8] {
        var w = ThriftCompactWriter(reservingCapacity: 32)
        write(to: &w)
        return w.bytes
    }
}
