import ExportCSV
import ExportCore
import ExportParquet
import ExportSinks

#if canImport(Glibc)
import Glibc
#endif

/// Parquet from a pipe or standard input, made readable: Parquet is read at offsets (its footer is
/// at the end), so the stream is first copied to a temporary file, which is opened and removed at
/// once (the open reader keeps its bytes until it is closed).
///
/// The copy is `<temporary directory>/backtest-export-<pid>-<hex>/standard-input.parquet`: the
/// name of a spill folder, so that a run killed while copying leaves nothing a later run does not
/// remove (``TemporaryFiles/removeStaleFolders(in:)``); both the folder and the file are
/// registered for removal when the process ends on a signal (``TemporaryFiles/removeAll()``).
/// Cost: one pass over the stream in 1 MiB blocks (memory does not grow with the input), and
/// the stream's size in disk space while the reader is open.
enum ParquetStreamSpool {
    /// The block the stream is copied in.
    static let blockSize = 1 << 20

    /// Copies what is left of `source` (from its first byte, peeked bytes included) to a temporary
    /// file in `temporaryDirectory`, opens it as Parquet, and removes the file. Errors name
    /// `source`'s name (`-` for standard input): a truncated stream is an input error like a
    /// truncated file; a temporary file that cannot be written is a sink error naming the folder.
    static func reader(copying source: FileByteSource, temporaryDirectory: String) throws(ExportError) -> ParquetReader
    {
        guard let (folder, folderToken) = TemporaryFiles.makeFolder(in: temporaryDirectory) else {
            throw .sink(
                "Cannot make a temporary folder in '\(temporaryDirectory)' to hold the Parquet stream '\(source.name)':"
                    + " \(String(cString: strerror(errno))) (set --temp-dir)"
            )
        }
        defer {
            TemporaryFiles.removeFolder(folder, token: folderToken)
        }
        let path = folder + "/standard-input.parquet"
        let fileToken = TemporaryFiles.register(path)
        defer {
            unlink(path)
            TemporaryFiles.unregister(fileToken)
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw .sink(
                "Cannot create '\(path)' to hold the Parquet stream '\(source.name)': \(String(cString: strerror(errno)))"
            )
        }
        do throws(ExportError) {
            try copy(source, to: fd, path: path)
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else {
            throw .sink(
                "Cannot write '\(path)' (the Parquet stream '\(source.name)'): \(String(cString: strerror(errno)))"
            )
        }
        return try ParquetReader(path: path, name: source.name)
    }

    private static func copy(_ source: FileByteSource, to fd: Int32, path: String) throws(ExportError) {
        let block = UnsafeMutableRawPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { block.deallocate() }
        while true {
            let n = try source.read(into: block, count: blockSize)
            if n == 0 { return }
            var written = 0
            while written < n {
                let w = write(fd, block + written, n - written)
                if w < 0 {
                    if errno == EINTR { continue }
                    throw .sink(
                        "Cannot write '\(path)' (the Parquet stream '\(source.name)'): \(String(cString: strerror(errno)))"
                    )
                }
                written += w
            }
        }
    }
}
