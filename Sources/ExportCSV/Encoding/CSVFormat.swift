public import ExportCore

/// CSV parts, plain (`.csv`) or gzip-compressed (`.csv.gz`): one ``CSVEncoder`` per part.
public struct CSVFormat: TableFormat {
    /// Whether parts are compressed.
    public enum Compression: Sendable, Equatable {
        /// Plain `.csv`.
        case none
        /// One gzip member per part, `.csv.gz`, zlib level ``GzipDeflater/defaultLevel``.
        case gzip
    }

    public var compression: Compression
    /// The size of the chunks the encoders hand to the sink.
    public var chunkSize: Int

    public init(compression: Compression = .none, chunkSize: Int = 1 << 20) {
        self.compression = compression
        self.chunkSize = chunkSize
    }

    public var fileExtension: String { compression == .gzip ? "csv.gz" : "csv" }
    public var formatName: String { "CSV" }
    public var codecName: String { compression == .gzip ? "gzip" : "none" }

    public func makeEncoder(for context: PartContext) -> CSVEncoder {
        CSVEncoder(schema: context.tableSchema, compression: compression, chunkSize: chunkSize)
    }
}
