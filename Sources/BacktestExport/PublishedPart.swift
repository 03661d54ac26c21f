public import ExportCore

/// A part file that was written completely and is visible under its final key.
public struct PublishedPart: Sendable, Equatable {
    public var table: ExportTable
    /// The key under the destination, e.g. `forecasted-values/Job_2024-01-01T00-00-00Z_part0.csv`.
    public var key: String
    public var rowCount: Int
    public var byteCount: Int
    /// Lower-case hex SHA-256 of the file's bytes.
    public var sha256: String

    public init(table: ExportTable, key: String, rowCount: Int, byteCount: Int, sha256: String) {
        self.table = table
        self.key = key
        self.rowCount = rowCount
        self.byteCount = byteCount
        self.sha256 = sha256
    }
}

/// What an export did, for the CLI's summary and `--json` output.
public struct ExportResult: Sendable {
    public var parts: [PublishedPart]
    public var forecastRowCount: Int
    public var metricsRowCount: Int
    public var byteCount: Int { parts.reduce(0) { $0 + $1.byteCount } }
    /// Whether the input already arrived in the export's order (no grouping pass was needed).
    public var inputWasInExportOrder: Bool
    /// Sorted runs the grouper spilled to disk.
    public var spilledRunCount: Int
    /// Accuracy with every series pooled, per window and over all windows.
    public var predictorMetrics: PredictorMetrics
    /// The sums behind ``predictorMetrics``, mergeable with another export's (a shard's).
    public var predictorState: PredictorMetricsState
}

/// Progress of a running export, reported after each part and every few batches.
public struct ExportProgress: Sendable {
    public var forecastRowsWritten: Int
    public var bytesWritten: Int
}
