public import ExportCore
public import ExportSinks
import NIOCore

/// Runs one shard of a sharded export: the rows of the shard's key range only, written as an
/// ordinary export into the shard's staging folder (`_staging/<job>_<ts>/shard-<K>/` below the
/// destination, never under final names), then its ``ShardManifest`` (`_shard.json`) last.
///
/// Re-running a shard replaces its staging folder: it is removed first. Rows outside the range
/// are dropped by a ``ShardFilterSource`` before the order check and the grouping, so each shard
/// sorts and encodes only its own rows (it still reads and parses the whole input).
public struct ShardExporter<Sink: StagingSink, Format: TableFormat>: Sendable {
    public let sink: Sink
    public let format: Format
    public let configuration: ExportConfiguration
    public let plan: ShardPlan
    public let shard: Int

    /// - Precondition: `configuration` has the plan's job name and timestamp; `shard` is in the plan.
    public init(sink: Sink, format: Format, configuration: ExportConfiguration, plan: ShardPlan, shard: Int) {
        precondition(configuration.jobName == plan.jobName && configuration.timestamp == plan.timestamp)
        precondition((0..<plan.shardCount).contains(shard))
        self.sink = sink
        self.format = format
        self.configuration = configuration
        self.plan = plan
        self.shard = shard
    }

    /// Exports the shard; returns the export of its rows (keys relative to the staging folder)
    /// and the manifest written.
    public func export<Source: ForecastSource>(
        from makeSource: () throws -> Source,
        progress: (ExportProgress) -> Void = { _ in }
    ) async throws -> (result: ExportResult, manifest: ShardManifest) {
        let prefix = plan.stagingPrefix(ofShard: shard)
        do {
            try await sink.removeAll(under: prefix)
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError.sink("Cannot clear the staging folder '\(prefix)' of shard \(shard): \(error)")
        }
        let staging = PrefixedSink(base: sink, prefix: prefix)
        let exporter = BacktestExporter(sink: staging, format: format, configuration: configuration)
        let range = plan.range(ofShard: shard)
        var schema: ExportSchema?
        let result = try await exporter.export(
            from: {
                let source = ShardFilterSource(base: try makeSource(), range: range)
                schema = source.schema
                return source
            },
            progress: progress
        )
        let manifest = ShardManifest(
            plan: plan,
            shard: shard,
            formatName: format.formatName,
            codecName: format.codecName,
            schema: schema!,
            parts: result.parts,
            forecastRowCount: result.forecastRowCount,
            metricsRowCount: result.metricsRowCount,
            metricSums: result.predictorState
        )
        try await staging.put(ByteBuffer(string: manifest.json()), named: ShardManifest.fileName)
        return (result, manifest)
    }
}
