/// The Parquet footer, `FileMetaData`, serialized once when the file ends.
///
/// Fields: 1 version (1), 2 schema, 3 num_rows, 4 row_groups, 5 key_value_metadata, 6 created_by,
/// 7 column_orders (TYPE_ORDER for every leaf, so that readers trust min_value/max_value).
struct FileMetaData: Equatable {
    var schema: [SchemaElement]
    var rowGroups: [RowGroup]
    var keyValueMetadata: [(key: String, value: String)]
    var createdBy: String

    var numRows: Int64 { rowGroups.reduce(0) { $0 + $1.numRows } }
    var leafCount: Int { schema.count - 1 }

    static func == (a: FileMetaData, b: FileMetaData) -> Bool {
        a.schema == b.schema && a.rowGroups == b.rowGroups && a.createdBy == b.createdBy
            && a.keyValueMetadata.elementsEqual(b.keyValueMetadata) { $0.key == $1.key && $0.value == $1.value }
    }

    /// The footer's compact-protocol bytes (without the trailing length and magic).
    var serialized: [UInt8] {
        var w = ThriftCompactWriter(reservingCapacity: 1024 + rowGroups.count * 256 * max(1, leafCount))
        w.field(1, i32: 1)
        w.beginList(2, of: .struct, count: schema.count)
        for element in schema { element.write(to: &w) }
        w.field(3, i64: numRows)
        w.beginList(4, of: .struct, count: rowGroups.count)
        for group in rowGroups { group.write(to: &w) }
        if !keyValueMetadata.isEmpty {
            w.beginList(5, of: .struct, count: keyValueMetadata.count)
            for (key, value) in keyValueMetadata {
                w.beginStructBody()
                w.field(1, string: key)
                w.field(2, string: value)
                w.endStruct()
            }
        }
        w.field(6, string: createdBy)
        w.beginList(7, of: .struct, count: leafCount)
        for _ in 0..<leafCount {
            w.beginStructBody()
            w.emptyStruct(1)
            w.endStruct()
        }
        w.finishTopLevelStruct()
        return w.bytes
    }
}
