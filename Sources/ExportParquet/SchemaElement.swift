/// One `SchemaElement` of the Parquet footer: the root (a group) or one leaf column.
///
/// Field ids and wire types follow `parquet.thrift`: 1 type (i32 enum), 3 repetition_type, 4 name,
/// 5 num_children, 6 converted_type, 10 logicalType.
struct SchemaElement: Equatable {
    /// `Type`: the physical type of a leaf.
    enum PhysicalType: Int32 {
        case int64 = 2
        case double = 5
        case byteArray = 6
    }

    /// `FieldRepetitionType`.
    enum Repetition: Int32 {
        case required = 0
        case optional = 1
    }

    /// `ConvertedType` (the legacy annotation, written next to the logical type).
    enum ConvertedType: Int32 {
        case utf8 = 0
        case timestampMillis = 9
    }

    /// The `LogicalType` union members we write.
    enum LogicalType: Equatable {
        /// `STRING` (field 1, an empty struct).
        case string
        /// `TIMESTAMP(isAdjustedToUTC, MILLIS)` (field 8).
        case timestampMillis(isAdjustedToUTC: Bool)
    }

    var name: String
    var type: PhysicalType?
    var repetition: Repetition?
    var numChildren: Int32?
    var convertedType: ConvertedType?
    var logicalType: LogicalType?

    /// The root group, `schema`, with `numChildren` leaves (REQUIRED, as pyarrow writes it).
    static func root(numChildren: Int) -> SchemaElement {
        SchemaElement(name: "schema", repetition: .required, numChildren: Int32(numChildren))
    }

    /// A UTF-8 string leaf: BYTE_ARRAY + UTF8 + STRING.
    static func string(_ name: String, repetition: Repetition) -> SchemaElement {
        SchemaElement(
            name: name,
            type: .byteArray,
            repetition: repetition,
            convertedType: .utf8,
            logicalType: .string
        )
    }

    /// A UTC instant in milliseconds: INT64 + TIMESTAMP_MILLIS + TIMESTAMP(true, MILLIS).
    static func timestampMillis(_ name: String, repetition: Repetition) -> SchemaElement {
        SchemaElement(
            name: name,
            type: .int64,
            repetition: repetition,
            convertedType: .timestampMillis,
            logicalType: .timestampMillis(isAdjustedToUTC: true)
        )
    }

    /// A DOUBLE leaf without annotation.
    static func double(_ name: String, repetition: Repetition) -> SchemaElement {
        SchemaElement(name: name, type: .double, repetition: repetition)
    }

    func write(to w: inout ThriftCompactWriter) {
        w.beginStructBody()
        if let type { w.field(1, i32: type.rawValue) }
        if let repetition { w.field(3, i32: repetition.rawValue) }
        w.field(4, string: name)
        if let numChildren { w.field(5, i32: numChildren) }
        if let convertedType { w.field(6, i32: convertedType.rawValue) }
        if let logicalType {
            w.beginStruct(10)
            switch logicalType {
            case .string:
                w.emptyStruct(1)
            case .timestampMillis(let utc):
                w.beginStruct(8)
                w.field(1, bool: utc)
                w.beginStruct(2)  // TimeUnit
                w.emptyStruct(1)  // MILLIS
                w.endStruct()
                w.endStruct()
            }
            w.endStruct()
        }
        w.endStruct()
    }
}
