import CZlib
import CZstd
import Testing

@testable import ExportParquet

@Suite struct PageCompressorTests {
    static let input: [UInt8] = Array(
        (0..<5000).flatMap { i in Array("item_\(i % 37),2023-01-\(i % 28 + 1),\(Double(i) / 7)\n".utf8) }
    )

    func compress(_ codec: ParquetFormat.Codec, _ input: [UInt8] = input) throws -> [UInt8] {
        let compressor = PageCompressor(codec: codec)
        var out = RawBuffer()
        // Two pages through the same compressor: state is reset between pages.
        _ = try input.withUnsafeBytes { try compressor.compress($0, into: &out) }
        out.removeAll()
        let n = try input.withUnsafeBytes { try compressor.compress($0, into: &out) }
        #expect(n == out.count)
        return Array(out.bytes)
    }

    @Test func gzipPagesAreSingleGzipMembersWithAPlainHeader() throws {
        let page = try compress(.gzip)
        // ID1 ID2 CM=deflate FLG=0 (no name, comment, extra or header CRC): what DuckDB requires.
        #expect(Array(page.prefix(4)) == [0x1F, 0x8B, 0x08, 0x00])
        #expect(page.count < Self.input.count / 3)
        var stream = z_stream()
        #expect(inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        var output = [UInt8](repeating: 0, count: Self.input.count + 16)
        var input = page
        let status = input.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                return inflate(&stream, Z_FINISH)
            }
        }
        #expect(status == Z_STREAM_END)
        #expect(stream.avail_in == 0, "exactly one member, nothing after it")
        #expect(Array(output.prefix(Int(stream.total_out))) == Self.input)
        inflateEnd(&stream)
    }

    @Test func zstdPagesAreZstdFrames() throws {
        let page = try compress(.zstd)
        #expect(Array(page.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        var output = [UInt8](repeating: 0, count: Self.input.count + 16)
        let n = output.withUnsafeMutableBytes { dst in
            page.withUnsafeBytes { czstd_decompress(dst.baseAddress, dst.count, $0.baseAddress, $0.count) }
        }
        #expect(czstd_is_error(n) == 0)
        #expect(Array(output.prefix(n)) == Self.input)
    }

    @Test func snappyAndNoneRoundTrip() throws {
        #expect(try SnappyReferenceDecoder.decode(try compress(.snappy)) == Self.input)
        #expect(try compress(.none) == Self.input)
        #expect(try compress(.gzip, []).count > 0)
        #expect(try SnappyReferenceDecoder.decode(try compress(.snappy, [])) == [])
    }
}
