public import ExportCore
public import ExportSinks
import NIOCore

/// Runs one whole backtest export: both tables, their parts, the markers and the manifest.
///
/// The order of writes is what makes an export safe to read while it runs:
/// 1. any `_SUCCESS` and `_manifest.json` of an earlier run under this destination are removed,
///    then `_CHECK` (empty) is written, proving the destination is writable;
/// 2. `forecasted-values` parts, each published only when complete;
/// 3. `accuracy-metrics-values` parts;
/// 4. `_manifest.json`, then `_SUCCESS`, last.
/// If anything fails, the parts already published are removed (best effort) and no `_SUCCESS`
/// is written.
///
/// Input order: rows are first streamed straight through, checking that they come in the
/// export's order (series byte-wise, window start, timestamp). At the first row out of order,
/// what was written is removed and the input is read again through a ``SeriesGrouper``
/// (in memory up to the budget, spilling sorted runs to disk past it). So `makeSource` may be
/// called twice. Ordered input therefore costs one pass and no copy.
public struct BacktestExporter<Sink: PartSink, Format: TableFormat>: Sendable {
    public let sink: Sink
    public let format: Format
    public var configuration: ExportConfiguration

    public init(sink: Sink, format: Format, configuration: ExportConfiguration) {
        self.sink = sink
        self.format = format
        self.configuration = configuration
    }

    /// Runs the export. `progress` is called as series are written.
    public func export<Source: ForecastSource>(
        from makeSource: () throws -> Source,
        progress: (ExportProgress) -> Void = { _ in }
    ) async throws -> ExportResult {
        var published: [PublishedPart] = []
        try configuration.validate()
        try format.validate()
        do {
            try await prepareDestination()
            do {
                let source = PrefetchingSource(source: ValidatedSource(try makeSource()))
                let verifying = !configuration.trustsInputOrder
                return try await run(SeriesFeeder(source: source, verifyingOrder: verifying), &published, progress)
            } catch is InputNotInExportOrder {
                await removeQuietly(published)
                published.removeAll()
                let grouper = SeriesGrouper(source: ValidatedSource(try makeSource()), options: configuration.grouping)
                var result = try await run(
                    SeriesFeeder(source: PrefetchingSource(source: grouper), verifyingOrder: false),
                    &published,
                    progress
                )
                result.inputWasInExportOrder = false
                result.spilledRunCount = grouper.spilledRunCount
                return result
            }
        } catch {
            await removeQuietly(published)
            throw ExportError.wrapping(error, as: .internal, "Export to '\(sink.destinationDescription)' failed")
        }
    }

    private func prepareDestination() async throws {
        do {
            try await sink.remove(named: "_SUCCESS")
            try await sink.remove(named: "_manifest.json")
            try await sink.put(ByteBuffer(), named: "_CHECK")
        } catch {
            throw ExportError.wrapping(error, as: .sink, "Cannot write to '\(sink.destinationDescription)'")
        }
    }

    private func run<Source>(
        _ feeder: SeriesFeeder<Source>,
        _ published: inout [PublishedPart],
        _ progress: (ExportProgress) -> Void
    ) async throws -> ExportResult {
        var feeder = feeder
        let schema = feeder.schema
        var metrics = MetricsAccumulator(schema: schema, options: configuration.metrics)
        var metricBatches: [MetricsBatch] = []
        var forecastRows = 0

        let forecastWriter = writer(for: .forecastedValues, schema: schema)
        try await forecastWriter.write(
            published: &published,
            nextSeries: { () -> [(batch: ForecastBatch, rows: Range<Int>)]? in
                guard let series = try feeder.nextSeries() else { return nil }
                for piece in series.pieces { try metrics.add(piece.batch, rows: piece.rows) }
                if let done = metrics.takeCompletedSeries() { metricBatches.append(done) }
                return series.pieces
            },
            progress: { rows, bytes in
                forecastRows = rows
                progress(ExportProgress(forecastRowsWritten: rows, bytesWritten: bytes))
            }
        )
        metricBatches.append(metrics.finish())

        var metricsRows = 0
        var batchIndex = 0
        var runs: [Range<Int>] = []
        var runIndex = 0
        try await writer(for: .accuracyMetricsValues, schema: schema).write(
            published: &published,
            nextSeries: { () -> [(batch: MetricsBatch, rows: Range<Int>)]? in
                while runIndex == runs.count {
                    guard batchIndex < metricBatches.count else { return nil }
                    runs = metricBatches[batchIndex].seriesRuns()
                    runIndex = 0
                    batchIndex += 1
                }
                defer { runIndex += 1 }
                return [(metricBatches[batchIndex - 1], runs[runIndex])]
            },
            progress: { rows, _ in metricsRows = rows }
        )

        let predictorMetrics = metrics.predictorMetrics
        let manifest = ExportManifest(
            configuration: configuration,
            schema: schema,
            formatName: format.formatName,
            codecName: format.codecName,
            parts: published,
            forecastRowCount: forecastRows,
            metricsRowCount: metricsRows,
            predictorMetrics: predictorMetrics
        )
        try await sink.put(ByteBuffer(string: manifest.json()), named: "_manifest.json")
        try await sink.put(ByteBuffer(), named: "_SUCCESS")
        return ExportResult(
            parts: published,
            forecastRowCount: forecastRows,
            metricsRowCount: metricsRows,
            inputWasInExportOrder: true,
            spilledRunCount: 0,
            predictorMetrics: predictorMetrics,
            predictorState: metrics.predictorState
        )
    }

    private func writer(for table: ExportTable, schema: ExportSchema) -> TablePartWriter<Sink, Format> {
        TablePartWriter(
            sink: sink,
            format: format,
            context: PartContext(
                jobName: configuration.jobName,
                timestamp: configuration.timestamp,
                schema: schema,
                table: table
            ),
            maxPartBytes: configuration.maxPartBytes,
            maxPartRows: configuration.maxPartRows
        )
    }

    private func removeQuietly(_ parts: [PublishedPart]) async {
        for part in parts { try? await sink.remove(named: part.key) }
    }
}
