internal import CZlib
internal import ExportZlib

/// Expands compressed page bodies for one column chunk's codec: UNCOMPRESSED, SNAPPY (our own
/// ``SnappyDecompressor``), GZIP (zlib; a gzip member or a zlib stream) and ZSTD (libzstd, loaded at
/// run time). Other codecs (LZO, BROTLI, LZ4) are refused by name.
///
/// The output size is the page header's `uncompressed_page_size`; data that expands to any other
/// size is an error. Keeps one zlib stream across pages. Not thread-safe; one per column cursor.
final class PageDecompressor {
    let codec: Int32
    private var zlib: ZlibStream?

    /// Codec names as `CompressionCodec` numbers them.
    static func name(of codec: Int32) -> String {
        switch codec {
        case 0: "UNCOMPRESSED"
        case 1: "SNAPPY"
        case 2: "GZIP"
        case 3: "LZO"
        case 4: "BROTLI"
        case 5: "LZ4"
        case 6: "ZSTD"
        case 7: "LZ4_RAW"
        default: "codec \(codec)"
        }
    }

    /// Throws for a codec this reader does not decode.
    init(codec: Int32) throws(ParquetFormatError) {
        guard [0, 1, 2, 6].contains(codec) else {
            throw ParquetFormatError(
                "compression codec \(Self.name(of: codec)) is not supported (use SNAPPY, GZIP, ZSTD or none)"
            )
        }
        self.codec = codec
    }

    /// Expands `input` into all of `output`.
    func decompress(
        _ input: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(ParquetFormatError) {
        switch codec {
        case 0:
            guard input.count == output.count else {
                throw ParquetFormatError(
                    "an uncompressed page has \(input.count) bytes where its header says \(output.count)"
                )
            }
            if input.count > 0 { output.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: input.count) }
        case 1:
            try SnappyDecompressor.decompress(input, into: output)
        case 2:
            try inflate(input, into: output)
        default:
            try ZstdDecompression.decompress(input, into: output)
        }
    }

    private func inflate(
        _ input: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(ParquetFormatError) {
        let stream: UnsafeMutablePointer<z_stream>
        if let zlib {
            stream = zlib.stream
            guard zlib.reset() else { throw ParquetFormatError("zlib inflateReset failed") }
        } else {
            let zlib: ZlibStream
            do { zlib = try ZlibStream(.gzipOrZlibInflate) } catch { throw ParquetFormatError("\(error)") }
            self.zlib = zlib
            stream = zlib.stream
        }
        var scratch: UInt8 = 0
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self)
        )
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out =
            output.baseAddress?.assumingMemoryBound(to: Bytef.self) ?? withUnsafeMutablePointer(to: &scratch) { $0 }
        stream.pointee.avail_out = uInt(output.count)
        let status = CZlib.inflate(stream, Z_FINISH)
        guard status == Z_STREAM_END, stream.pointee.avail_out == 0 else {
            let produced = output.count - Int(stream.pointee.avail_out)
            throw ParquetFormatError(
                status == Z_STREAM_END
                    ? "gzip data expands to \(produced) bytes where the page header says \(output.count)"
                    : "the gzip data of a page is corrupt or truncated (zlib status \(status))"
            )
        }
    }
}
