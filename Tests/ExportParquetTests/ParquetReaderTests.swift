import ExportCore
import Testing

@testable import ExportParquet

#if canImport(Glibc)
import Glibc
#endif

/// Our reader against files our encoder writes (dictionary strings and timestamps, optional doubles
/// with nulls, every codec, small pages and row groups), and its decoders against our encoders.
@Suite struct ParquetReaderTests {
    static let smallLimits = ParquetFormat.Limits(
        rowGroupRows: 700,
        rowGroupBytes: 1 << 30,
        pageRows: 90,
        pageBytes: 600,
        dictionaryPageBytes: 300
    )

    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        var template = Array("/tmp/parquet-reader-test-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        try #require(written == bytes.count)
        return String(cString: template.withUnsafeBufferPointer { $0.baseAddress! })
    }

    /// Every value of column `column`, row group after row group, page after page.
    static func readAll(_ reader: ParquetReader, column: Int, as target: ParquetValueTarget) throws -> [Any?] {
        var out: [Any?] = []
        for g in 0..<reader.rowGroupCount {
            let cursor = try reader.cursor(rowGroup: g, column: column, as: target)
            var rows = 0
            while try cursor.nextPage() {
                for r in 0..<cursor.count {
                    if let v = cursor.validity, v[r] == 0 {
                        out.append(nil)
                        continue
                    }
                    switch target {
                    case .bytes:
                        let bytes = UnsafeBufferPointer(
                            start: cursor.byteBase + cursor.byteStarts[r],
                            count: Int(cursor.byteLengths[r])
                        )
                        out.append(String(decoding: bytes, as: UTF8.self))
                    case .double: out.append(cursor.doubles[r])
                    case .millis, .integer: out.append(cursor.integers[r])
                    }
                }
                rows += cursor.count
            }
            #expect(rows == reader.rowCount(ofRowGroup: g))
        }
        return out
    }

    @Test(arguments: ParquetFormat.Codec.allCases)
    func readsBackWhatTheEncoderWrote(codec: ParquetFormat.Codec) throws {
        let batch = TestData.forecastBatch(items: 30, windows: 2, days: 40, itemID: { "item \($0) ü" })
        let bytes = try TestData.encode(
            batch,
            context: TestData.context(TestData.quantileSchema),
            format: ParquetFormat(codec: codec, limits: Self.smallLimits)
        )
        let path = try Self.temporaryFile(bytes)
        defer { unlink(path) }
        let reader = try ParquetReader(path: path)
        #expect(reader.rowGroupCount == 4)
        #expect(
            reader.columnNames == [
                "item_id", "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time", "mean",
                "p10", "p50", "p90",
            ]
        )
        #expect(reader.columnKinds[0] == .string && reader.columnKinds[1] == .instant)
        #expect(reader.columnKinds[2] == .floatingPoint)
        let ids = try Self.readAll(reader, column: 0, as: .bytes).map { $0 as! String }
        #expect(ids == batch.seriesIndex.map { batch.series[Int($0)].itemId })
        let timestamps = try Self.readAll(reader, column: 1, as: .millis).map { $0 as! Int64 }
        #expect(timestamps == batch.timestamp)
        let ends = try Self.readAll(reader, column: 4, as: .millis).map { $0 as! Int64 }
        #expect(ends == batch.windowEnd)
        let targets = try Self.readAll(reader, column: 2, as: .double).map { $0 as? Double }
        #expect(targets.count == batch.rowCount)
        for row in 0..<batch.rowCount { #expect(targets[row]?.bitPattern == batch.target[row]?.bitPattern) }
        // Forecast's order: mean first (column 5), whatever the schema's order.
        let means = try Self.readAll(reader, column: 5, as: .double).map { $0 as! Double }
        #expect(means == batch.forecasts[3].values)
    }

    @Test func refusesATargetTheColumnCannotGive() throws {
        let batch = TestData.forecastBatch(items: 2, windows: 1, days: 3)
        let bytes = try TestData.encode(
            batch,
            context: TestData.context(TestData.quantileSchema),
            format: ParquetFormat(codec: .none)
        )
        let path = try Self.temporaryFile(bytes)
        defer { unlink(path) }
        let reader = try ParquetReader(path: path)
        #expect(throws: ExportError.self) { try reader.cursor(rowGroup: 0, column: 0, as: .double) }
    }

    @Test func truncatedFilesAreInputErrors() throws {
        let batch = TestData.forecastBatch(items: 5, windows: 1, days: 10)
        let bytes = try TestData.encode(
            batch,
            context: TestData.context(TestData.quantileSchema),
            format: ParquetFormat(codec: .snappy)
        )
        for cut in [0, 3, 20, bytes.count / 2, bytes.count - 1] {
            let path = try Self.temporaryFile(Array(bytes[0..<cut]))
            defer { unlink(path) }
            let error = try #require(throws: ExportError.self) { try ParquetReader(path: path) }
            #expect(error.code == .input)
            #expect(error.message.contains(path))
        }
    }

    @Test func snappyDecompressorInvertsTheCompressor() throws {
        var generator = SplitMix64(seed: 7)
        for size in [0, 1, 5, 64, 1000, 70_000, 200_003] {
            // Text-like input with repeats near and far, so every copy kind appears.
            var input = [UInt8]()
            while input.count < size {
                if input.count > 16 && generator.next() % 3 == 0 {
                    let back = Int(generator.next() % UInt64(min(input.count, 70_000))) + 1
                    let length = Int(generator.next() % 40) + 1
                    for _ in 0..<length where input.count < size { input.append(input[input.count - back]) }
                } else {
                    input.append(UInt8(truncatingIfNeeded: generator.next() % 26 + 97))
                }
            }
            let compressor = SnappyCompressor()
            var compressed = [UInt8](repeating: 0, count: SnappyCompressor.maxCompressedLength(size))
            let n = input.withUnsafeBytes { src in
                compressed.withUnsafeMutableBytes { compressor.compress(src, into: $0.baseAddress!) }
            }
            var output = [UInt8](repeating: 0, count: size)
            try compressed[0..<n].withUnsafeBytes { src in
                try output.withUnsafeMutableBytes { try SnappyDecompressor.decompress(src, into: $0) }
            }
            #expect(output == input, "size \(size)")
            // Cut short: an error, never a crash.
            if n > 2 {
                #expect(throws: ParquetFormatError.self) {
                    try compressed[0..<(n - 1)].withUnsafeBytes { src in
                        try output.withUnsafeMutableBytes { try SnappyDecompressor.decompress(src, into: $0) }
                    }
                }
            }
        }
    }

    @Test func rleHybridDecoderReadsBothRunKinds() throws {
        // 10 × 5 (RLE, width 3), then 8 bit-packed values 0…7.
        let bytes: [UInt8] = [20, 5, 3, 0x88, 0xC6, 0xFA]
        var out = [UInt32](repeating: 99, count: 18)
        try bytes.withUnsafeBytes { raw in
            try out.withUnsafeMutableBufferPointer {
                _ = try RLEHybridDecoder.decode(raw, bitWidth: 3, count: 18, into: $0.baseAddress!)
            }
        }
        #expect(out == Array(repeating: 5, count: 10) + [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(throws: ParquetFormatError.self) {
            try bytes.withUnsafeBytes { raw in
                try out.withUnsafeMutableBufferPointer {
                    _ = try RLEHybridDecoder.decode(raw, bitWidth: 3, count: 30, into: $0.baseAddress!)
                }
            }
        }
    }
}
