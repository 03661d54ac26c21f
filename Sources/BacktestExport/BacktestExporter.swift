public import ExportCore
public import ExportSinks
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs one whole backtest export: both tables, their parts, the markers and the manifest.
///
/// The order of writes is what makes an export safe to read while it runs:
/// 0. the destination's exclusive lock is taken (``PartSink/withExclusiveLock(holder:_:)``), so a
///    second export into the same destination fails at once with a message naming this one;
/// 1. the parts already there are listed: parts of another job name or timestamp are handled by
///    ``ExportConfiguration/ifExists`` (`error`: stop before writing anything; `overwrite`:
///    remove `_SUCCESS` and `_manifest.json`, then those parts; `append`: keep them); `_CHECK`
///    (empty) is written, proving the destination is writable;
/// 2. `forecasted-values` parts, each published only when complete; when parts of this job name
///    and timestamp were there (a re-run), `_SUCCESS` and `_manifest.json` are removed just before
///    the first is published (a run that fails before, on bad input, changes nothing); otherwise
///    they can only be another export's, which stay until step 4 writes this run's over them;
/// 3. `accuracy-metrics-values` parts;
/// 4. parts of this job name and timestamp that this run did not write (an earlier run's) are
///    removed, then `_manifest.json`, then `_SUCCESS`, last. If `_SUCCESS` cannot be written, the
///    manifest is removed again.
/// If anything fails, the files this run wrote are removed (best effort), never another's, and
/// no `_SUCCESS` is written. So when `_SUCCESS` exists, the folders hold exactly the parts the
/// manifest lists for this job name and timestamp (plus, with `append`, other exports' parts).
///
/// Input order: any. Rows are read once, through a ``SeriesGrouper`` that puts them in the
/// export's order (a radix sort in memory up to the budget; sorted runs on disk and a bounded
/// merge past it) and refuses duplicate (series, window, timestamp) rows before anything is
/// published. `makeSource` is called once.
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
        from makeSource: () throws -> sending Source,
        progress: (ExportProgress) -> Void = { _ in }
    ) async throws -> ExportResult {
        do {
            return try await sink.withExclusiveLock(holder: lockHolderDescription()) {
                try await exportHoldingLock(from: makeSource, progress: progress)
            }
        } catch {
            throw ExportError.wrapping(error, as: .sink, "Export to '\(sink.destinationDescription)' failed")
        }
    }

    private func exportHoldingLock<Source: ForecastSource>(
        from makeSource: () throws -> sending Source,
        progress: (ExportProgress) -> Void
    ) async throws -> ExportResult {
        var published: [PublishedPart] = []
        try configuration.validate()
        try format.validate()
        var grouped: PrefetchingSource<SeriesGrouper<ValidatedSource<Source>>>?
        do {
            try await removeLeftoversOfEarlierRuns()
            let markers = try await prepareDestination()
            if configuration.trustsInputOrder {
                let source = PrefetchingSource(source: ValidatedSource(try makeSource()))
                return try await run(
                    SeriesFeeder(source: source, verifyingOrder: false),
                    &published,
                    progress,
                    markers: markers
                )
            }
            // Reading, parsing and ordering (or merging runs) run on a thread of their own, beside
            // encoding; the grouper comes back at the end for its statistics.
            let gate = PublishGate()
            let grouper = SeriesGrouper(
                source: ValidatedSource(try makeSource()),
                options: configuration.grouping,
                publishGate: gate
            )
            let sorted = PrefetchingSource(source: grouper, depth: 2)
            grouped = sorted
            var result = try await run(
                SeriesFeeder(source: sorted, verifyingOrder: false),
                &published,
                progress,
                markers: markers,
                publishGate: gate
            )
            let finished = await sorted.finishedSource()
            result.inputWasInExportOrder = finished?.inputWasInExportOrder ?? false
            result.spilledRunCount = finished?.spilledRunCount ?? 0
            return result
        } catch {
            // The grouper stops and removes its runs before this returns (and the CLI exits).
            await grouped?.stop()
            await removeQuietly(published)
            // Cancellation stays cancellation (a foreign error seen while cancelled is one too): the
            // caller tells a stopped run from a failed one.
            let cause = Task.isCancelled && !(error is ExportError) ? CancellationError() : error
            throw ExportError.wrapping(cause, as: .internal, "Export to '\(sink.destinationDescription)' failed")
        }
    }

    /// Removes what killed runs of this job left behind: temporary parts (and, on S3, open
    /// multipart uploads) in the destination, and spill folders of dead processes in the
    /// temporary directory.
    private func removeLeftoversOfEarlierRuns() async throws {
        try await sink.removeLeftovers(ofJob: configuration.jobName.rawValue)
        try await TemporaryFiles.removeStaleFolders(in: configuration.grouping.temporaryDirectory)
    }

    /// Step 1: applies ``ExportConfiguration/ifExists`` to other exports' parts (with `.overwrite`,
    /// the markers first), writes `_CHECK`, and returns when the markers of an earlier run go (see
    /// ``MarkerRemoval``). With `.error` and another export present, throws an `ALREADY_EXISTS`
    /// error (exit status 2, SPEC §2) before anything is written.
    private func prepareDestination() async throws -> MarkerRemoval {
        do {
            let existing = try await existingParts()
            let foreign = existing.filter { !isOwnPart($0) }
            if !foreign.isEmpty && configuration.ifExists == .error {
                let shown = foreign.sorted().prefix(3).joined(separator: ", ")
                throw ExportError(
                    .alreadyExists,
                    "The destination '\(sink.destinationDescription)' already holds another export's parts"
                        + " (\(foreign.count): \(shown)\(foreign.count > 3 ? ", …" : "")): nothing was written."
                        + " Use --if-exists overwrite to remove them first, or --if-exists append to keep them"
                        + " next to this export (as Amazon Forecast does)"
                )
            }
            let markers = MarkerRemoval()
            if !foreign.isEmpty && configuration.ifExists == .overwrite {
                // The markers go before the parts they may list: a run killed in between must not
                // leave a _SUCCESS that vouches for removed parts.
                try await markers.removeNow(from: sink)
                for key in foreign { try await sink.remove(named: key) }
            } else if existing.count > foreign.count {
                // A re-run: the markers may list parts this run replaces; they go just before its
                // first part is published (a run that fails earlier, on bad input, changes nothing).
                markers.removeBeforeFirstPublish()
            }
            // Otherwise they can only be another export's, next to which this one appends (or
            // stray): they stay until this run publishes its own over them.
            try await sink.put(ByteBuffer(), named: "_CHECK")
            return markers
        } catch {
            throw ExportError.wrapping(error, as: .sink, "Cannot write to '\(sink.destinationDescription)'")
        }
    }

    /// Every part file in both table folders: files whose names parse as part names with a part's
    /// extension (the standard ones and this format's; not `…_part0.csv.sha256`).
    private func existingParts() async throws -> [String] {
        var keys: [String] = []
        let extensions = partExtensions
        for table in ExportTable.allCases {
            for key in try await sink.list(prefix: table.folderName + "/") {
                let name = key.dropFirst(table.folderName.count + 1)
                guard !name.contains("/"), PartName.part(named: String(name), fileExtensions: extensions) != nil
                else { continue }
                keys.append(key)
            }
        }
        return keys
    }

    /// Whether `key` (a part's) belongs to this job name and timestamp.
    private func isOwnPart(_ key: String) -> Bool {
        guard let slash = key.lastIndex(of: "/"),
            let name = PartName.part(named: String(key[key.index(after: slash)...]), fileExtensions: partExtensions)
        else { return false }
        return name.jobName == configuration.jobName && name.timestamp == configuration.timestamp
    }

    /// The extensions a part in the destination may have: the standard ones and this format's.
    private var partExtensions: Set<String> { PartName.standardFileExtensions.union([format.fileExtension]) }

    /// Step 4: removes the parts of this job and timestamp that this run did not write, then
    /// writes the manifest and `_SUCCESS`; removes the manifest again if `_SUCCESS` fails.
    private func publish(manifest: ExportManifest, parts: [PublishedPart], markers: MarkerRemoval) async throws {
        try await markers.removeIfPending(from: sink)
        let written = Set(parts.map(\.key))
        for key in try await existingParts() where isOwnPart(key) && !written.contains(key) {
            try await sink.remove(named: key)
        }
        try await sink.put(ByteBuffer(string: manifest.json()), named: "_manifest.json")
        do {
            try await sink.put(ByteBuffer(), named: "_SUCCESS")
        } catch {
            try? await sink.remove(named: "_manifest.json")
            throw error
        }
    }

    /// Who holds the lock, for the message another run gets: job, timestamp, process, host, start.
    private func lockHolderDescription() -> String {
        let hostName = TemporaryFiles.hostName
        let started = ExportTimestamp(epochSeconds: Int64(time(nil))).iso8601
        return "export job \(configuration.jobName.rawValue) (timestamp \(configuration.timestamp.iso8601)),"
            + " process \(getpid()) on \(hostName), started \(started)"
    }

    private func run<Source>(
        _ feeder: SeriesFeeder<Source>,
        _ published: inout [PublishedPart],
        _ progress: (ExportProgress) -> Void,
        markers: MarkerRemoval,
        publishGate: PublishGate? = nil
    ) async throws -> ExportResult {
        var feeder = feeder
        let schema = feeder.schema
        var metrics = MetricsAccumulator(schema: schema, options: configuration.metrics)
        // The metrics rows wait here, in bounded memory, until the forecast table is written.
        let metricRows = MetricsSpool(
            metricCount: schema.metricNames.count,
            temporaryDirectory: configuration.grouping.temporaryDirectory,
            memoryLimit: min(16 << 20, max(1 << 20, configuration.grouping.memoryLimit / 4))
        )
        var forecastRows = 0

        // The metrics are accumulated beside the encoder, on the blocking-work pool.
        var background = BackgroundMetrics(metrics: metrics, spool: metricRows)
        let forecastWriter = writer(for: .forecastedValues, schema: schema, markers: markers, publishGate: publishGate)
        try await forecastWriter.write(
            published: &published,
            nextSeries: { () -> [(batch: ForecastBatch, rows: Range<Int>)]? in
                guard let series = try await feeder.nextSeries() else { return nil }
                try await background.add(series: series.pieces)
                return series.pieces
            },
            progress: { rows, bytes in
                forecastRows = rows
                progress(ExportProgress(forecastRowsWritten: rows, bytesWritten: bytes))
            }
        )
        metrics = try await background.finish()
        try metricRows.append(metrics.finish())
        try metricRows.finishAppending()

        var metricsRows = 0
        var metricBatch: MetricsBatch?
        var runs: [Range<Int>] = []
        var runIndex = 0
        try await writer(for: .accuracyMetricsValues, schema: schema, markers: markers, publishGate: publishGate).write(
            published: &published,
            nextSeries: { () -> [(batch: MetricsBatch, rows: Range<Int>)]? in
                while runIndex == runs.count {
                    guard let next = try metricRows.next() else { return nil }
                    metricBatch = next
                    runs = next.seriesRuns()
                    runIndex = 0
                }
                defer { runIndex += 1 }
                return [(metricBatch!, runs[runIndex])]
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
        try await publish(manifest: manifest, parts: published, markers: markers)
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

    private func writer(
        for table: ExportTable,
        schema: ExportSchema,
        markers: MarkerRemoval,
        publishGate: PublishGate?
    ) -> TablePartWriter<Sink, Format> {
        var writer = TablePartWriter(
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
        writer.publishGate = publishGate
        let sink = self.sink
        writer.beforePublishing = { try await markers.removeIfPending(from: sink) }
        return writer
    }

    /// Removes `parts`, ignoring failures; runs to its end even when the task is cancelled (in a
    /// task of its own, which does not inherit the cancellation).
    private func removeQuietly(_ parts: [PublishedPart]) async {
        guard !parts.isEmpty else { return }
        let sink = self.sink
        await Task { for part in parts { try? await sink.remove(named: part.key) } }.value
    }
}
