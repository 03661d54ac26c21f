internal import CZstd

/// ZSTD page decompression through the shared run-time loader (`CZstd`: `libzstd.so.1`, loaded on
/// first use). A missing library is an error naming it.
enum ZstdDecompression {
    /// Expands the zstd frames in `input` into exactly `output`.
    static func decompress(
        _ input: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(ParquetFormatError) {
        if let reason = czstd_load_error() { throw ParquetFormatError(String(cString: reason)) }
        let n = czstd_decompress(output.baseAddress, output.count, input.baseAddress, input.count)
        if czstd_is_error(n) != 0 {
            let name = czstd_get_error_name(n).map { String(cString: $0) } ?? "unknown error"
            throw ParquetFormatError("the zstd data of a page is corrupt or truncated (\(name))")
        }
        guard n == output.count else {
            throw ParquetFormatError("zstd data expands to \(n) bytes where the page header says \(output.count)")
        }
    }
}
