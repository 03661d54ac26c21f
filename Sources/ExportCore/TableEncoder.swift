public import NIOCore

/// Turns batches of one table into the bytes of one part file. Synchronous and pure: no I/O.
///
/// The exporter makes one encoder per part, appends row ranges of batches, takes ready chunks
/// as they fill (to hand them to the sink while encoding goes on) and finishes the part.
public protocol TableEncoder {
    /// Bytes of this part so far, handed out or still buffered. For compressed formats an estimate
    /// good enough to decide when a part is full.
    var byteCount: Int { get }

    /// Appends `rows` of `batch`. The batch's columns must follow the table schema the encoder was
    /// made for.
    mutating func append<Batch: ColumnarBatch>(_ batch: Batch, rows: Range<Int>) throws(ExportError)

    /// A chunk of finished bytes, if one is ready; the exporter calls this after each append.
    mutating func takeReadyBytes() -> ByteBuffer?

    /// Ends the part and returns its remaining bytes (CSV: the rest of the rows; Parquet: the last
    /// row group and the footer). The encoder is spent afterwards.
    mutating func finish() throws(ExportError) -> ByteBuffer
}

/// What a part encoder needs to know besides the table's columns.
public struct PartContext: Sendable {
    public var jobName: JobName
    public var timestamp: ExportTimestamp
    public var schema: ExportSchema
    public var table: ExportTable

    public init(jobName: JobName, timestamp: ExportTimestamp, schema: ExportSchema, table: ExportTable) {
        self.jobName = jobName
        self.timestamp = timestamp
        self.schema = schema
        self.table = table
    }

    /// The columns of ``table``.
    public var tableSchema: TableSchema { schema.tableSchema(for: table) }
}

/// A file format with its options (CSV, gzip-compressed CSV, Parquet with a codec): it names the
/// files' extension and makes one encoder per part.
public protocol TableFormat: Sendable {
    associatedtype Encoder: TableEncoder
    /// `csv`, `csv.gz`, `parquet`.
    var fileExtension: String { get }
    /// `CSV` or `PARQUET`, as in the manifest.
    var formatName: String { get }
    /// `none`, `gzip`, `snappy`, `zstd`.
    var codecName: String { get }
    func makeEncoder(for context: PartContext) -> Encoder
    /// Checks the format's settings; the exporter calls it before it writes anything.
    /// Default: nothing to check.
    func validate() throws(ExportError)
}

extension TableFormat {
    public func validate() throws(ExportError) {}
}
