/// Reads the thrift compact protocol (the encoding of Parquet's footer and page headers) from a
/// byte range, checking every read against its end.
///
/// Only what Parquet metadata uses: structs, lists, i32/i64 (zigzag varints), bools, binary.
/// Fields a caller does not know are skipped by type (``skip(_:)``), so newer writers' additions
/// (statistics fields, size statistics, geospatial types) are read past. Nesting is limited to 32
/// levels so a hostile file cannot exhaust the stack. Cost: one pass, no allocation except for the
/// strings asked for.
struct ThriftCompactDecoder {
    /// Compact type ids.
    enum WireType: UInt8 {
        case booleanTrue = 1
        case booleanFalse = 2
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

    private let base: UnsafePointer<UInt8>
    private let end: Int
    /// Bytes consumed so far.
    private(set) var position = 0
    private var lastFieldIds: [Int16] = []
    private var fieldId: Int16 = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? UnsafePointer(bitPattern: 1)!
        end = bytes.count
    }

    mutating func byte() throws(ParquetFormatError) -> UInt8 {
        guard position < end else { throw ParquetFormatError("the thrift metadata ends early") }
        defer { position += 1 }
        return base[position]
    }

    mutating func varint() throws(ParquetFormatError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw ParquetFormatError("a thrift varint is longer than 10 bytes") }
        }
    }

    mutating func i64() throws(ParquetFormatError) -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func i32() throws(ParquetFormatError) -> Int32 {
        let v = try i64()
        guard let r = Int32(exactly: v) else { throw ParquetFormatError("a thrift i32 is out of range") }
        return r
    }

    /// A non-negative i32 or i64 as an `Int`.
    mutating func count() throws(ParquetFormatError) -> Int {
        let v = try i64()
        guard v >= 0 else { throw ParquetFormatError("a size or count in the metadata is negative") }
        return Int(v)
    }

    mutating func binary() throws(ParquetFormatError) -> UnsafeBufferPointer<UInt8> {
        let n = try varint()
        guard n <= UInt64(end - position) else { throw ParquetFormatError("a thrift string runs past its end") }
        defer { position += Int(n) }
        return UnsafeBufferPointer(start: base + position, count: Int(n))
    }

    mutating func string() throws(ParquetFormatError) -> String {
        let bytes = try binary()
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw ParquetFormatError("a name in the metadata is not valid UTF-8")
        }
        return s
    }

    /// Starts reading a struct's fields.
    mutating func beginStruct() throws(ParquetFormatError) {
        guard lastFieldIds.count < 32 else { throw ParquetFormatError("the thrift metadata nests too deeply") }
        lastFieldIds.append(fieldId)
        fieldId = 0
    }

    mutating func endStruct() {
        fieldId = lastFieldIds.removeLast()
    }

    /// The next field's id and type, or nil at the struct's end (then call ``endStruct()``).
    mutating func nextField() throws(ParquetFormatError) -> (id: Int16, type: WireType)? {
        let header = try byte()
        if header == 0 { return nil }
        guard let type = WireType(rawValue: header & 0x0F) else {
            throw ParquetFormatError("unknown thrift type \(header & 0x0F)")
        }
        let delta = header >> 4
        if delta == 0 {
            let id = try i64()
            guard let id16 = Int16(exactly: id) else { throw ParquetFormatError("a thrift field id is out of range") }
            fieldId = id16
        } else {
            fieldId &+= Int16(delta)
        }
        return (fieldId, type)
    }

    /// A bool field's value (carried by its type).
    func bool(_ type: WireType) -> Bool { type == .booleanTrue }

    /// A list header: element type and count.
    mutating func beginList() throws(ParquetFormatError) -> (type: WireType, count: Int) {
        let header = try byte()
        guard let type = WireType(rawValue: header & 0x0F) else {
            throw ParquetFormatError("unknown thrift list element type \(header & 0x0F)")
        }
        var n = Int(header >> 4)
        if n == 15 {
            let v = try varint()
            guard v <= UInt64(end - position) else {
                throw ParquetFormatError("a thrift list is longer than its bytes")
            }
            n = Int(v)
        }
        return (type, n)
    }

    /// Skips a value of `type` (a field's value, or a list element when `inList`).
    mutating func skip(_ type: WireType, inList: Bool = false) throws(ParquetFormatError) {
        switch type {
        case .booleanTrue, .booleanFalse:
            if inList { _ = try byte() }
        case .i8: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard end - position >= 8 else { throw ParquetFormatError("the thrift metadata ends early") }
            position += 8
        case .binary: _ = try binary()
        case .list, .set:
            let (elementType, n) = try beginList()
            try nest()
            for _ in 0..<n { try skip(elementType, inList: true) }
            lastFieldIds.removeLast()
        case .map:
            let n = try varint()
            guard n <= UInt64(end - position) else { throw ParquetFormatError("a thrift map is longer than its bytes") }
            if n > 0 {
                let types = try byte()
                guard let k = WireType(rawValue: types >> 4), let v = WireType(rawValue: types & 0x0F) else {
                    throw ParquetFormatError("unknown thrift map types")
                }
                try nest()
                for _ in 0..<n {
                    try skip(k, inList: true)
                    try skip(v, inList: true)
                }
                lastFieldIds.removeLast()
            }
        case .struct:
            try beginStruct()
            while let field = try nextField() { try skip(field.type) }
            endStruct()
        }
    }

    private mutating func nest() throws(ParquetFormatError) {
        guard lastFieldIds.count < 32 else { throw ParquetFormatError("the thrift metadata nests too deeply") }
        lastFieldIds.append(fieldId)
    }
}
