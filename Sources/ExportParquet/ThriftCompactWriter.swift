/// The writer half of Apache Thrift's compact protocol, enough for Parquet's footer and page headers.
///
/// Fields must be written in ascending id order inside a struct (the short delta form is used when the
/// delta is 1…15, the long form otherwise). Each integer is written with the wire type its IDL declares:
/// callers pick ``field(_:i32:)`` or ``field(_:i64:)`` from the `parquet.thrift` declaration, never from
/// the value's size. Cost: appends to one growing `[UInt8]`; no allocation per field beyond its growth.
struct ThriftCompactWriter {
    /// Compact-protocol wire types.
    enum WireType: UInt8 {
        case boolTrue = 1
        case boolFalse = 2
        case i8 = 3
        case i16 = 4
        case i32 = 5
        case i64 = 6
        case double = 7
        case binary = 8
        case list = 9
        case set = 10
        case map = 11
        case `struct` = 12
    }

    private(set) var bytes: [UInt8] = []
    /// The last field id written in the open struct; saved on ``beginStruct(_:)`` and restored by
    /// ``endStruct()``.
    private var lastFieldID: Int16 = 0
    private var stack: [Int16] = []

    init(reservingCapacity capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    // MARK: primitives

    /// ULEB128.
    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zigzag then ULEB128 (i16, i32 and i64 values all use this).
    mutating func writeZigzag(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func writeBinary(_ value: some Collection<UInt8>) {
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(_ value: String) {
        writeBinary(value.utf8)
    }

    private mutating func writeFieldHeader(_ id: Int16, _ type: WireType) {
        let delta = Int(id) - Int(lastFieldID)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta << 4) | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeZigzag(Int64(id))
        }
        lastFieldID = id
    }

    // MARK: fields

    mutating func field(_ id: Int16, i32 value: Int32) {
        writeFieldHeader(id, .i32)
        writeZigzag(Int64(value))
    }

    mutating func field(_ id: Int16, i64 value: Int64) {
        writeFieldHeader(id, .i64)
        writeZigzag(value)
    }

    /// A bool field carries its value in the header's type nibble; no value bytes follow.
    mutating func field(_ id: Int16, bool value: Bool) {
        writeFieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func field(_ id: Int16, binary value: some Collection<UInt8>) {
        writeFieldHeader(id, .binary)
        writeBinary(value)
    }

    mutating func field(_ id: Int16, string value: String) {
        writeFieldHeader(id, .binary)
        writeString(value)
    }

    /// Opens a struct-typed field; write its fields, then call ``endStruct()``.
    mutating func beginStruct(_ id: Int16) {
        writeFieldHeader(id, .struct)
        beginStructBody()
    }

    /// Opens a struct that is a list element (no field header).
    mutating func beginStructBody() {
        stack.append(lastFieldID)
        lastFieldID = 0
    }

    /// Writes the stop byte and restores the enclosing struct's field-id context.
    mutating func endStruct() {
        bytes.append(0)
        lastFieldID = stack.popLast() ?? 0
    }

    /// An empty struct field (`StringType{}`, `MilliSeconds{}`, `TypeDefinedOrder{}`).
    mutating func emptyStruct(_ id: Int16) {
        beginStruct(id)
        endStruct()
    }

    /// A list field's header; the elements follow without field headers.
    mutating func beginList(_ id: Int16, of elementType: WireType, count: Int) {
        writeFieldHeader(id, .list)
        writeListHeader(elementType, count: count)
    }

    mutating func writeListHeader(_ elementType: WireType, count: Int) {
        if count < 15 {
            bytes.append(UInt8(count << 4) | elementType.rawValue)
        } else {
            bytes.append(0xF0 | elementType.rawValue)
            writeVarint(UInt64(count))
        }
    }

    /// Ends a struct at the top level (the footer or a page header): just the stop byte.
    mutating func finishTopLevelStruct() {
        precondition(stack.isEmpty, "unbalanced thrift structs")
        bytes.append(0)
        lastFieldID = 0
    }
}
