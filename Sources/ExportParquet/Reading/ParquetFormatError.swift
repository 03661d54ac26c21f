/// A structural problem found while decoding a Parquet file: bad thrift, a size or offset out of
/// bounds, corrupt compressed data, or a feature the reader does not handle. The reader turns it
/// into an input error that names the file and, where it applies, the row group and column.
struct ParquetFormatError: Error {
    let message: String

    init(_ message: String) { self.message = message }
}
