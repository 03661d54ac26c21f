public import ExportCore
public import ExportSinks
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs one shard of a sharded export: the rows of the shard's key range only, written as an
/// ordinary export into the shard's staging folder (`_staging/<job>_<ts>/shard-<K>/` below the
/// destination, never under final names), then its ``ShardManifest`` (`_shard.json`) last.
///
/// Re-running a shard replaces its staging folder: its old manifest is removed first, then the
/// rest (all under the staging folder's lock, which a running shard holds). Rows outside the range
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
    ///
    /// Holds the staging folder's lock (``StagingSink/withExclusiveLock(under:holder:_:)``) from
    /// start to end, so that `commit` refuses while this shard runs, and this shard refuses to
    /// start while a commit (or another run of the same shard) holds it. Inside the lock the old
    /// shard manifest is removed first, before any other file, so an interrupted re-run never
    /// leaves an old manifest next to a mix of old and new parts.
    /// - Throws: ``ExportError/Code/sink`` naming the holder when the staging folder is locked.
    public func export<Source: ForecastSource>(
        from makeSource: () throws -> Source,
        progress: (ExportProgress) -> Void = { _ in }
    ) async throws -> (result: ExportResult, manifest: ShardManifest) {
        let prefix = plan.stagingPrefix(ofShard: shard)
        var started = false
        do {
            return try await sink.withExclusiveLock(under: prefix, holder: lockHolderDescription()) {
                started = true
                return try await exportHoldingLock(prefix: prefix, from: makeSource, progress: progress)
            }
        } catch let error as ExportError where !started {
            throw ExportError(
                error.code,
                "Shard \(shard) of \(plan.jobName) cannot start: its staging folder '\(prefix)' is in use "
                    + "(a commit or another run of shard \(shard)). \(error.message)"
            )
        }
    }

    private func exportHoldingLock<Source: ForecastSource>(
        prefix: String,
        from makeSource: () throws -> Source,
        progress: (ExportProgress) -> Void
    ) async throws -> (result: ExportResult, manifest: ShardManifest) {
        do {
            try await clearStaging(prefix: prefix)
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
            metricSums: result.predictorState,
            wapeMode: configuration.metrics.wapeMode,
            maseBasis: ShardManifest.maseBasis(of: configuration.metrics)
        )
        try await staging.put(ByteBuffer(string: manifest.json()), named: ShardManifest.fileName)
        return (result, manifest)
    }

    /// Empties the staging folder of an earlier run, keeping only the lock this run holds: the
    /// shard manifest first, then every other file (top-level files, then both table folders).
    private func clearStaging(prefix: String) async throws {
        try await sink.remove(named: prefix + ShardManifest.fileName)
        let lockKey = prefix + destinationLockKey
        for key in try await sink.list(prefix: prefix) where key != lockKey {
            try await sink.remove(named: key)
        }
        for table in ExportTable.allCases {
            try await sink.removeAll(under: prefix + table.folderName + "/")
        }
    }

    /// Who holds the staging folder, for the message a commit or another run gets: shard, job,
    /// timestamp, process, host, start (the `process <pid> on <host>` form lets a later run take
    /// over the S3 lock of a dead process of this host).
    private func lockHolderDescription() -> String {
        let started = ExportTimestamp(epochSeconds: Int64(time(nil))).iso8601
        return "shard \(shard) of job \(plan.jobName.rawValue) (timestamp \(plan.timestamp.iso8601)),"
            + " process \(getpid()) on \(TemporaryFiles.hostName), started \(started)"
    }
}
