public import ExportCore
public import ExportSinks
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Publishes a sharded export: reads every shard's manifest, decides with a ``ShardCommitPlan``,
/// and carries out its steps on the destination (moves of the staged parts to their final
/// names, removal of this job's stale parts, `_manifest.json` with the merged predictor metrics,
/// `_SUCCESS`, removal of the staging folder).
///
/// Guarantees: the commit holds the destination's exclusive lock, and every shard's staging lock,
/// from before it reads anything to its end; a shard still running (its staging folder locked)
/// is an error naming it, and a shard started during the commit refuses to run. Nothing is
/// published unless every shard finished under this plan (a missing or failed shard is an error
/// naming it, before any change); another export's parts are handled by ``ifExists`` (`error`:
/// refused before any change); every staged part is checked to be there before the first move;
/// `_SUCCESS` comes after every part and the manifest, and then the folders hold exactly the parts
/// the manifest lists for this job and timestamp. A destination that already holds this plan's
/// committed export is left alone (a second commit is a no-op that removes staging leftovers),
/// unless shards ran again since: all of them are published anew, some are refused by name
/// (``ShardCommitPlan/recommitDecision(plan:restagedShards:)``).
/// A commit interrupted after some moves can be run again: a part already moved is recognised
/// (source gone, destination there).
///
/// Cost: per shard, the lock (on S3 four requests and one on release) and one manifest read;
/// one listing of each table folder; then one move per part.
public struct ShardCommitter<Sink: StagingSink>: Sendable {
    public let sink: Sink
    public let plan: ShardPlan
    /// Moves in flight at once (S3 copies gain from a few; a local rename does not).
    public let concurrentMoves: Int
    /// What happens to another export's parts in the destination.
    public let ifExists: IfExists

    public init(sink: Sink, plan: ShardPlan, concurrentMoves: Int = 1, ifExists: IfExists = .error) {
        self.sink = sink
        self.plan = plan
        self.concurrentMoves = max(1, concurrentMoves)
        self.ifExists = ifExists
    }

    public func commit() async throws -> ShardCommitOutcome {
        do {
            return try await sink.withExclusiveLock(holder: lockHolderDescription()) {
                try await withShardLocks(from: 0) { try await run() }
            }
        } catch let error as ExportError {
            throw error
        } catch {
            throw ExportError.sink("Commit to '\(sink.destinationDescription)' failed: \(error)")
        }
    }

    /// Runs `body` holding the staging locks of shards `shard…` (in shard order). A lock held by
    /// another run means that shard is still running (or being run again): an error naming it.
    private func withShardLocks<R>(from shard: Int, _ body: () async throws -> R) async throws -> R {
        guard shard < plan.shardCount else { return try await body() }
        var entered = false
        do {
            return try await sink.withExclusiveLock(
                under: plan.stagingPrefix(ofShard: shard),
                holder: lockHolderDescription()
            ) {
                entered = true
                return try await withShardLocks(from: shard + 1, body)
            }
        } catch let error as ExportError where !entered {
            throw ExportError(
                error.code,
                "Cannot commit \(plan.jobName): shard \(shard) is still running (its staging folder "
                    + "\(plan.stagingPrefix(ofShard: shard)) is locked); wait for it to finish, then commit. "
                    + "Nothing was published. \(error.message)"
            )
        }
    }

    /// The shards whose staging folder holds a manifest and at least one part not moved yet: run
    /// since the last commit (a commit moves every part before it writes `_SUCCESS`).
    private func restagedShards(_ manifests: [ShardManifest?]) async throws -> [Int] {
        var shards: [Int] = []
        for (shard, manifest) in manifests.enumerated() {
            guard let manifest else { continue }
            for part in manifest.parts where try await sink.exists(named: plan.stagingPrefix(ofShard: shard) + part.key)
            {
                shards.append(shard)
                break
            }
        }
        return shards
    }

    private func run() async throws -> ShardCommitOutcome {
        var manifests: [ShardManifest?] = []
        for shard in 0..<plan.shardCount {
            let key = plan.stagingPrefix(ofShard: shard) + ShardManifest.fileName
            guard let bytes = try await sink.read(named: key, maxBytes: 256 << 20) else {
                manifests.append(nil)
                continue
            }
            manifests.append(
                try ShardManifest(parsing: String(buffer: bytes), what: "\(sink.destinationDescription)/\(key)")
            )
        }
        if try await sink.exists(named: "_SUCCESS") {
            let text = try await sink.read(named: "_manifest.json", maxBytes: 256 << 20).map { String(buffer: $0) }
            if ShardCommitPlan.isAlreadyCommitted(plan: plan, successExists: true, manifestText: text) {
                let decision = try ShardCommitPlan.recommitDecision(
                    plan: plan,
                    restagedShards: try await restagedShards(manifests)
                )
                if decision == .nothingToDo {
                    try await sink.removeAll(under: plan.stagingPrefix)
                    return ShardCommitOutcome(
                        published: false,
                        parts: [],
                        forecastRowCount: 0,
                        metricsRowCount: 0,
                        predictorMetrics: nil,
                        resumedMoves: 0
                    )
                }
            }
        }

        var existingKeys: [String] = []
        for table in ExportTable.allCases {
            existingKeys += try await sink.list(prefix: table.folderName + "/")
        }
        let commitPlan = try ShardCommitPlan(
            plan: plan,
            manifests: manifests,
            existingKeys: existingKeys,
            ifExists: ifExists
        )

        // Every staged part must be there (or already moved) before anything changes.
        var alreadyMoved = Set<String>()
        for move in commitPlan.moves {
            if try await sink.exists(named: move.from) { continue }
            guard try await sink.exists(named: move.to) else {
                throw ExportError(
                    .notFound,
                    "Cannot commit \(plan.jobName): shard \(move.shard)'s staged part '\(move.from)' is missing; "
                        + "run shard \(move.shard) again, then commit. Nothing was published."
                )
            }
            alreadyMoved.insert(move.from)
        }

        var moved = false
        for step in commitPlan.steps {
            switch step {
            case .remove(let key): try await sink.remove(named: key)
            case .put(let key): try await sink.put(ByteBuffer(), named: key)
            case .move:
                // All moves at the first, concurrently (they are consecutive in `steps`).
                guard !moved else { continue }
                try await moveAll(commitPlan.moves.filter { !alreadyMoved.contains($0.from) })
                moved = true
            case .putManifest:
                var configuration = ExportConfiguration(jobName: plan.jobName, timestamp: plan.timestamp)
                configuration.metrics.wapeMode = commitPlan.wapeMode
                var manifest = ExportManifest(
                    configuration: configuration,
                    schema: commitPlan.schema,
                    formatName: commitPlan.formatName,
                    codecName: commitPlan.codecName,
                    parts: commitPlan.parts,
                    forecastRowCount: commitPlan.forecastRowCount,
                    metricsRowCount: commitPlan.metricsRowCount,
                    predictorMetrics: commitPlan.predictorMetrics
                )
                manifest.shardPlan = (plan.shardCount, plan.membershipDigest)
                try await sink.put(ByteBuffer(string: manifest.json()), named: "_manifest.json")
            case .putSuccess:
                do {
                    try await sink.put(ByteBuffer(), named: "_SUCCESS")
                } catch {
                    try? await sink.remove(named: "_manifest.json")
                    throw error
                }
            case .removeStaging(let prefix): try await sink.removeAll(under: prefix)
            }
        }
        return ShardCommitOutcome(
            published: true,
            parts: commitPlan.parts,
            forecastRowCount: commitPlan.forecastRowCount,
            metricsRowCount: commitPlan.metricsRowCount,
            predictorMetrics: commitPlan.predictorMetrics,
            resumedMoves: alreadyMoved.count
        )
    }

    /// Who holds the locks, for the message a shard or another commit gets (the `process <pid> on
    /// <host>` form lets a later run take over the S3 lock of a dead process of this host).
    private func lockHolderDescription() -> String {
        let started = ExportTimestamp(epochSeconds: Int64(time(nil))).iso8601
        return "commit of job \(plan.jobName.rawValue) (timestamp \(plan.timestamp.iso8601)),"
            + " process \(getpid()) on \(TemporaryFiles.hostName), started \(started)"
    }

    /// The moves, at most ``concurrentMoves`` at once; the first failure cancels the rest.
    private func moveAll(_ moves: [ShardCommitPlan.Move]) async throws {
        let sink = self.sink
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            while next < moves.count {
                if next >= concurrentMoves { _ = try await group.next() }
                let move = moves[next]
                group.addTask { try await sink.move(from: move.from, to: move.to, byteCount: move.byteCount) }
                next += 1
            }
            try await group.waitForAll()
        }
    }
}

/// What a commit did.
public struct ShardCommitOutcome: Sendable {
    /// False when the destination already held this job's committed export (nothing done).
    public var published: Bool
    /// The published parts, final keys (empty when not published).
    public var parts: [PublishedPart]
    public var forecastRowCount: Int
    public var metricsRowCount: Int
    public var predictorMetrics: PredictorMetrics?
    /// Parts found already moved by an interrupted earlier commit.
    public var resumedMoves: Int
}
