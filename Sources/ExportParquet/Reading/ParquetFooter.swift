/// The parts of a Parquet file's footer (`FileMetaData`) the reader uses: the schema's leaves,
/// and for each row group its row count and where each column chunk lies.
struct ParquetFooter {
    /// One element of the flattened schema tree (the root first, then depth-first).
    struct SchemaNode {
        var name = ""
        var physicalType: Int32?
        var typeLength: Int32?
        var repetition: Int32?
        var childCount = 0
        var convertedType: Int32?
        /// The LogicalType union's field id (1 STRING, 6 DATE, 8 TIMESTAMP, 10 INTEGER, …).
        var logicalType: Int16?
        /// TIMESTAMP: 1 MILLIS, 2 MICROS, 3 NANOS.
        var timeUnit: Int16?
        var isAdjustedToUTC: Bool?
    }

    /// Where one column chunk's pages are.
    struct ChunkLocation {
        var physicalType: Int32 = -1
        var path: [String] = []
        var codec: Int32 = 0
        var valueCount: Int64 = 0
        var totalCompressedSize: Int64 = 0
        var dataPageOffset: Int64 = -1
        var dictionaryPageOffset: Int64?
        var hasMetadata = false
        var filePath: String?
    }

    struct RowGroup {
        var rowCount: Int64 = 0
        var columns: [ChunkLocation] = []
    }

    var schema: [SchemaNode] = []
    var rowCount: Int64 = 0
    var rowGroups: [RowGroup] = []

    /// Decodes a `FileMetaData` struct from `bytes`.
    init(decoding bytes: UnsafeRawBufferPointer) throws(ParquetFormatError) {
        var d = ThriftCompactDecoder(bytes)
        try d.beginStruct()
        while let field = try d.nextField() {
            switch (field.id, field.type) {
            case (2, .list):
                let (_, n) = try d.beginList()
                schema.reserveCapacity(n)
                for _ in 0..<n { schema.append(try Self.schemaNode(&d)) }
            case (3, .i64): rowCount = try d.i64()
            case (4, .list):
                let (_, n) = try d.beginList()
                rowGroups.reserveCapacity(n)
                for _ in 0..<n { rowGroups.append(try Self.rowGroup(&d)) }
            default: try d.skip(field.type)
            }
        }
        d.endStruct()
    }

    private static func schemaNode(_ d: inout ThriftCompactDecoder) throws(ParquetFormatError) -> SchemaNode {
        var node = SchemaNode()
        try d.beginStruct()
        while let field = try d.nextField() {
            switch (field.id, field.type) {
            case (1, .i32): node.physicalType = try d.i32()
            case (2, .i32): node.typeLength = try d.i32()
            case (3, .i32): node.repetition = try d.i32()
            case (4, .binary): node.name = try d.string()
            case (5, .i32): node.childCount = try d.count()
            case (6, .i32): node.convertedType = try d.i32()
            case (10, .struct):
                try d.beginStruct()
                while let kind = try d.nextField() {
                    node.logicalType = kind.id
                    if kind.id == 8 && kind.type == .struct {
                        try d.beginStruct()
                        while let t = try d.nextField() {
                            switch (t.id, t.type) {
                            case (1, .booleanTrue), (1, .booleanFalse): node.isAdjustedToUTC = d.bool(t.type)
                            case (2, .struct):
                                try d.beginStruct()
                                while let unit = try d.nextField() {
                                    node.timeUnit = unit.id
                                    try d.skip(unit.type)
                                }
                                d.endStruct()
                            default: try d.skip(t.type)
                            }
                        }
                        d.endStruct()
                    } else {
                        try d.skip(kind.type)
                    }
                }
                d.endStruct()
            default: try d.skip(field.type)
            }
        }
        d.endStruct()
        return node
    }

    private static func rowGroup(_ d: inout ThriftCompactDecoder) throws(ParquetFormatError) -> RowGroup {
        var group = RowGroup()
        try d.beginStruct()
        while let field = try d.nextField() {
            switch (field.id, field.type) {
            case (1, .list):
                let (_, n) = try d.beginList()
                group.columns.reserveCapacity(n)
                for _ in 0..<n { group.columns.append(try columnChunk(&d)) }
            case (3, .i64): group.rowCount = try d.i64()
            default: try d.skip(field.type)
            }
        }
        d.endStruct()
        return group
    }

    private static func columnChunk(_ d: inout ThriftCompactDecoder) throws(ParquetFormatError) -> ChunkLocation {
        var chunk = ChunkLocation()
        try d.beginStruct()
        while let field = try d.nextField() {
            switch (field.id, field.type) {
            case (1, .binary): chunk.filePath = try d.string()
            case (3, .struct):
                chunk.hasMetadata = true
                try d.beginStruct()
                while let m = try d.nextField() {
                    switch (m.id, m.type) {
                    case (1, .i32): chunk.physicalType = try d.i32()
                    case (3, .list):
                        let (_, n) = try d.beginList()
                        for _ in 0..<n { chunk.path.append(try d.string()) }
                    case (4, .i32): chunk.codec = try d.i32()
                    case (5, .i64): chunk.valueCount = try d.i64()
                    case (7, .i64): chunk.totalCompressedSize = try d.i64()
                    case (9, .i64): chunk.dataPageOffset = try d.i64()
                    case (11, .i64): chunk.dictionaryPageOffset = try d.i64()
                    default: try d.skip(m.type)
                    }
                }
                d.endStruct()
            default: try d.skip(field.type)
            }
        }
        d.endStruct()
        return chunk
    }
}
