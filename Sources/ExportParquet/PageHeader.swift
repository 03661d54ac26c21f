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

    /// The header's compact-protocol bytes.
    var serialized: [UInt8] {
        var w = ThriftCompactWriter(reservingCapacity: 32)
        write(to: &w)
        return w.bytes
    }
}
