import CZlib
import ExportCSV
import ExportCore
import NIOCore
import Testing

/// Decompresses a whole gzip stream with zlib's inflate (windowBits 31: gzip only).
private func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
    var stream = z_stream()
    #expect(inflateInit2_(&stream, 31, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    defer { inflateEnd(&stream) }
    var output: [UInt8] = []
    var input = bytes
    var status = Z_OK
    try input.withUnsafeMutableBufferPointer { inBuffer in
        stream.next_in = inBuffer.baseAddress
        stream.avail_in = UInt32(inBuffer.count)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        repeat {
            let produced = chunk.withUnsafeMutableBufferPointer { outBuffer -> Int in
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return outBuffer.count - Int(stream.avail_out)
            }
            output.append(contentsOf: chunk[..<produced])
            guard status == Z_OK || status == Z_STREAM_END else {
                throw ExportError.internal("inflate failed: \(status)")
            }
        } while status != Z_STREAM_END
        // One member, nothing after it.
        #expect(stream.avail_in == 0)
    }
    return output
}

@Suite("CSV gzip")
struct EncodingGzipTests {
    private func schema() throws -> TableSchema {
        try ExportSchema(
            dimensions: ["store"],
            forecastTypes: [.quantile(hundredths: 10), .quantile(hundredths: 50), .mean]
        )
        .forecastedValues
    }

    @Test("gzip output inflates to exactly the uncompressed CSV")
    func roundTrip() throws {
        let batch = syntheticForecastBatch(items: 60, windows: 3, days: 40, seed: 9)
        var plain = CSVEncoder(schema: try schema())
        let expected = try encodeAll(&plain, [(batch, 0..<batch.rowCount)]).bytes

        var gzip = CSVEncoder(schema: try schema(), compression: .gzip, chunkSize: 8 * 1024)
        let cuts = [0, 3, 1000, 1001, 5000, batch.rowCount]
        let (compressed, chunks) = try encodeAll(&gzip, zip(cuts, cuts.dropFirst()).map { (batch, $0..<$1) })
        #expect(compressed.starts(with: [0x1F, 0x8B, 0x08]))  // gzip magic, deflate
        #expect(try gunzip(compressed) == expected)
        #expect(compressed.count < expected.count / 2)
        #expect(!chunks.isEmpty)
        for size in chunks { #expect(size >= 8 * 1024) }
        // After finish, byteCount is exact: every compressed byte.
        #expect(gzip.byteCount == compressed.count)
        #expect(gzip.uncompressedByteCount == expected.count)
    }

    @Test("an empty gzip part is a valid member holding the header")
    func headerOnly() throws {
        var gzip = CSVEncoder(schema: try schema(), compression: .gzip)
        let bytes = Array(try gzip.finish().readableBytesView)
        let header =
            "item_id,store,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean,p10,p50\n"
        #expect(try gunzip(bytes) == Array(header.utf8))
    }

    @Test("byteCount grows with the data and stays near the compressed size")
    func byteCountEstimate() throws {
        let batch = syntheticForecastBatch(items: 100, windows: 2, days: 60, seed: 10)
        var gzip = CSVEncoder(schema: try schema(), compression: .gzip)
        var previous = gzip.byteCount
        var handedOut = 0
        for start in stride(from: 0, to: batch.rowCount, by: 1000) {
            try gzip.append(batch, rows: start..<min(start + 1000, batch.rowCount))
            while let chunk = gzip.takeReadyBytes() { handedOut += chunk.readableBytes }
            #expect(gzip.byteCount >= previous)
            #expect(gzip.byteCount >= handedOut)
            previous = gzip.byteCount
        }
        let estimate = gzip.byteCount
        let total = handedOut + (try gzip.finish()).readableBytes
        // The estimate before the final flush is within zlib's look-ahead of the real size.
        #expect(abs(estimate - total) < 128 * 1024)
        #expect(gzip.byteCount == total)
    }
}
