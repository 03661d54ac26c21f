public import ExportCore

/// What `backtest-export commit` does, decided before anything is touched: pure, no I/O.
///
/// From the plan and every shard's manifest it checks that each shard finished under this plan
/// and that all agree (format, codec, schema), then lays out the publication:
/// - parts renumbered per table in shard order, part numbers running on from one shard to the
///   next (`part0…partM−1`), so the concatenated parts are the single-machine export's rows in
///   the same order; zero-row parts (a shard without rows) are dropped, except that a table with
///   no row at all keeps the first shard's `part0` (a header-only CSV or zero-row Parquet file);
/// - the shards' metric sums merged into the predictor-level state.
///
/// - what becomes of the parts already in the destination's table folders: another export's
///   (another job name or timestamp) follow ``IfExists`` (`error`: refused before anything
///   changes; `overwrite`: removed; `append`: kept); this job's parts that the commit does not
///   write (an earlier, larger export of the same job and timestamp) are removed, as a re-run
///   of `export` removes them.
///
/// ``steps`` is the order of operations: markers of an earlier export off (`_SUCCESS`, then
/// `_manifest.json`), other exports' parts off (with `overwrite`), `_CHECK`, every move
/// (forecasted-values, then accuracy-metrics-values), this job's stale parts off,
/// `_manifest.json`, `_SUCCESS`, and only then the staging folder removed. A reader therefore
/// never sees `_SUCCESS` next to a mix of parts: when it exists, the folders hold exactly the
/// parts the manifest lists for this job and timestamp. A commit interrupted part-way can be
/// run again (a move whose source is gone and whose destination exists is done).
public struct ShardCommitPlan: Sendable {
    /// One staged part to publish under its final name.
    public struct Move: Sendable, Equatable {
        public var shard: Int
        public var table: ExportTable
        /// Key below the destination of the staged file.
        public var from: String
        /// Final key below the destination.
        public var to: String
        public var byteCount: Int
    }

    public enum Step: Sendable, Equatable {
        case remove(String)
        case put(String)
        case move(Move)
        case putManifest
        case putSuccess
        case removeStaging(prefix: String)
    }

    /// What the destination's table folders held before the commit, by kind (keys below the
    /// destination, sorted).
    public struct ExistingParts: Sendable, Equatable {
        /// Parts of another job name or timestamp.
        public var foreign: [String] = []
        /// Parts of this job and timestamp that the commit does not write (removed before the
        /// manifest).
        public var stale: [String] = []
    }

    public let plan: ShardPlan
    public let moves: [Move]
    /// The published parts, final keys, both tables, in order.
    public let parts: [PublishedPart]
    public let forecastRowCount: Int
    public let metricsRowCount: Int
    public let schema: ExportSchema
    public let formatName: String
    public let codecName: String
    /// The WAPE scaling every shard used (the published manifest's `wape_mode`).
    public let wapeMode: WAPEMode
    public let metricSums: PredictorMetricsState
    /// The parts found in the destination that are not the commit's (see ``ExistingParts``).
    public let existing: ExistingParts
    /// What happens to ``ExistingParts/foreign``.
    public let ifExists: IfExists

    /// - Parameters:
    ///   - manifests: one entry per shard, nil where the shard's manifest is missing.
    ///   - existingKeys: the files listed in the destination's two table folders before the
    ///     commit (keys below the destination); files whose names are not part names are ignored.
    ///   - ifExists: what to do with another export's parts among them.
    /// - Throws: ``ExportError/Code/notFound`` naming every unfinished shard;
    ///   ``ExportError/Code/validation`` when a manifest belongs to another plan or disagrees, or
    ///   when another export's parts are there and `ifExists` is `.error`.
    public init(
        plan: ShardPlan,
        manifests: [ShardManifest?],
        existingKeys: [String] = [],
        ifExists: IfExists = .error
    ) throws(ExportError) {
        precondition(manifests.count == plan.shardCount, "one manifest slot per shard")
        let missing = manifests.indices.filter { manifests[$0] == nil }
        if !missing.isEmpty {
            let names = missing.map { "shard \($0)" }.joined(separator: ", ")
            throw ExportError(
                .notFound,
                "Cannot commit \(plan.jobName) (\(plan.shardCount) shards): \(names) did not finish "
                    + "(no \(ShardManifest.fileName) under \(plan.stagingPrefix)shard-K/): if "
                    + (missing.count == 1 ? "it is" : "they are") + " still starting (opening the input), "
                    + "wait for " + (missing.count == 1 ? "it" : "them") + "; otherwise run "
                    + (missing.count == 1 ? "it" : "them") + " again with --shard "
                    + missing.map(String.init).joined(separator: ", ") + ", then commit. Nothing was published."
            )
        }
        let shards = manifests.map { $0! }
        let first = shards[0]
        for (index, manifest) in shards.enumerated() {
            func disagree(_ what: String) -> ExportError {
                .validation(
                    "Cannot commit \(plan.jobName): shard \(index)'s manifest \(what); run shard \(index) again. "
                        + "Nothing was published."
                )
            }
            guard manifest.shard == index else { throw disagree("says it is shard \(manifest.shard)") }
            guard manifest.jobName == plan.jobName, manifest.timestamp == plan.timestamp else {
                throw disagree("is for job \(manifest.jobName) at \(manifest.timestamp.iso8601)")
            }
            guard manifest.shardCount == plan.shardCount, manifest.planDigest == plan.membershipDigest else {
                throw disagree("was written under another plan (other shard count or split points)")
            }
            guard manifest.formatName == first.formatName, manifest.codecName == first.codecName else {
                throw disagree(
                    "has format \(manifest.formatName)/\(manifest.codecName), shard 0 has \(first.formatName)/\(first.codecName)"
                )
            }
            guard manifest.schema == first.schema else {
                func list(_ names: [String]) -> String { "[" + names.joined(separator: ", ") + "]" }
                let types = (
                    manifest.schema.forecastTypes.map(\.columnName), first.schema.forecastTypes.map(\.columnName)
                )
                if manifest.schema.dimensions != first.schema.dimensions {
                    throw disagree(
                        "has dimensions \(list(manifest.schema.dimensions)), shard 0 has \(list(first.schema.dimensions))"
                    )
                }
                throw disagree(
                    "has forecast types \(list(types.0)), shard 0 has \(list(types.1))"
                        + (Set(types.0) == Set(types.1)
                            ? " (the same in another order: its input's columns are in another order)" : "")
                )
            }
            guard manifest.wapeMode == first.wapeMode else {
                throw disagree(
                    "has --wape-mode \(manifest.wapeMode.rawValue), shard 0 has \(first.wapeMode.rawValue) "
                        + "(every shard needs the same export options)"
                )
            }
            guard manifest.maseBasis == first.maseBasis else {
                throw disagree(
                    "has MASE from \(manifest.maseBasis), shard 0 from \(first.maseBasis) (every shard needs "
                        + "the same --history and --frequency)"
                )
            }
            guard manifest.metricSums.quantileCount == first.metricSums.quantileCount else {
                throw disagree("has metric sums for another number of quantiles")
            }
        }

        var moves: [Move] = []
        var parts: [PublishedPart] = []
        var stagedExtensions = Set<String>()
        for table in ExportTable.allCases {
            let tableRows = shards.reduce(0) { total, manifest in
                total + manifest.parts.filter { $0.table == table }.reduce(0) { $0 + $1.rowCount }
            }
            var index = 0
            for manifest in shards {
                for part in manifest.parts where part.table == table {
                    guard part.rowCount > 0 || (tableRows == 0 && index == 0) else { continue }
                    let slash = part.key.utf8.lastIndex(of: UInt8(ascii: "/")).map { part.key.utf8.index(after: $0) }
                    let fileName = String(part.key[(slash ?? part.key.startIndex)...])
                    let staged = try PartName(parsing: fileName)
                    guard staged.jobName == plan.jobName, staged.timestamp == plan.timestamp,
                        part.key == staged.key(in: table)
                    else {
                        throw .validation(
                            "Cannot commit \(plan.jobName): shard \(manifest.shard) lists part '\(part.key)', "
                                + "which is not a part of this job. Nothing was published."
                        )
                    }
                    stagedExtensions.insert(staged.fileExtension)
                    let final = PartName(
                        jobName: plan.jobName,
                        timestamp: plan.timestamp,
                        index: index,
                        fileExtension: staged.fileExtension
                    ).key(in: table)
                    moves.append(
                        Move(
                            shard: manifest.shard,
                            table: table,
                            from: plan.stagingPrefix(ofShard: manifest.shard) + part.key,
                            to: final,
                            byteCount: part.byteCount
                        )
                    )
                    parts.append(
                        PublishedPart(
                            table: table,
                            key: final,
                            rowCount: part.rowCount,
                            byteCount: part.byteCount,
                            sha256: part.sha256
                        )
                    )
                    index += 1
                }
            }
            guard index > 0 else {
                throw .validation(
                    "Cannot commit \(plan.jobName): no shard staged a part of \(table.folderName). Nothing was published."
                )
            }
        }
        var sums = PredictorMetricsState(quantileCount: first.metricSums.quantileCount)
        for manifest in shards { sums.merge(manifest.metricSums) }

        let existing = Self.classify(
            existingKeys,
            plan: plan,
            written: Set(parts.map(\.key)),
            fileExtensions: PartName.standardFileExtensions.union(stagedExtensions)
        )
        if ifExists == .error, !existing.foreign.isEmpty {
            let shown = existing.foreign.prefix(3).joined(separator: ", ")
            throw ExportError(
                .alreadyExists,
                "Cannot commit \(plan.jobName): the destination already holds another export's parts"
                    + " (\(existing.foreign.count): \(shown)\(existing.foreign.count > 3 ? ", …" : "")). Nothing was"
                    + " published. Use --if-exists overwrite to remove them first, or --if-exists append to keep"
                    + " them next to this export (as Amazon Forecast does)"
            )
        }

        self.plan = plan
        self.moves = moves
        self.parts = parts
        forecastRowCount = shards.reduce(0) { $0 + $1.forecastRowCount }
        metricsRowCount = shards.reduce(0) { $0 + $1.metricsRowCount }
        schema = first.schema
        formatName = first.formatName
        codecName = first.codecName
        wapeMode = first.wapeMode
        metricSums = sums
        self.existing = existing
        self.ifExists = ifExists
    }

    /// Sorts the part files among `keys` (direct children of a table folder whose names parse as
    /// part names with one of `fileExtensions`) into another export's and this job's that the
    /// commit does not write.
    static func classify(
        _ keys: [String],
        plan: ShardPlan,
        written: Set<String>,
        fileExtensions: Set<String>
    ) -> ExistingParts {
        var existing = ExistingParts()
        for key in keys.sorted() where !written.contains(key) {
            guard let table = ExportTable.allCases.first(where: { key.hasPrefix($0.folderName + "/") }) else {
                continue
            }
            let name = String(key.dropFirst(table.folderName.count + 1))
            guard !name.contains("/"),
                let part = PartName.part(named: name, fileExtensions: fileExtensions)
            else { continue }
            if part.jobName == plan.jobName && part.timestamp == plan.timestamp {
                existing.stale.append(key)
            } else {
                existing.foreign.append(key)
            }
        }
        return existing
    }

    /// Every operation, in the order the commit performs them.
    public var steps: [Step] {
        let foreign = ifExists == .overwrite ? existing.foreign.map(Step.remove) : []
        return [.remove("_SUCCESS"), .remove("_manifest.json")] + foreign + [.put("_CHECK")] + moves.map(Step.move)
            + existing.stale.map(Step.remove)
            + [.putManifest, .putSuccess, .removeStaging(prefix: plan.stagingPrefix)]
    }

    /// The predictor-level metrics of all shards pooled.
    public var predictorMetrics: PredictorMetrics { metricSums.metrics(schema: schema) }

    /// Whether the destination already holds this plan's committed export: `_SUCCESS` is there
    /// and `_manifest.json` names this job and timestamp and was written by a commit of this plan
    /// (its `shard_plan` has the plan's shard count and ``ShardPlan/membershipDigest``). A second
    /// commit is then a no-op (it only removes staging leftovers), never a second publication.
    /// Another export of the same job and timestamp (a single-machine export, or a commit of
    /// another plan) is not this commit's: the commit replaces it.
    /// What a commit does when the destination already holds this plan's committed export
    /// (``isAlreadyCommitted(plan:successExists:manifestText:)``).
    public enum RecommitDecision: Sendable, Equatable {
        /// No shard ran since: remove what is left of the staging folder, publish nothing.
        case nothingToDo
        /// Every shard ran again: publish them, replacing the export (as a re-run of `export`).
        case republish
    }

    /// Decides a commit of an already committed plan from the shards that staged parts since
    /// (`restagedShards`: shards whose staging folder holds a manifest and a part that is not
    /// moved yet). None: a second commit, or one interrupted after `_SUCCESS`; all: the whole
    /// export ran again. Some: refused, naming them, since committing nothing would silently
    /// drop a shard a user ran again to correct it.
    public static func recommitDecision(
        plan: ShardPlan,
        restagedShards: [Int]
    ) throws(ExportError)
        -> RecommitDecision
    {
        if restagedShards.isEmpty { return .nothingToDo }
        if Set(restagedShards) == Set(0..<plan.shardCount) { return .republish }
        let names = restagedShards.sorted().map { "shard \($0)" }.joined(separator: ", ")
        let others = (0..<plan.shardCount).filter { !restagedShards.contains($0) }.map(String.init)
        throw .validation(
            "Cannot commit \(plan.jobName): it is already committed, and \(names) ran again since. To publish "
                + "again, run the other shards too (--shard \(others.joined(separator: ", "))), then commit; or remove "
                + "\(plan.stagingPrefix) to keep the published export. Nothing was changed."
        )
    }

    public static func isAlreadyCommitted(plan: ShardPlan, successExists: Bool, manifestText: String?) -> Bool {
        guard successExists, let manifestText,
            let manifest = try? JSONValue(parsing: manifestText, what: "_manifest.json")
        else { return false }
        return manifest["job_name"]?.string == plan.jobName.rawValue
            && manifest["export_timestamp"]?.string == plan.timestamp.iso8601
            && manifest["shard_plan"]?["shards"]?.int == plan.shardCount
            && manifest["shard_plan"]?["digest"]?.string == plan.membershipDigest
    }
}
