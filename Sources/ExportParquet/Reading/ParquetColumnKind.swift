/// What a flat Parquet column holds, read from its physical type and its logical or converted
/// type (either may be missing: DuckDB writes only converted types, polars only logical ones).
public enum ParquetColumnKind: Sendable, Equatable {
    /// BYTE_ARRAY: text (STRING/UTF8, ENUM, JSON) or unannotated bytes (checked as UTF-8 by the caller).
    case string
    /// DOUBLE or FLOAT.
    case floatingPoint
    /// INT32 or INT64 integers (signed or unsigned).
    case integer
    /// An instant: INT64 TIMESTAMP (MILLIS, MICROS, NANOS; UTC or not), INT96, or INT32 DATE.
    case instant
    /// Anything else, with what it is (for the error message).
    case unsupported(String)

    /// A short name for messages.
    public var description: String {
        switch self {
        case .string: "string"
        case .floatingPoint: "floating point"
        case .integer: "integer"
        case .instant: "timestamp"
        case .unsupported(let what): what
        }
    }
}

/// How a cursor hands out a column's values.
public enum ParquetValueTarget: Sendable {
    /// Byte ranges (strings): ``ParquetColumnCursor/byteBase`` + starts and lengths.
    case bytes
    /// `Double`s: from DOUBLE, FLOAT or integers.
    case double
    /// Milliseconds since the epoch (`Int64`), from any ``ParquetColumnKind/instant`` column.
    /// Finer units are floored to the millisecond.
    case millis
    /// `Int64`s from integer columns.
    case integer
}

/// One leaf column of a flat schema.
struct ParquetLeaf {
    let name: String
    let physicalType: Int32
    let kind: ParquetColumnKind
    /// 1 for OPTIONAL, 0 for REQUIRED.
    let maxDefinitionLevel: Int
    /// INT64 TIMESTAMP: units per millisecond (1, 1,000 or 1,000,000). INT32 DATE: 0.
    let unitsPerMillisecond: Int64
    let isUnsigned: Bool

    static func physicalName(_ type: Int32) -> String {
        switch type {
        case 0: "BOOLEAN"
        case 1: "INT32"
        case 2: "INT64"
        case 3: "INT96"
        case 4: "FLOAT"
        case 5: "DOUBLE"
        case 6: "BYTE_ARRAY"
        case 7: "FIXED_LEN_BYTE_ARRAY"
        default: "physical type \(type)"
        }
    }

    init(_ node: ParquetFooter.SchemaNode) {
        name = node.name
        let physical = node.physicalType ?? -1
        physicalType = physical
        maxDefinitionLevel = node.repetition == 1 ? 1 : 0
        var units: Int64 = 1
        var unsigned = false
        let logical = node.logicalType
        let converted = node.convertedType
        switch physical {
        case 6:
            switch (logical, converted) {
            case (nil, nil), (1?, _), (4?, _), (12?, _), (nil, 0?), (nil, 4?), (nil, 19?): kind = .string
            default: kind = .unsupported(Self.annotated("BYTE_ARRAY", logical, converted))
            }
        case 4, 5:
            kind =
                logical == nil && converted == nil
                ? .floatingPoint : .unsupported(Self.annotated(Self.physicalName(physical), logical, converted))
        case 3:
            kind = .instant
        case 1, 2:
            if logical == 6 || (logical == nil && converted == 6) {
                kind = physical == 1 ? .instant : .unsupported("INT64 DATE")
                units = 0
            } else if logical == 8 || (logical == nil && (converted == 9 || converted == 10)) {
                if physical == 2 {
                    let unit = node.timeUnit ?? (converted == 10 ? 2 : 1)
                    units = unit == 3 ? 1_000_000 : unit == 2 ? 1_000 : 1
                    kind = .instant
                } else {
                    kind = .unsupported("INT32 TIMESTAMP")
                }
            } else if logical == nil || logical == 10 {
                switch converted {
                case nil, 15?, 16?, 17?, 18?: kind = .integer
                case 11?, 12?, 13?, 14?:
                    kind = .integer
                    unsigned = true
                default: kind = .unsupported(Self.annotated(Self.physicalName(physical), logical, converted))
                }
            } else {
                kind = .unsupported(Self.annotated(Self.physicalName(physical), logical, converted))
            }
        default:
            kind = .unsupported(Self.physicalName(physical))
        }
        unitsPerMillisecond = units
        isUnsigned = unsigned
    }

    private static func annotated(_ physical: String, _ logical: Int16?, _ converted: Int32?) -> String {
        let logicalNames: [Int16: String] = [
            2: "MAP", 3: "LIST", 5: "DECIMAL", 7: "TIME", 11: "UNKNOWN", 13: "BSON", 14: "UUID", 15: "FLOAT16",
            16: "VARIANT", 17: "GEOMETRY", 18: "GEOGRAPHY",
        ]
        let convertedNames: [Int32: String] = [
            5: "DECIMAL", 7: "TIME_MILLIS", 8: "TIME_MICROS", 20: "BSON", 21: "INTERVAL",
        ]
        if let logical { return "\(physical) \(logicalNames[logical] ?? "logical type \(logical)")" }
        if let converted { return "\(physical) \(convertedNames[converted] ?? "converted type \(converted)")" }
        return physical
    }
}
