/// `Encoding` values we use.
enum Encoding: Int32, Comparable {
    case plain = 0
    case rle = 3
    case rleDictionary = 8

    static func < (a: Encoding, b: Encoding) -> Bool { a.rawValue < b.rawValue }
}

/// `CompressionCodec` values we write.
enum CompressionCodec: Int32 {
    case uncompressed = 0
    case snappy = 1
    case gzip = 2
    case zstd = 6
}

/// One `PageEncodingStats` entry: how many pages of a kind use an encoding.
struct PageEncodingStats: Equatable {
    var pageKind: PageHeader.Kind
    var encoding: Encoding
    var count: Int32
}

/// `ColumnMetaData` of one column chunk. Offsets are absolute file offsets.
///
/// Field ids: 1 type, 2 encodings, 3 path_in_schema, 4 codec, 5 num_values (i64), 6/7 total
/// uncompressed/compressed sizes (i64, page headers and the dictionary page included), 9
/// data_page_offset (first data page header), 11 dictionary_page_offset (only when there is one),
/// 12 statistics, 13 encoding_stats.
struct ColumnMetaData: Equatable {
    var type: SchemaElement.PhysicalType
    var encodings: [Encoding]
    var path: String
    var codec: CompressionCodec
    var numValues: Int64
    var totalUncompressedSize: Int64
    var totalCompressedSize: Int64
    var dataPageOffset: Int64
    var dictionaryPageOffset: Int64?
    var statistics: Statistics
    var encodingStats: [PageEncodingStats]

    /// Writes the fields; the caller opens and closes the struct (ColumnChunk field 3).
    func write(to w: inout ThriftCompactWriter) {
        precondition(
            numValues >= 0 && totalCompressedSize >= 0 && totalUncompressedSize >= 0 && dataPageOffset >= 0,
            "negative size or offset in column metadata"
        )
        w.field(1, i32: type.rawValue)
        w.beginList(2, of: .i32, count: encodings.count)
        for e in encodings { w.writeZigzag(Int64(e.rawValue)) }
        w.beginList(3, of: .binary, count: 1)
        w.writeString(path)
        w.field(4, i32: codec.rawValue)
        w.field(5, i64: numValues)
        w.field(6, i64: totalUncompressedSize)
        w.field(7, i64: totalCompressedSize)
        w.field(9, i64: dataPageOffset)
        if let dictionaryPageOffset { w.field(11, i64: dictionaryPageOffset) }
        w.beginStruct(12)
        statistics.write(to: &w)
        w.endStruct()
        w.beginList(13, of: .struct, count: encodingStats.count)
        for s in encodingStats {
            w.beginStructBody()
            w.field(1, i32: s.pageKind.rawValue)
            w.field(2, i32: s.encoding.rawValue)
            w.field(3, i32: s.count)
            w.endStruct()
        }
    }
}
