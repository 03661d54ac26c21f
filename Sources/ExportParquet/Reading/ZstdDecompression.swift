#if canImport(Glibc)
internal import Glibc
#endif

/// ZSTD page decompression through `libzstd.so.1`, loaded at run time on first use (no build-time
/// dependency on libzstd-dev). A missing library is an error naming it.
enum ZstdDecompression {
    private typealias Decompress = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeRawPointer?, Int) -> Int
    private typealias IsError = @convention(c) (Int) -> UInt32
    private typealias ErrorName = @convention(c) (Int) -> UnsafePointer<CChar>?

    private struct Functions: @unchecked Sendable {
        let decompress: Decompress
        let isError: IsError
        let errorName: ErrorName
    }

    private static let functions: Functions? = {
        guard let handle = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL),
            let d = dlsym(handle, "ZSTD_decompress"),
            let e = dlsym(handle, "ZSTD_isError"),
            let n = dlsym(handle, "ZSTD_getErrorName")
        else { return nil }
        return Functions(
            decompress: unsafeBitCast(d, to: Decompress.self),
            isError: unsafeBitCast(e, to: IsError.self),
            errorName: unsafeBitCast(n, to: ErrorName.self)
        )
    }()

    /// Expands one or more zstd frames in `input` into exactly `output`.
    static func decompress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(ParquetFormatError) {
        guard let f = functions else {
            throw ParquetFormatError("ZSTD pages need libzstd.so.1, which cannot be loaded (apt-get install libzstd1)")
        }
        let n = f.decompress(output.baseAddress, output.count, input.baseAddress, input.count)
        if f.isError(n) != 0 {
            let name = f.errorName(n).map { String(cString: $0) } ?? "unknown error"
            throw ParquetFormatError("the zstd data of a page is corrupt or truncated (\(name))")
        }
        guard n == output.count else {
            throw ParquetFormatError("zstd data expands to \(n) bytes where the page header says \(output.count)")
        }
    }
}
