public import ExportCore

/// Parquet parts: one file per part, written by ``ParquetEncoder``.
///
/// Files are readable by pyarrow, DuckDB, polars, fastparquet and Spark: data pages v1, strings
/// dictionary-encoded, timestamps INT64 TIMESTAMP(MILLIS, UTC) dictionary-encoded too, doubles
/// OPTIONAL PLAIN; a string or timestamp chunk whose dictionary passes `dictionaryPageBytes` is PLAIN
/// as a whole. Chunk statistics with `column_orders`. The codec applies to every page of every column.
public struct ParquetFormat: TableFormat {
    /// The page codec.
    public enum Codec: String, Sendable, CaseIterable {
        /// UNCOMPRESSED.
        case none
        /// SNAPPY, raw block format (our own compressor): fast, modest ratio. The default.
        case snappy
        /// GZIP (zlib, one gzip member per page, level 6): smaller, much slower.
        case gzip
        /// ZSTD (libzstd, level 3): about gzip's ratio at a fraction of its cost.
        case zstd
    }

    /// Where row groups and pages end. A row group closes at `rowGroupRows` rows or once its buffered
    /// bytes reach `rowGroupBytes` (checked every `appendSliceRows` rows, so it may pass the byte
    /// limit by one slice); a page at `pageRows` rows or `pageBytes` bytes of values; a string or
    /// timestamp chunk falls back from dictionary to PLAIN when its dictionary page would pass
    /// `dictionaryPageBytes`.
    public struct Limits: Sendable, Equatable {
        public var rowGroupRows: Int
        public var rowGroupBytes: Int
        public var pageRows: Int
        public var pageBytes: Int
        public var dictionaryPageBytes: Int

        /// 262,144 rows (polars' default) or 128 MiB per row group (a row group is held in memory
        /// until it is complete; a row count, not bytes, ends it in practice, so that where row
        /// groups end does not depend on how rows were handed over); 20,000 rows or 1 MiB per
        /// page; 1 MiB dictionaries.
        /// Limits out of range are reported by ``validate()`` (the exporter and the encoder call it).
        public init(
            rowGroupRows: Int = 1 << 18,
            rowGroupBytes: Int = 128 << 20,
            pageRows: Int = 20_000,
            pageBytes: Int = 1 << 20,
            dictionaryPageBytes: Int = 1 << 20
        ) {
            self.rowGroupRows = rowGroupRows
            self.rowGroupBytes = rowGroupBytes
            self.pageRows = pageRows
            self.pageBytes = pageBytes
            self.dictionaryPageBytes = dictionaryPageBytes
        }

        /// Rows appended between two row-group byte checks.
        var appendSliceRows: Int { 1 << 16 }

        /// The largest page or dictionary page, in bytes: page sizes are 32-bit in the format, and
        /// compression may expand a page.
        public static let maxPageBytes = 1 << 29

        /// Checks that every limit is positive and that pages fit the format's 32-bit sizes and counts.
        ///
        /// - Throws: ``ExportError/Code/validation`` naming the limit.
        public func validate() throws(ExportError) {
            func check(_ name: String, _ value: Int, atMost limit: Int) throws(ExportError) {
                guard value > 0, value <= limit else {
                    throw .validation("The Parquet \(name) limit must be between 1 and \(limit), not \(value)")
                }
            }
            try check("row group rows", rowGroupRows, atMost: Int(Int32.max))
            try check("row group bytes", rowGroupBytes, atMost: Int.max / 2)
            try check("page rows", pageRows, atMost: Int(Int32.max) / 8)
            try check("page bytes", pageBytes, atMost: Self.maxPageBytes)
            try check("dictionary page bytes", dictionaryPageBytes, atMost: Self.maxPageBytes)
        }
    }

    public var codec: Codec
    public var limits: Limits

    /// Threads that encode a part's columns: 1 or 2. Default 2 when the process may run on more
    /// than one core. The bytes are the same either way.
    public var threads: Int

    public init(codec: Codec = .snappy, limits: Limits = Limits(), threads: Int? = nil) {
        self.codec = codec
        self.limits = limits
        self.threads = min(2, max(1, threads ?? AvailableCores.count))
    }

    public var fileExtension: String { "parquet" }
    public var formatName: String { "PARQUET" }
    public var codecName: String { codec.rawValue }

    public func validate() throws(ExportError) { try limits.validate() }

    public func makeEncoder(for context: PartContext) -> ParquetEncoder {
        ParquetEncoder(context: context, codec: codec, limits: limits, threads: threads)
    }
}
