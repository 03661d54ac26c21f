// A small, independent reader of Thrift's compact protocol, for checking what the encoder wrote.
// It keeps each field's wire type so tests can assert that i64 fields are written as i64.

struct ThriftReadError: Error, CustomStringConvertible {
    var description: String
}

indirect enum ThriftValue: Equatable {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case binary([UInt8])
    case list(elementType: UInt8, [ThriftValue])
    case structure(ThriftStruct)

    var int: Int64? { if case .int(let v) = self { v } else { nil } }
    var binary: [UInt8]? { if case .binary(let v) = self { v } else { nil } }
    var string: String? { binary.map { String(decoding: $0, as: UTF8.self) } }
    var list: [ThriftValue]? { if case .list(_, let v) = self { v } else { nil } }
    var structure: ThriftStruct? { if case .structure(let v) = self { v } else { nil } }
    var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
}

struct ThriftStruct: Equatable {
    var fields: [Int16: ThriftValue] = [:]
    /// Field id → compact wire type as written (1/2 bool, 5 i32, 6 i64, 8 binary, 9 list, 12 struct).
    var wireTypes: [Int16: UInt8] = [:]
    /// Field ids in the order they were written.
    var order: [Int16] = []

    subscript(_ id: Int16) -> ThriftValue? { fields[id] }
    func int(_ id: Int16) -> Int64? { fields[id]?.int }
    func string(_ id: Int16) -> String? { fields[id]?.string }
    func list(_ id: Int16) -> [ThriftValue]? { fields[id]?.list }
    func structure(_ id: Int16) -> ThriftStruct? { fields[id]?.structure }
}

struct ThriftCompactReader {
    let bytes: [UInt8]
    var position: Int

    init(_ bytes: [UInt8], at position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw ThriftReadError(description: "unexpected end at \(position)") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw ThriftReadError(description: "varint too long") }
        }
    }

    mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    mutating func readStruct() throws -> ThriftStruct {
        var result = ThriftStruct()
        var last: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return result }
            let type = header & 0x0F
            let delta = header >> 4
            let id: Int16 = delta == 0 ? Int16(try zigzag()) : last + Int16(delta)
            last = id
            guard result.fields[id] == nil else { throw ThriftReadError(description: "field \(id) repeated") }
            result.fields[id] = try value(type: type)
            result.wireTypes[id] = type
            result.order.append(id)
        }
    }

    mutating func value(type: UInt8, inList: Bool = false) throws -> ThriftValue {
        switch type {
        case 1: return inList ? .bool(try byte() == 1) : .bool(true)
        case 2: return inList ? .bool(try byte() == 1) : .bool(false)
        case 3: return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6: return .int(try zigzag())
        case 7:
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(try byte()) << (8 * UInt64(i)) }
            return .double(Double(bitPattern: bits))
        case 8:
            let n = Int(try varint())
            guard position + n <= bytes.count else { throw ThriftReadError(description: "binary past end") }
            defer { position += n }
            return .binary(Array(bytes[position..<(position + n)]))
        case 9, 10:
            let header = try byte()
            var count = Int(header >> 4)
            let elementType = header & 0x0F
            if count == 15 { count = Int(try varint()) }
            var items: [ThriftValue] = []
            for _ in 0..<count { items.append(try value(type: elementType, inList: true)) }
            return .list(elementType: elementType, items)
        case 12: return .structure(try readStruct())
        default: throw ThriftReadError(description: "unsupported wire type \(type) at \(position)")
        }
    }
}
