import ExportCSV
public import ExportCore
import ExportParquet

/// The target time series (`--history`) of one or more files (``InputPaths``), read one after the
/// other as ``TargetBatch``es: the same sources as the forecast input (``InputFileContent``): CSV,
/// plain or gzip (told by the first bytes), or Parquet (told by its name or its `PAR1` magic; from
/// standard input or a pipe, copied to a temporary file first). Every file must have the forecast
/// input's dimensions (``TargetCSVReader``, ``ParquetTargetReader``). Memory: one open file at a
/// time.
public struct TargetInput {
    public let files: [InputFile]
    /// Where a Parquet stream (standard input, a pipe) is copied to be read.
    public let temporaryDirectory: String
    private let dimensions: [String]
    /// The file being read, as CSV or as Parquet (at most one of the two is set).
    private var csvReader: TargetCSVReader?
    private var parquetReader: ParquetTargetReader?
    private var nextFile = 0

    /// Checks nothing yet: files are opened as they are reached.
    public init(files: [InputFile], expectedDimensions: [String], temporaryDirectory: String? = nil) {
        self.files = files
        self.dimensions = expectedDimensions
        self.temporaryDirectory = temporaryDirectory ?? InputFileContent.defaultTemporaryDirectory
    }

    /// The next rows; nil once every file is exhausted.
    public mutating func nextBatch() throws(ExportError) -> TargetBatch? {
        while true {
            if let batch = try csvReader?.nextBatch() { return batch }
            if let batch = try parquetReader?.nextBatch() { return batch }
            csvReader = nil
            parquetReader = nil
            guard nextFile < files.count else { return nil }
            let file = files[nextFile]
            nextFile += 1
            switch try InputFileContent.open(file, temporaryDirectory: temporaryDirectory) {
            case .parquet(let reader):
                parquetReader = try ParquetTargetReader(reader: reader, expectedDimensions: dimensions)
            case .text(let text):
                csvReader = try TargetCSVReader(source: text, expectedDimensions: dimensions)
            }
        }
    }
}
