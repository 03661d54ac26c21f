import Testing

@testable import ExportParquet

@Suite struct ThriftCompactWriterTests {
    @Test func varintAndZigzagMatchTheSpec() {
        var w = ThriftCompactWriter()
        w.writeVarint(50399)
        #expect(w.bytes == [0xDF, 0x89, 0x03])
        for (value, expected) in [(0, 0x00), (-1, 0x01), (1, 0x02), (3, 0x06), (15, 0x1E)] as [(Int64, UInt8)] {
            var z = ThriftCompactWriter()
            z.writeZigzag(value)
            #expect(z.bytes == [expected], "zigzag(\(value))")
        }
        var big = ThriftCompactWriter()
        big.writeZigzag(Int64.min)
        #expect(big.bytes == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
    }

    @Test func dataPageHeaderMatchesTheWorkedExample() {
        // parquet.md §2: v1 data page header of a 3-row uncompressed column with a 15-byte body.
        let header = PageHeader(
            kind: .dataPage,
            uncompressedPageSize: 15,
            compressedPageSize: 15,
            numValues: 3,
            encoding: .plain
        )
        #expect(
            header.serialized == [
                0x15, 0x00, 0x15, 0x1E, 0x15, 0x1E, 0x2C, 0x15, 0x06, 0x15, 0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00,
            ]
        )
    }

    @Test func dictionaryPageHeader() {
        let header = PageHeader(
            kind: .dictionaryPage,
            uncompressedPageSize: 100,
            compressedPageSize: 60,
            numValues: 7,
            encoding: .plain
        )
        // type 2 (04), sizes 100 (zigzag 200 = C8 01) and 60 (78), field 7 (delta 4, struct: 4C) {1: 7 (0E), 2: PLAIN}.
        #expect(
            header.serialized == [0x15, 0x04, 0x15, 0xC8, 0x01, 0x15, 0x78, 0x4C, 0x15, 0x0E, 0x15, 0x00, 0x00, 0x00]
        )
    }

    @Test(arguments: [PageHeader.Kind.dataPage, .dictionaryPage])
    func pointerEncodedPageHeaderMatchesTheThriftWriter(kind: PageHeader.Kind) {
        // Sizes across every varint length (1…5 bytes) and both encodings.
        let sizes: [Int32] = [0, 1, 63, 64, 8191, 8192, 1_048_575, 1_048_576, Int32.max]
        for size in sizes {
            for encoding in [Encoding.plain, .rleDictionary] {
                let header = PageHeader(
                    kind: kind,
                    uncompressedPageSize: size,
                    compressedPageSize: size / 3,
                    numValues: size / 7,
                    encoding: encoding
                )
                var buffer = [UInt8](repeating: 0xAA, count: PageHeader.maxEncodedByteCount)
                let n = buffer.withUnsafeMutableBytes { header.encode(into: $0.baseAddress!) }
                #expect(n <= PageHeader.maxEncodedByteCount)
                #expect(Array(buffer[0..<n]) == header.serialized, "\(kind) \(size) \(encoding)")
            }
        }
    }

    @Test func stringSchemaElementMatchesTheGoldenFile() {
        var w = ThriftCompactWriter()
        SchemaElement.string("item_id", repetition: .required).write(to: &w)
        #expect(
            w.bytes == [0x15, 0x0C, 0x25, 0x00, 0x18, 0x07] + Array("item_id".utf8) + [
                0x25, 0x00, 0x4C, 0x1C, 0x00, 0x00, 0x00,
            ]
        )
    }

    @Test func timestampSchemaElementMatchesTheGoldenFile() {
        var w = ThriftCompactWriter()
        SchemaElement.timestampMillis("ts", repetition: .required).write(to: &w)
        // type INT64 (04), REQUIRED, name, converted TIMESTAMP_MILLIS (zigzag 18 = 0x12), logicalType.
        #expect(
            w.bytes == [0x15, 0x04, 0x25, 0x00, 0x18, 0x02] + Array("ts".utf8)
                + [0x25, 0x12, 0x4C, 0x8C, 0x11, 0x1C, 0x1C, 0x00, 0x00, 0x00, 0x00, 0x00]
        )
    }

    @Test func optionalDoubleSchemaElementAndRoot() {
        var w = ThriftCompactWriter()
        SchemaElement.double("p50", repetition: .optional).write(to: &w)
        #expect(w.bytes == [0x15, 0x0A, 0x25, 0x02, 0x18, 0x03] + Array("p50".utf8) + [0x00])
        var r = ThriftCompactWriter()
        SchemaElement.root(numChildren: 3).write(to: &r)
        #expect(r.bytes == [0x35, 0x00, 0x18, 0x06] + Array("schema".utf8) + [0x15, 0x06, 0x00])
    }

    @Test func longFormFieldIdsAndBoolsAndLongLists() {
        var w = ThriftCompactWriter()
        w.field(1, bool: true)
        w.field(20, i32: 1)  // delta 19 > 15: long form (type byte, zigzag id)
        w.field(21, bool: false)
        w.beginList(22, of: .i32, count: 15)
        for i in 0..<15 { w.writeZigzag(Int64(i)) }
        w.finishTopLevelStruct()
        #expect(
            w.bytes == [0x11, 0x05, 0x28, 0x02, 0x12, 0x19, 0xF5, 0x0F] + (0..<15).map { UInt8($0 * 2) } + [0x00]
        )
    }

    @Test func nestedStructsRestoreTheOuterFieldContext() {
        var w = ThriftCompactWriter()
        w.field(1, i32: 0)
        w.beginStruct(3)
        w.field(14, i64: 1)
        w.endStruct()
        w.field(4, i32: 0)  // delta 1 from field 3, not from the inner field 14
        w.finishTopLevelStruct()
        #expect(w.bytes == [0x15, 0x00, 0x2C, 0xE6, 0x02, 0x00, 0x15, 0x00, 0x00])
    }

    @Test func footerFieldsHaveTheirDeclaredWireTypes() throws {
        let stats = Statistics(nullCount: 1, minValue: [1, 2], maxValue: [3, 4], nanCount: 0, legacyMinMax: true)
        let column = ColumnMetaData(
            type: .double,
            encodings: [.plain, .rle],
            path: "p50",
            codec: .snappy,
            numValues: 3,
            totalUncompressedSize: 100,
            totalCompressedSize: 90,
            dataPageOffset: 4,
            dictionaryPageOffset: nil,
            statistics: stats,
            encodingStats: [.init(pageKind: .dataPage, encoding: .plain, count: 1)]
        )
        let footer = FileMetaData(
            schema: [.root(numChildren: 1), .double("p50", repetition: .optional)],
            rowGroups: [RowGroup(columns: [column], numRows: 3, fileOffset: 4)],
            keyValueMetadata: [("k", "v")],
            createdBy: "backtest-export version 0.1.0"
        )
        var reader = ThriftCompactReader(footer.serialized)
        let root = try reader.readStruct()
        #expect(reader.position == footer.serialized.count)
        #expect(root.wireTypes == [1: 5, 2: 9, 3: 6, 4: 9, 5: 9, 6: 8, 7: 9])
        #expect(root.int(1) == 1)
        #expect(root.int(3) == 3)
        #expect(root.string(6) == "backtest-export version 0.1.0")
        let orders = try #require(root.list(7))
        #expect(orders.count == 1)
        #expect(orders[0].structure?.structure(1) == ThriftStruct())
        let group = try #require(root.list(4)?.first?.structure)
        #expect(group.wireTypes == [1: 9, 2: 6, 3: 6, 5: 6, 6: 6])
        #expect(group.int(2) == 100)
        #expect(group.int(6) == 90)
        let chunk = try #require(group.list(1)?.first?.structure)
        #expect(chunk.wireTypes == [2: 6, 3: 12])
        #expect(chunk.int(2) == 0)
        let meta = try #require(chunk.structure(3))
        #expect(meta.wireTypes == [1: 5, 2: 9, 3: 9, 4: 5, 5: 6, 6: 6, 7: 6, 9: 6, 12: 12, 13: 9])
        #expect(meta.list(2) == [.int(0), .int(3)])
        #expect(meta.list(3) == [.binary(Array("p50".utf8))])
        let s = try #require(meta.structure(12))
        #expect(s.wireTypes == [1: 8, 2: 8, 3: 6, 5: 8, 6: 8, 7: 1, 8: 1, 9: 6])
        #expect(s.fields[1] == .binary([3, 4]))
        #expect(s.fields[2] == .binary([1, 2]))
        let kv = try #require(root.list(5)?.first?.structure)
        #expect(kv.string(1) == "k")
        #expect(kv.string(2) == "v")
    }
}
