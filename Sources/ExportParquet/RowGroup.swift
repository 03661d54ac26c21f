/// One `RowGroup` of the footer with its `ColumnChunk`s (in schema order).
///
/// `ColumnChunk.file_offset` (field 2) is written as 0, as the spec asks when the metadata lives in the
/// footer; `RowGroup.file_offset` (5) is the first page of the first column chunk; `total_byte_size` (2)
/// is the sum of the chunks' uncompressed sizes and `total_compressed_size` (6) of their compressed sizes.
struct RowGroup: Equatable {
    var columns: [ColumnMetaData]
    var numRows: Int64
    var fileOffset: Int64

    var totalByteSize: Int64 { columns.reduce(0) { $0 + $1.totalUncompressedSize } }
    var totalCompressedSize: Int64 { columns.reduce(0) { $0 + $1.totalCompressedSize } }

    func write(to w: inout ThriftCompactWriter) {
        precondition(numRows > 0, "a row group must have rows")
        w.beginStructBody()
        w.beginList(1, of: .struct, count: columns.count)
        for column in columns {
            w.beginStructBody()
            w.field(2, i64: 0)
            w.beginStruct(3)
            column.write(to: &w)
            w.endStruct()
            w.endStruct()
        }
        w.field(2, i64: totalByteSize)
        w.field(3, i64: numRows)
        w.field(5, i64: fileOffset)
        w.field(6, i64: totalCompressedSize)
        w.endStruct()
    }
}
