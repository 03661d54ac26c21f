import CZlib
import CZstd
import ExportCore
import ExportZlib

/// Compresses page bodies with one Parquet codec, keeping the codec's state (snappy hash table, zlib
/// stream, zstd context) across pages so that a page costs no setup allocation.
///
/// - SNAPPY: ``SnappyCompressor`` (raw block format).
/// - GZIP: one RFC 1952 member per page (``ZlibStream`` `.gzipDeflate`: a plain 10-byte header, no
///   file name), which every reader accepts (parquet.md §6.1).
/// - ZSTD: one zstd frame per page (`ZSTD_compressCCtx`).
/// Not thread-safe; one per encoder.
final class PageCompressor {
    let codec: ParquetFormat.Codec
    private let snappy = SnappyCompressor()
    private var zlib: ZlibStream?
    private var zstdContext: UnsafeMutableRawPointer?
    private let gzipLevel: Int32
    private let zstdLevel: Int32

    init(codec: ParquetFormat.Codec, gzipLevel: Int32 = 6, zstdLevel: Int32 = 3) {
        self.codec = codec
        self.gzipLevel = gzipLevel
        self.zstdLevel = zstdLevel
    }

    deinit {
        if let zstdContext { czstd_free_cctx(zstdContext) }
    }

    /// The `CompressionCodec` written in the column metadata.
    var thriftCodec: CompressionCodec {
        switch codec {
        case .none: .uncompressed
        case .snappy: .snappy
        case .gzip: .gzip
        case .zstd: .zstd
        }
    }

    /// Appends the compressed form of `body` to `out` and returns its size. For `.none` it copies.
    func compress(_ body: UnsafeRawBufferPointer, into out: inout RawBuffer) throws(ExportError) -> Int {
        switch codec {
        case .none:
            out.append(body)
            return body.count
        case .snappy:
            let p = out.reserve(SnappyCompressor.maxCompressedLength(body.count))
            let n = snappy.compress(body, into: p)
            out.commit(n)
            return n
        case .gzip:
            return try gzip(body, into: &out)
        case .zstd:
            return try zstd(body, into: &out)
        }
    }

    private func gzip(_ body: UnsafeRawBufferPointer, into out: inout RawBuffer) throws(ExportError) -> Int {
        let stream: UnsafeMutablePointer<z_stream>
        if let zlib {
            stream = zlib.stream
            guard zlib.reset() else { throw .internal("zlib deflateReset failed") }
        } else {
            let zlib = try ZlibStream(.gzipDeflate(level: gzipLevel))
            self.zlib = zlib
            stream = zlib.stream
        }
        let bound = Int(deflateBound(stream, UInt(body.count)))
        let p = out.reserve(bound)
        stream.pointee.next_in = UnsafeMutablePointer(
            mutating: body.baseAddress?.assumingMemoryBound(to: Bytef.self)
        )
        stream.pointee.avail_in = uInt(body.count)
        stream.pointee.next_out = p.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(bound)
        let status = deflate(stream, Z_FINISH)
        guard status == Z_STREAM_END else {
            throw .internal("zlib deflate did not finish a \(body.count)-byte page (status \(status))")
        }
        let n = bound - Int(stream.pointee.avail_out)
        out.commit(n)
        return n
    }

    private func zstd(_ body: UnsafeRawBufferPointer, into out: inout RawBuffer) throws(ExportError) -> Int {
        let context: UnsafeMutableRawPointer
        if let zstdContext {
            context = zstdContext
        } else {
            try Self.requireZstd()
            guard let created = czstd_create_cctx() else { throw .internal("ZSTD_createCCtx failed") }
            context = created
            zstdContext = created
        }
        let bound = czstd_compress_bound(body.count)
        let p = out.reserve(bound)
        let n = czstd_compress_cctx(context, p, bound, body.baseAddress, body.count, zstdLevel)
        if czstd_is_error(n) != 0 {
            throw .internal("zstd compression failed: \(String(cString: czstd_get_error_name(n)))")
        }
        out.commit(n)
        return n
    }

    /// Throws, naming the missing library, when zstd cannot be loaded at run time (`libzstd.so.1`).
    static func requireZstd() throws(ExportError) {
        if let message = czstd_load_error() { throw .validation(String(cString: message)) }
    }
}
