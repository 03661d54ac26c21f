import ExportCSV
public import ExportCore
import ExportParquet

#if canImport(Glibc)
import Glibc
#endif

/// The backtest forecasts of one or more files (``InputPaths``), read one after the other as a
/// single stream of ``ForecastBatch``es with one schema.
///
/// Each file is CSV (plain or gzip, told by its first bytes, so standard input may be either) or
/// Parquet (told by its name or its `PAR1` magic; from standard input or a pipe, copied to a
/// temporary file first: ``InputFileContent``). The first file is opened at once, so that a
/// missing column fails before anything is written; later files are opened when reached and must
/// have the same column names (any order) as the first. Files of zero bytes among several are
/// skipped (Spark writes them for empty partitions). Memory: one open file at a time.
public struct BacktestInput {
    public let files: [InputFile]
    public let schema: ExportSchema
    public let batchSize: Int
    /// The dimension columns the user declared (`--dimensions`); nil: detected from the header.
    public let declaredDimensions: [String]?
    /// The longest CSV record accepted (`--max-record-bytes`); nil: the reader's default.
    public let maxRecordBytes: Int?
    /// Where a Parquet stream (standard input, a pipe) is copied to be read (``ParquetStreamSpool``).
    public let temporaryDirectory: String
    private let reference: InputColumns
    private var current: FileReader?
    private var nextFile: Int
    /// Each file's size as it was when the input was opened (nil: not a regular file), their
    /// total (nil when one is not a regular file), and the size of the files done.
    private let fileSizes: [Int?]
    private let totalBytes: Int?
    private var bytesOfFinishedFiles = 0

    private enum FileReader {
        case csv(BacktestCSVReader)
        case parquet(ParquetForecastReader)

        mutating func nextBatch() throws(ExportError) -> ForecastBatch? {
            switch self {
            case .csv(var reader):
                defer { self = .csv(reader) }
                return try reader.nextBatch()
            case .parquet(var reader):
                defer { self = .parquet(reader) }
                return try reader.nextBatch()
            }
        }
    }

    /// Opens the first file of `files` and reads its header or footer.
    public init(
        files: [InputFile],
        dimensions: [String]? = nil,
        maxRecordBytes: Int? = nil,
        batchSize: Int = 65_536,
        temporaryDirectory: String? = nil
    ) throws(ExportError) {
        guard !files.isEmpty else { throw .validation("No input files") }
        self.files = files
        self.batchSize = batchSize
        self.temporaryDirectory = temporaryDirectory ?? InputFileContent.defaultTemporaryDirectory
        self.declaredDimensions = dimensions
        self.maxRecordBytes = maxRecordBytes
        var index = 0
        if files.count > 1 {
            while index < files.count - 1 && Self.isEmptyFile(files[index]) { index += 1 }
        }
        let first = try Self.open(
            files[index],
            matching: nil,
            dimensions: dimensions,
            maxRecordBytes: maxRecordBytes,
            batchSize: batchSize,
            temporaryDirectory: self.temporaryDirectory
        )
        switch first {
        case .csv(let reader): reference = reader.inputColumns
        case .parquet(let reader): reference = reader.inputColumns
        }
        schema = reference.schema
        current = first
        nextFile = index + 1
        fileSizes = files.map { $0.kind == .standardInput ? nil : Self.regularFileSize($0.path) }
        totalBytes = fileSizes.contains(nil) ? nil : fileSizes.reduce(0) { $0 + ($1 ?? 0) }
        bytesOfFinishedFiles = fileSizes[..<index].reduce(0) { $0 + ($1 ?? 0) }
    }

    private static func regularFileSize(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Bytes read of all the files together, where every file is a regular file (CSV read by
    /// byte; a Parquet or gzip file counts once it is finished).
    public var inputProgress: InputProgress? {
        guard let totalBytes else { return nil }
        var read = bytesOfFinishedFiles
        if case .csv(let reader) = current, let progress = reader.inputProgress { read += progress.bytesRead }
        return InputProgress(bytesRead: min(read, totalBytes), totalBytes: totalBytes)
    }

    /// Whether every file can be read again from its start (no standard input, pipe or FIFO).
    public var isReplayable: Bool { files.allSatisfy(\.isReplayable) }

    /// The next rows; nil once every file is exhausted.
    public mutating func nextBatch() throws(ExportError) -> ForecastBatch? {
        while true {
            if current == nil {
                while nextFile < files.count && files.count > 1 && Self.isEmptyFile(files[nextFile]) { nextFile += 1 }
                guard nextFile < files.count else { return nil }
                current = try Self.open(
                    files[nextFile],
                    matching: reference,
                    dimensions: declaredDimensions,
                    maxRecordBytes: maxRecordBytes,
                    batchSize: batchSize,
                    temporaryDirectory: temporaryDirectory
                )
                nextFile += 1
            }
            if let batch = try current!.nextBatch() { return batch }
            current = nil
            bytesOfFinishedFiles += fileSizes[nextFile - 1] ?? 0
        }
    }

    private static func isEmptyFile(_ file: InputFile) -> Bool {
        file.kind != .standardInput && regularFileSize(file.path) == 0
    }

    private static func open(
        _ file: InputFile,
        matching reference: InputColumns?,
        dimensions: [String]?,
        maxRecordBytes: Int?,
        batchSize: Int,
        temporaryDirectory: String
    ) throws(ExportError) -> FileReader {
        switch try InputFileContent.open(file, temporaryDirectory: temporaryDirectory) {
        case .parquet(let parquet):
            return .parquet(
                try ParquetForecastReader(
                    reader: parquet,
                    matching: reference,
                    dimensions: dimensions,
                    batchSize: batchSize
                )
            )
        case .text(let text):
            let reader = try BacktestCSVReader(
                source: text,
                matching: reference,
                dimensions: dimensions,
                batchSize: batchSize
            )
            if let maxRecordBytes { reader.maxRecordBytes = maxRecordBytes }
            return .csv(reader)
        }
    }
}
