public import ExportCore

#if canImport(Glibc)
internal import Glibc
#endif

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
    /// Threads that encode rows handed over together (``CSVEncoder/append(pieces:)``): 1 or 2.
    /// Default 2 when the machine has more than one core. The bytes are the same either way.
    public var threads: Int

    public init(compression: Compression = .none, chunkSize: Int = 1 << 20, threads: Int? = nil) {
        self.compression = compression
        self.chunkSize = chunkSize
        self.threads = min(2, max(1, threads ?? CSVFormat.coreCount))
    }

    /// Cores this process may run on (its CPU affinity).
    static var coreCount: Int { AvailableCores.count }

    public var fileExtension: String { compression == .gzip ? "csv.gz" : "csv" }
    public var formatName: String { "CSV" }
    public var codecName: String { compression == .gzip ? "gzip" : "none" }

    public func makeEncoder(for context: PartContext) -> CSVEncoder {
        CSVEncoder(schema: context.tableSchema, compression: compression, chunkSize: chunkSize, threads: threads)
    }
}
