import ExportCSV
public import ExportCore
import ExportParquet

/// The target time series (`--history`) of one or more files, read one after the other as
/// ``TargetBatch``es: CSV, plain or gzip (told by the first bytes). Every file must have the
/// forecast input's dimensions (``TargetCSVReader``). Parquet history files are refused with a
/// clear error for now (convert them to CSV).
public struct TargetInput {
    public let files: [InputFile]
    private let dimensions: [String]
    private var current: TargetCSVReader?
    private var nextFile = 0

    /// Checks nothing yet: files are opened as they are reached.
    public init(files: [InputFile], expectedDimensions: [String]) {
        self.files = files
        self.dimensions = expectedDimensions
    }

    /// The next rows; nil once every file is exhausted.
    public mutating func nextBatch() throws(ExportError) -> TargetBatch? {
        while true {
            if current == nil {
                guard nextFile < files.count else { return nil }
                let file = files[nextFile]
                nextFile += 1
                let source = try FileByteSource(path: file.path)
                let head = try source.peek(4)
                if file.kind == .parquet || head == ParquetReader.magic {
                    throw .input(
                        "Cannot read history file '\(file.path)': Parquet history files are not supported yet;"
                            + " write the history as CSV (item_id, dimensions, timestamp, target_value)"
                    )
                }
                let text: any InputByteSource = head.starts(with: [0x1F, 0x8B]) ? try GzipByteSource(source) : source
                current = try TargetCSVReader(source: text, expectedDimensions: dimensions)
            }
            if let batch = try current!.nextBatch() { return batch }
            current = nil
        }
    }
}
