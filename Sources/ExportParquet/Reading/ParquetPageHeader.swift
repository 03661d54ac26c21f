/// A decoded `PageHeader`: the page's kind, sizes and, for data pages, value count, encoding and
/// level layout (v1 and v2 alike).
struct ParquetPageHeader {
    enum Kind {
        case dataV1
        case dataV2
        case dictionary
        /// Index pages and anything newer: skipped.
        case other
    }

    var kind = Kind.other
    var uncompressedSize = 0
    var compressedSize = 0
    /// Data pages: values including nulls; dictionary pages: entries.
    var valueCount = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = 3
    /// v2 only.
    var nullCount = 0
    var definitionLevelsByteLength = 0
    var repetitionLevelsByteLength = 0
    var isCompressed = true
    /// Bytes the header itself took.
    var headerSize = 0

    /// Decodes a header from the start of `bytes`.
    init(decoding bytes: UnsafeRawBufferPointer) throws(ParquetFormatError) {
        var d = ThriftCompactDecoder(bytes)
        var type: Int32 = -1
        try d.beginStruct()
        while let field = try d.nextField() {
            switch (field.id, field.type) {
            case (1, .i32): type = try d.i32()
            case (2, .i32): uncompressedSize = try d.count()
            case (3, .i32): compressedSize = try d.count()
            case (5, .struct):
                try d.beginStruct()
                while let f = try d.nextField() {
                    switch (f.id, f.type) {
                    case (1, .i32): valueCount = try d.count()
                    case (2, .i32): encoding = try d.i32()
                    case (3, .i32): definitionLevelEncoding = try d.i32()
                    default: try d.skip(f.type)
                    }
                }
                d.endStruct()
            case (7, .struct):
                try d.beginStruct()
                while let f = try d.nextField() {
                    switch (f.id, f.type) {
                    case (1, .i32): valueCount = try d.count()
                    case (2, .i32): encoding = try d.i32()
                    default: try d.skip(f.type)
                    }
                }
                d.endStruct()
            case (8, .struct):
                try d.beginStruct()
                while let f = try d.nextField() {
                    switch (f.id, f.type) {
                    case (1, .i32): valueCount = try d.count()
                    case (2, .i32): nullCount = try d.count()
                    case (4, .i32): encoding = try d.i32()
                    case (5, .i32): definitionLevelsByteLength = try d.count()
                    case (6, .i32): repetitionLevelsByteLength = try d.count()
                    case (7, .booleanTrue), (7, .booleanFalse): isCompressed = d.bool(f.type)
                    default: try d.skip(f.type)
                    }
                }
                d.endStruct()
            default: try d.skip(field.type)
            }
        }
        d.endStruct()
        headerSize = d.position
        switch type {
        case 0: kind = .dataV1
        case 2: kind = .dictionary
        case 3: kind = .dataV2
        case -1: throw ParquetFormatError("a page header has no page type")
        default: kind = .other
        }
    }
}
