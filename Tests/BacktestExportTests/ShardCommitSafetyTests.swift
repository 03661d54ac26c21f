import BacktestExport
import ExportCore
import ExportSinks
import NIOCore
import Testing

/// What a commit does with the destination it finds (parts of an earlier, larger export of the
/// same job and timestamp; another export's parts; a committed export of the same job), and the
/// staging locks that keep a commit and a running shard apart.
@Suite struct ShardCommitSafetyTests {
    static let f = "forecasted-values/TestJob_2024-01-02T03-04-05Z_part"
    static let a = "accuracy-metrics-values/TestJob_2024-01-02T03-04-05Z_part"

    /// Two shards: forecast parts 2 + 1, metric parts 1 + 1.
    static func threeAndTwoParts() throws -> (ShardPlan, [ShardManifest?]) {
        let plan = try ShardingTests.plan([SeriesKey(itemId: "h", dimensions: ["s"])])
        return (
            plan,
            [
                ShardingTests.manifest(plan, shard: 0, forecastRows: [5, 3], metricRows: [4]),
                ShardingTests.manifest(plan, shard: 1, forecastRows: [7], metricRows: [2]),
            ]
        )
    }

    /// The keys an earlier export of this job left (`part0…part5` in both tables), another
    /// export's parts, and files that are not parts (ignored).
    static let existingKeys: [String] =
        (0..<6).flatMap { ["\(f)\($0).csv", "\(a)\($0).csv"] } + [
            "forecasted-values/OtherJob_2024-01-02T03-04-05Z_part0.csv",
            "accuracy-metrics-values/TestJob_2023-12-31T00-00-00Z_part0.csv",
            "forecasted-values/notes.txt", "forecasted-values/sub/TestJob_2024-01-02T03-04-05Z_part9.csv",
            "_SUCCESS",
        ]

    @Test func anEarlierLargerExportOfTheSameJobLosesThePartsTheCommitDoesNotWrite() throws {
        let (plan, manifests) = try Self.threeAndTwoParts()
        let commit = try ShardCommitPlan(
            plan: plan,
            manifests: manifests,
            existingKeys: Self.existingKeys.shuffledDeterministically(),
            ifExists: .append
        )
        let f = Self.f
        let a = Self.a
        #expect(commit.parts.map(\.key) == ["\(f)0.csv", "\(f)1.csv", "\(f)2.csv", "\(a)0.csv", "\(a)1.csv"])
        #expect(
            commit.existing.stale == [
                "\(a)2.csv", "\(a)3.csv", "\(a)4.csv", "\(a)5.csv", "\(f)3.csv", "\(f)4.csv", "\(f)5.csv",
            ]
        )
        #expect(
            commit.existing.foreign == [
                "accuracy-metrics-values/TestJob_2023-12-31T00-00-00Z_part0.csv",
                "forecasted-values/OtherJob_2024-01-02T03-04-05Z_part0.csv",
            ]
        )
        // Markers first, then _CHECK, the moves, the stale parts, the manifest, _SUCCESS; with
        // `append` another export's parts stay.
        let steps = commit.steps
        let removals = commit.existing.stale.map(ShardCommitPlan.Step.remove)
        #expect(
            steps
                == [.remove("_SUCCESS"), .remove("_manifest.json"), .put("_CHECK")]
                + commit.moves.map(ShardCommitPlan.Step.move) + removals
                + [.putManifest, .putSuccess, .removeStaging(prefix: plan.stagingPrefix)]
        )
        // What stays once the steps ran: exactly the commit's parts (and the other export's).
        var remaining = Set(Self.existingKeys)
        for step in steps {
            switch step {
            case .remove(let key): remaining.remove(key)
            case .move(let move): remaining.insert(move.to)
            default: break
            }
        }
        let ownParts = remaining.filter { $0.hasPrefix(f) || $0.hasPrefix(a) }
        #expect(ownParts == Set(commit.parts.map(\.key)))
    }

    @Test func anotherExportsPartsFollowIfExists() throws {
        let (plan, manifests) = try Self.threeAndTwoParts()
        do {
            _ = try ShardCommitPlan(plan: plan, manifests: manifests, existingKeys: Self.existingKeys)
            Issue.record("another export's parts were accepted with --if-exists error")
        } catch {
            #expect(error.code == .alreadyExists && error.exitStatus == 2)
            #expect(error.message.contains("OtherJob_2024-01-02T03-04-05Z_part0.csv"))
            #expect(error.message.contains("Nothing was published") && error.message.contains("--if-exists"))
        }
        // This job's own earlier parts alone are not another export: no refusal.
        let own = Self.existingKeys.filter { $0.hasPrefix(Self.f) || $0.hasPrefix(Self.a) }
        let plain = try ShardCommitPlan(plan: plan, manifests: manifests, existingKeys: own)
        #expect(plain.existing.foreign.isEmpty && plain.existing.stale.count == 7)

        let overwrite = try ShardCommitPlan(
            plan: plan,
            manifests: manifests,
            existingKeys: Self.existingKeys,
            ifExists: .overwrite
        )
        let steps = overwrite.steps
        // Removed after the markers, before `_CHECK` and any move.
        #expect(
            Array(steps.prefix(5)) == [
                .remove("_SUCCESS"), .remove("_manifest.json"),
                .remove("accuracy-metrics-values/TestJob_2023-12-31T00-00-00Z_part0.csv"),
                .remove("forecasted-values/OtherJob_2024-01-02T03-04-05Z_part0.csv"), .put("_CHECK"),
            ]
        )
    }

    @Test func onlyThisPlansCommitIsAlreadyCommitted() throws {
        let (plan, _) = try Self.threeAndTwoParts()
        func manifest(job: String = "TestJob", shardPlan: String?) -> String {
            "{\"job_name\": \"\(job)\", \"export_timestamp\": \"2024-01-02T03:04:05Z\""
                + (shardPlan.map { ", \"shard_plan\": \($0)" } ?? "") + "}"
        }
        let own = "{\"shards\": \(plan.shardCount), \"digest\": \"\(plan.membershipDigest)\"}"
        #expect(
            ShardCommitPlan.isAlreadyCommitted(plan: plan, successExists: true, manifestText: manifest(shardPlan: own))
        )
        #expect(
            !ShardCommitPlan.isAlreadyCommitted(
                plan: plan,
                successExists: false,
                manifestText: manifest(shardPlan: own)
            )
        )
        // A single-machine export of the same job and timestamp: the commit replaces it.
        #expect(
            !ShardCommitPlan.isAlreadyCommitted(plan: plan, successExists: true, manifestText: manifest(shardPlan: nil))
        )
        // A commit of another plan (other split points) of the same job and timestamp.
        let other = "{\"shards\": \(plan.shardCount), \"digest\": \"0123456789abcdef\"}"
        #expect(
            !ShardCommitPlan.isAlreadyCommitted(
                plan: plan,
                successExists: true,
                manifestText: manifest(shardPlan: other)
            )
        )
        let fewer = "{\"shards\": 1, \"digest\": \"\(plan.membershipDigest)\"}"
        #expect(
            !ShardCommitPlan.isAlreadyCommitted(
                plan: plan,
                successExists: true,
                manifestText: manifest(shardPlan: fewer)
            )
        )
        #expect(
            !ShardCommitPlan.isAlreadyCommitted(
                plan: plan,
                successExists: true,
                manifestText: manifest(job: "X", shardPlan: own)
            )
        )
        #expect(!ShardCommitPlan.isAlreadyCommitted(plan: plan, successExists: true, manifestText: "not json"))
    }

    /// In memory: a single export with many parts, then 2 shards and a commit of the same job and
    /// timestamp with fewer parts: exactly the commit's parts remain, and the manifest lists them.
    @Test func aCommitReplacesALargerExportOfTheSameJob() async throws {
        let rows = Fixture.rows(series: 60, windows: 2, horizon: 3)
        var small = try Fixture.configuration(maxPartRows: 20)
        small.maxPartBytes = nil
        let (sink, earlier) = try await Fixture.export(rows, batchSize: 100, configuration: small)
        var large = try Fixture.configuration(maxPartRows: 200)
        large.maxPartBytes = nil
        let plan = try ShardingTests.plan([rows.map(\.key).sorted()[rows.count / 2]])
        for shard in 0..<2 {
            _ = try await ShardExporter(
                sink: sink,
                format: TextTableFormat(),
                configuration: large,
                plan: plan,
                shard: shard
            )
            .export(from: { ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(rows, size: 100)) })
        }
        let outcome = try await ShardCommitter(sink: sink, plan: plan).commit()
        #expect(outcome.published)
        let published = Set(outcome.parts.map(\.key))
        #expect(published.count < earlier.parts.count)
        let onDisk = Set(
            sink.files.keys.filter { $0.hasPrefix("forecasted-values/") || $0.hasPrefix("accuracy-metrics-values/") }
        )
        #expect(onDisk == published)
        let manifest = try JSONValue(parsing: String(buffer: sink.files["_manifest.json"]!), what: "_manifest.json")
        var listed: Set<String> = []
        for table in ExportTable.allCases {
            for part in manifest["tables"]?[table.folderName]?["parts"]?.array ?? [] {
                listed.insert(part["key"]?.string ?? "")
            }
        }
        #expect(listed == published)
        #expect(sink.files["_SUCCESS"] != nil)
        // A second commit of the same plan is a no-op.
        let before = sink.files
        #expect(try await !ShardCommitter(sink: sink, plan: plan).commit().published)
        #expect(sink.files == before)
    }

    /// A shard that holds its staging lock blocks the commit (an error naming it, nothing
    /// changed); a commit that holds it blocks the shard; once released, both go through.
    @Test func aRunningShardBlocksTheCommitAndACommitBlocksTheShard() async throws {
        let rows = Fixture.rows(series: 30)
        let configuration = try Fixture.configuration()
        let plan = try ShardingTests.plan([rows.map(\.key).sorted()[rows.count / 2]])
        let sink = InMemorySink()
        func runShard(_ shard: Int) async throws {
            _ = try await ShardExporter(
                sink: sink,
                format: TextTableFormat(),
                configuration: configuration,
                plan: plan,
                shard: shard
            )
            .export(from: { ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(rows, size: 50)) })
        }
        try await runShard(0)
        try await runShard(1)
        let before = sink.files

        try await sink.withExclusiveLock(under: plan.stagingPrefix(ofShard: 1), holder: "shard 1, process 7") {
            do {
                _ = try await ShardCommitter(sink: sink, plan: plan).commit()
                Issue.record("a commit ran while shard 1 held its staging folder")
            } catch let error as ExportError {
                #expect(error.message.contains("shard 1 is still running") && error.message.contains("process 7"))
                #expect(error.message.contains("Nothing was published"))
            }
            // A shard run meanwhile is refused too, and leaves its staging folder as it was.
            do {
                try await runShard(1)
                Issue.record("shard 1 ran twice at once")
            } catch let error as ExportError {
                #expect(error.message.contains("Shard 1") && error.message.contains("cannot start"))
            }
        }
        #expect(sink.files == before)
        #expect(sink.lockHolder == nil && sink.lockHolder(under: plan.stagingPrefix(ofShard: 0)) == nil)

        // The destination's lock (another export or commit) blocks a commit as well.
        try await sink.withExclusiveLock(holder: "export job Other, process 8") {
            await #expect(throws: ExportError.self) { try await ShardCommitter(sink: sink, plan: plan).commit() }
            return
        }
        #expect(sink.files == before)
        #expect(try await ShardCommitter(sink: sink, plan: plan).commit().published)
    }

    /// A re-run of a shard that fails part-way leaves no shard manifest: the commit then names
    /// the shard instead of publishing a mix of the old run's and the new run's parts.
    @Test func aFailedShardRerunLeavesNoManifest() async throws {
        let rows = Fixture.rows(series: 30)
        var configuration = try Fixture.configuration(maxPartRows: 10)
        configuration.maxPartBytes = nil
        let plan = try ShardingTests.plan([rows.map(\.key).sorted()[rows.count / 2]])
        let sink = InMemorySink()
        func runShard(_ shard: Int) async throws {
            _ = try await ShardExporter(
                sink: sink,
                format: TextTableFormat(),
                configuration: configuration,
                plan: plan,
                shard: shard
            )
            .export(from: { ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(rows, size: 50)) })
        }
        try await runShard(0)
        try await runShard(1)
        let manifestKey = plan.stagingPrefix(ofShard: 1) + ShardManifest.fileName
        #expect(sink.files[manifestKey] != nil)
        sink.failWrite(whenKeyContains: "shard-1/accuracy-metrics-values/", afterBytes: 1)
        await #expect(throws: (any Error).self) { try await runShard(1) }
        #expect(sink.files[manifestKey] == nil)
        do {
            _ = try await ShardCommitter(sink: sink, plan: plan).commit()
            Issue.record("committed with a failed shard")
        } catch let error as ExportError {
            #expect(error.message.contains("shard 1") && !error.message.contains("shard 0"))
        }
        #expect(sink.files["_SUCCESS"] == nil)
        #expect(!sink.files.keys.contains { $0.hasPrefix("forecasted-values/") })
    }
}
