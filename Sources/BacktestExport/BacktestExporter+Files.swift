import ExportCSV
public import ExportCore

extension TargetHistory {
    /// Reads a target time series CSV (`item_id`, the dimensions, `timestamp`, `target_value`) for
    /// MASE. `dimensions` are the forecast input's dimension columns, which the file must have.
    /// Holds every history point in memory (16 bytes a point plus one key per series).
    public init(csvFile path: String, dimensions: [String]) throws {
        var reader = try TargetCSVReader(path: path, expectedDimensions: dimensions)
        self.init()
        while let batch = try reader.nextBatch() { add(batch) }
    }
}

extension BacktestExporter {
    /// Exports a backtest CSV file (the `forecasted-values` layout, any row order), with MASE
    /// computed from `historyFile` when one is given (its frequency from the configuration's
    /// ``MetricsOptions/frequency``, or inferred from the history).
    ///
    /// The history's dimensions are checked against the input's header before anything is written.
    public func export(
        csvFile path: String,
        historyFile: String? = nil,
        progress: (ExportProgress) -> Void = { _ in }
    ) async throws -> ExportResult {
        var exporter = self
        if let historyFile {
            let dimensions = try BacktestCSVReader(path: path).schema.dimensions
            exporter.configuration.metrics.history = try TargetHistory(csvFile: historyFile, dimensions: dimensions)
        }
        return try await exporter.export(from: { try BacktestCSVReader(path: path) }, progress: progress)
    }
}
