public import CZlib
public import ExportCore

/// The project's one zlib setup: a `z_stream` at a stable address (zlib keeps pointers into it),
/// initialised with the parameters of one of the few ways the project uses zlib, and ended and
/// freed with its owner. The CSV gzip writer and reader and the Parquet GZIP pages all get their
/// streams here; they drive ``stream`` with `deflate`/`inflate` themselves.
///
/// Memory: zlib's state, ~256 KiB for deflate at memLevel 8, ~44 KiB for inflate. Not thread-safe.
public final class ZlibStream {
    /// What the stream does, and so its zlib parameters.
    public enum Kind: Sendable, Equatable {
        /// Deflate into one gzip member (RFC 1952, the minimal 10-byte header: no name, no extra
        /// fields), at `level` 0…9, memLevel 8, the default strategy.
        case gzipDeflate(level: Int32)
        /// Inflate gzip members (header, CRC-32 and length trailer checked by zlib).
        case gzipInflate
        /// Inflate a gzip member or a zlib stream, told by its header.
        case gzipOrZlibInflate

        /// zlib's `windowBits`: a 32 KiB window (15), plus 16 for a gzip wrapper or 32 to detect it.
        var windowBits: Int32 {
            switch self {
            case .gzipDeflate, .gzipInflate: 15 + 16
            case .gzipOrZlibInflate: 15 + 32
            }
        }

        var deflates: Bool {
            if case .gzipDeflate = self { return true }
            return false
        }
    }

    public let kind: Kind
    /// The stream, valid as long as this object lives.
    public let stream: UnsafeMutablePointer<z_stream>

    /// Allocates and initialises the stream. Throws only when zlib refuses (out of memory, or a
    /// zlib whose version does not match the header's).
    public init(_ kind: Kind) throws(ExportError) {
        self.kind = kind
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let size = Int32(MemoryLayout<z_stream>.size)
        let status: Int32
        let call: String
        switch kind {
        case .gzipDeflate(let level):
            call = "deflateInit2"
            status = deflateInit2_(
                stream,
                level,
                Z_DEFLATED,
                kind.windowBits,
                8,
                Z_DEFAULT_STRATEGY,
                zlibVersion(),
                size
            )
        case .gzipInflate, .gzipOrZlibInflate:
            call = "inflateInit2"
            status = inflateInit2_(stream, kind.windowBits, zlibVersion(), size)
        }
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw .internal("zlib \(call) failed with status \(status)")
        }
    }

    deinit {
        if kind.deflates { deflateEnd(stream) } else { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Starts a new member (or stream) with the same parameters, keeping the allocated state.
    /// Returns false if zlib refuses (a corrupted stream state).
    public func reset() -> Bool {
        (kind.deflates ? deflateReset(stream) : inflateReset(stream)) == Z_OK
    }
}
