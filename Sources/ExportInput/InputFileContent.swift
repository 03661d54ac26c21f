import ExportCSV
import ExportCore
import ExportParquet

#if canImport(Glibc)
import Glibc
#endif

/// One input file, opened and told apart: CSV text (plain, or gzip inflated as it is read) or
/// Parquet. Shared by the forecast (`--input`) and history (`--history`) inputs.
///
/// A file is Parquet when its name says so or it starts with `PAR1`; anything else is text, gzip
/// when it starts with gzip's magic. A Parquet stream that cannot be read at offsets (standard
/// input, a pipe, a FIFO) is first copied to a temporary file (``ParquetStreamSpool``).
enum InputFileContent {
    case text(any InputByteSource)
    case parquet(ParquetReader)

    /// Opens `file`; `temporaryDirectory` holds the copy of a Parquet stream while it is opened.
    static func open(_ file: InputFile, temporaryDirectory: String) throws(ExportError) -> InputFileContent {
        if file.kind == .parquet && !InputPaths.isPipe(file.path) {
            return .parquet(try ParquetReader(path: file.path))
        }
        let source = try FileByteSource(path: file.path)
        let head = try source.peek(4)
        if head == ParquetReader.magic {
            guard source.isRegularFile && file.kind != .standardInput else {
                return .parquet(try ParquetStreamSpool.reader(copying: source, temporaryDirectory: temporaryDirectory))
            }
            return .parquet(try ParquetReader(path: file.path))
        }
        return .text(head.starts(with: [0x1F, 0x8B]) ? try GzipByteSource(source) : source)
    }

    /// `$TMPDIR`, else `/tmp`: where a Parquet stream is copied when no folder is given.
    static var defaultTemporaryDirectory: String {
        getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }
}
