import BacktestExport
import ExportCore
import ExportSinks
import NIOCore
import Testing

/// The pure decisions of a sharded export: key ranges, split points, the shard filter, part
/// renumbering and the commit's steps; then plan → shards → commit in memory against a single
/// export of the same rows.
@Suite struct ShardingTests {
    static let job = try! JobName("TestJob")
    static let stamp = try! ExportTimestamp(parsing: "2024-01-02T03:04:05Z")

    static func plan(_ points: [SeriesKey], shards: Int? = nil) throws -> ShardPlan {
        try ShardPlan(
            jobName: job,
            timestamp: stamp,
            shardCount: shards ?? points.count + 1,
            splitPoints: points,
            dimensions: ["store"],
            sampledRowCount: 0
        )
    }

    @Test func everyKeyIsInExactlyOneShardAndShardsFollowKeyOrder() throws {
        let keys = Fixture.rows(series: 90, windows: 1, horizon: 1).map(\.key).sorted()
        let plan = try Self.plan([keys[20], keys[20], keys[55]])  // shard 2 is empty
        for key in keys {
            let owners = (0..<plan.shardCount).filter { plan.range(ofShard: $0).contains(key) }
            #expect(owners == [plan.shard(of: key)], "\(key)")
        }
        let shardOfEach = keys.map(plan.shard(of:))
        #expect(shardOfEach == shardOfEach.sorted())
        #expect(Set(shardOfEach) == [0, 2, 3])  // shard 1, [keys[20], keys[20]), is empty
        #expect(plan.range(ofShard: 2).contains(keys[20]) && !plan.range(ofShard: 0).contains(keys[20]))
        // Byte-wise, not Unicode order: "é" (C3 A9) sorts after "z", and "e\u{301}" after "e".
        let bytewise = try Self.plan([SeriesKey(itemId: "z", dimensions: ["s"])])
        #expect(bytewise.shard(of: SeriesKey(itemId: "é", dimensions: ["s"])) == 1)
        #expect(bytewise.shard(of: SeriesKey(itemId: "e\u{301}", dimensions: ["s"])) == 0)
    }

    @Test func planReadsBackFromItsJSON() throws {
        let plan = try Self.plan(
            [
                SeriesKey(itemId: "q\"uote,\nline", dimensions: ["é"]), SeriesKey(itemId: "zz", dimensions: [""]),
            ],
            shards: 4
        )
        let copy = try ShardPlan(parsing: plan.json(), what: "plan.json")
        #expect(copy == plan)
        #expect(copy.membershipDigest == plan.membershipDigest)
        #expect(copy.range(ofShard: 3) == .nothing)  // fewer split points than shards − 1
        var other = plan
        other.splitPoints[1] = SeriesKey(itemId: "zy", dimensions: [""])
        #expect(other.membershipDigest != plan.membershipDigest)
        #expect(throws: ExportError.self) { try ShardPlan(parsing: "{\"version\": 9}", what: "p") }
        #expect(throws: ExportError.self) { try Self.plan([SeriesKey(itemId: "b"), SeriesKey(itemId: "a")]) }
    }

    @Test func splitPointsCutTheSampledRowsEvenly() {
        var sampler = SeriesKeySampler(capacity: 5_000)
        let rows = Fixture.rows(series: 400, windows: 2, horizon: 5)
        for batch in Fixture.batches(rows.shuffledDeterministically(), size: 777) { sampler.add(batch) }
        #expect(sampler.rowCount == rows.count)
        let points = sampler.splitPoints(shardCount: 4)
        #expect(points.count == 3 && points == points.sorted())
        let plan = try! ShardPlan(
            jobName: Self.job,
            timestamp: Self.stamp,
            shardCount: 4,
            splitPoints: points,
            dimensions: ["store"],
            sampledRowCount: sampler.rowCount
        )
        var counts = [0, 0, 0, 0]
        for row in rows { counts[plan.shard(of: row.key)] += 1 }
        for count in counts { #expect(abs(count - rows.count / 4) < rows.count / 10, "\(counts)") }
        #expect(SeriesKeySampler().splitPoints(shardCount: 4).isEmpty)
    }

    @Test func theFilterKeepsOnlyTheShardsRowsInOrder() throws {
        let rows = Fixture.rows(series: 30, windows: 2, horizon: 3)
        let keys = Array(Set(rows.map(\.key))).sorted()
        let range = ShardKeyRange(lower: keys[10], upper: keys[20])
        var source = ShardFilterSource(
            base: ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(rows, size: 7)),
            range: range
        )
        var kept: [(SeriesKey, Int64, Double?)] = []
        while let batch = try source.nextBatch() {
            #expect(batch.series.allSatisfy(range.contains))
            #expect(Set(batch.seriesIndex).count == batch.series.count)  // only used entries
            for r in 0..<batch.rowCount {
                kept.append((batch.series[Int(batch.seriesIndex[r])], batch.timestamp[r], batch.forecasts[1][r]))
            }
        }
        let expected = rows.filter { range.contains($0.key) }
        #expect(kept.count == expected.count && source.rowsKept == expected.count && source.rowsRead == rows.count)
        for (k, e) in zip(kept, expected) {
            #expect(k.0 == e.key && k.1 == e.timestamp && k.2?.bitPattern == e.forecasts[1]?.bitPattern)
        }
    }

    static func manifest(
        _ plan: ShardPlan,
        shard: Int,
        forecastRows: [Int],
        metricRows: [Int]
    ) -> ShardManifest {
        func parts(_ table: ExportTable, _ rows: [Int]) -> [PublishedPart] {
            rows.enumerated().map { i, n in
                PublishedPart(
                    table: table,
                    key: PartName(jobName: job, timestamp: stamp, index: i, fileExtension: "csv").key(in: table),
                    rowCount: n,
                    byteCount: 10 + n,
                    sha256: "s\(shard)p\(i)"
                )
            }
        }
        return ShardManifest(
            plan: plan,
            shard: shard,
            formatName: "CSV",
            codecName: "none",
            schema: Fixture.schema,
            parts: parts(.forecastedValues, forecastRows) + parts(.accuracyMetricsValues, metricRows),
            forecastRowCount: forecastRows.reduce(0, +),
            metricsRowCount: metricRows.reduce(0, +),
            metricSums: PredictorMetricsState(quantileCount: 1)
        )
    }

    @Test func partsAreRenumberedInShardOrderAndEmptyShardsDrop() throws {
        let plan = try Self.plan([SeriesKey(itemId: "h", dimensions: ["s"]), SeriesKey(itemId: "p", dimensions: ["s"])])
        let manifests = [
            Self.manifest(plan, shard: 0, forecastRows: [5, 3], metricRows: [4]),
            Self.manifest(plan, shard: 1, forecastRows: [0], metricRows: [0]),
            Self.manifest(plan, shard: 2, forecastRows: [7], metricRows: [2]),
        ]
        let commit = try ShardCommitPlan(plan: plan, manifests: manifests)
        let staging = "_staging/TestJob_2024-01-02T03-04-05Z/"
        let f = "forecasted-values/TestJob_2024-01-02T03-04-05Z_part"
        let a = "accuracy-metrics-values/TestJob_2024-01-02T03-04-05Z_part"
        #expect(
            commit.moves.map { "\($0.from) -> \($0.to)" } == [
                "\(staging)shard-0/\(f)0.csv -> \(f)0.csv", "\(staging)shard-0/\(f)1.csv -> \(f)1.csv",
                "\(staging)shard-2/\(f)0.csv -> \(f)2.csv",
                "\(staging)shard-0/\(a)0.csv -> \(a)0.csv", "\(staging)shard-2/\(a)0.csv -> \(a)1.csv",
            ]
        )
        #expect(commit.parts.map(\.rowCount) == [5, 3, 7, 4, 2])
        #expect(commit.parts.map(\.sha256) == ["s0p0", "s0p1", "s2p0", "s0p0", "s2p0"])
        #expect(commit.forecastRowCount == 15 && commit.metricsRowCount == 6)
        let steps = commit.steps
        #expect(steps.prefix(3) == [.remove("_SUCCESS"), .remove("_manifest.json"), .put("_CHECK")])
        #expect(steps.suffix(3) == [.putManifest, .putSuccess, .removeStaging(prefix: staging)])
        #expect(steps.dropFirst(3).prefix(5) == commit.moves.map(ShardCommitPlan.Step.move)[...])
    }

    @Test func aTableWithoutRowsKeepsTheFirstShardsPartZero() throws {
        let plan = try Self.plan([SeriesKey(itemId: "h", dimensions: ["s"])])
        let commit = try ShardCommitPlan(
            plan: plan,
            manifests: [
                Self.manifest(plan, shard: 0, forecastRows: [0], metricRows: [0]),
                Self.manifest(plan, shard: 1, forecastRows: [0], metricRows: [0]),
            ]
        )
        #expect(
            commit.moves.map(\.to) == [
                "forecasted-values/TestJob_2024-01-02T03-04-05Z_part0.csv",
                "accuracy-metrics-values/TestJob_2024-01-02T03-04-05Z_part0.csv",
            ]
        )
        #expect(commit.moves.allSatisfy { $0.shard == 0 })
    }

    @Test func missingOrForeignShardsAreRefusedByName() throws {
        let plan = try Self.plan([SeriesKey(itemId: "h", dimensions: ["s"]), SeriesKey(itemId: "p", dimensions: ["s"])])
        let good = Self.manifest(plan, shard: 0, forecastRows: [1], metricRows: [1])
        do {
            _ = try ShardCommitPlan(plan: plan, manifests: [good, nil, nil])
            Issue.record("a commit with missing shards was planned")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message.contains("shard 1, shard 2") && error.message.contains("Nothing was published"))
        }
        var other = try Self.plan([
            SeriesKey(itemId: "i", dimensions: ["s"]), SeriesKey(itemId: "p", dimensions: ["s"]),
        ])
        let foreign = Self.manifest(other, shard: 1, forecastRows: [1], metricRows: [1])
        let third = Self.manifest(plan, shard: 2, forecastRows: [1], metricRows: [1])
        #expect(throws: ExportError.self) { try ShardCommitPlan(plan: plan, manifests: [good, foreign, third]) }
        other = plan
        var parquet = Self.manifest(other, shard: 1, forecastRows: [1], metricRows: [1])
        parquet.formatName = "PARQUET"
        do {
            _ = try ShardCommitPlan(plan: plan, manifests: [good, parquet, third])
            Issue.record("shards of two formats were committed")
        } catch {
            #expect(error.message.contains("shard 1"))
        }
        let swapped = Self.manifest(plan, shard: 0, forecastRows: [1], metricRows: [1])
        #expect(throws: ExportError.self) { try ShardCommitPlan(plan: plan, manifests: [good, swapped, third]) }
    }

    /// Shards computed with other metric options would publish a mix (rows of two WAPE scalings,
    /// MASE from two frequencies or for half the series) under one manifest: refused by name.
    @Test func shardsWithOtherMetricOptionsAreRefused() throws {
        let plan = try Self.plan([SeriesKey(itemId: "h", dimensions: ["s"])])
        let first = Self.manifest(plan, shard: 0, forecastRows: [1], metricRows: [1])
        var normalized = Self.manifest(plan, shard: 1, forecastRows: [1], metricRows: [1])
        normalized.wapeMode = .normalized
        #expect {
            try ShardCommitPlan(plan: plan, manifests: [first, normalized])
        } throws: { error in
            (error as? ExportError)?.message.contains(
                "shard 1's manifest has --wape-mode normalized, shard 0 has absolute"
            )
                == true
        }
        var withHistory = Self.manifest(plan, shard: 1, forecastRows: [1], metricRows: [1])
        withHistory.maseBasis = "history, frequency H"
        #expect {
            try ShardCommitPlan(plan: plan, manifests: [first, withHistory])
        } throws: { error in
            (error as? ExportError)?.message.contains("has MASE from history, frequency H, shard 0 from no history")
                == true
        }
        var both = first
        both.wapeMode = .normalized
        normalized.maseBasis = first.maseBasis
        #expect(try ShardCommitPlan(plan: plan, manifests: [both, normalized]).wapeMode == .normalized)
    }

    /// A shard whose input had its columns in another order has its forecast types in another
    /// order: refused, and the message says so (not just "other columns").
    @Test func shardsWithOtherColumnsAreRefusedSayingWhatDiffers() throws {
        let plan = try Self.plan([SeriesKey(itemId: "h", dimensions: ["s"])])
        let first = Self.manifest(plan, shard: 0, forecastRows: [1], metricRows: [1])
        var reordered = Self.manifest(plan, shard: 1, forecastRows: [1], metricRows: [1])
        reordered.schema = try ExportSchema(dimensions: ["store"], forecastTypes: [.mean, .quantile(hundredths: 10)])
        #expect {
            try ShardCommitPlan(plan: plan, manifests: [first, reordered])
        } throws: { error in
            (error as? ExportError)?.message.contains(
                "has forecast types [mean, p10], shard 0 has [p10, mean] (the same in another order"
            ) == true
        }
        var otherDimension = reordered
        otherDimension.schema = try ExportSchema(dimensions: ["region"], forecastTypes: first.schema.forecastTypes)
        #expect {
            try ShardCommitPlan(plan: plan, manifests: [first, otherDimension])
        } throws: { error in
            (error as? ExportError)?.message.contains("has dimensions [region], shard 0 has [store]") == true
        }
    }

    /// An already committed plan: nothing to do when no shard ran since, published anew when all
    /// did, refused naming them when some did (a commit that did nothing would drop their work).
    @Test func recommittingDependsOnWhichShardsRanAgain() throws {
        let plan = try Self.plan([SeriesKey(itemId: "h", dimensions: ["s"]), SeriesKey(itemId: "p", dimensions: ["s"])])
        #expect(try ShardCommitPlan.recommitDecision(plan: plan, restagedShards: []) == .nothingToDo)
        #expect(try ShardCommitPlan.recommitDecision(plan: plan, restagedShards: [2, 0, 1]) == .republish)
        #expect {
            try ShardCommitPlan.recommitDecision(plan: plan, restagedShards: [1])
        } throws: { error in
            let message = (error as? ExportError)?.message ?? ""
            return message.contains("already committed, and shard 1 ran again since")
                && message.contains("--shard 0, 2") && message.contains("Nothing was changed")
        }
    }

    @Test func theMASEBasisNamesTheFrequencyUsed() {
        #expect(ShardManifest.maseBasis(of: MetricsOptions()) == "no history")
        var batch = TargetBatch()
        for hour in 0..<48 {
            batch.append(
                series: SeriesKey(itemId: "a", dimensions: ["s"]),
                timestamp: Int64(hour) * 3_600_000,
                target: 1
            )
        }
        var history = TargetHistory()
        history.add(batch)
        #expect(ShardManifest.maseBasis(of: MetricsOptions(history: history)) == "history, frequency H")
        #expect(
            ShardManifest.maseBasis(of: MetricsOptions(frequency: .daily, history: history)) == "history, frequency D"
        )
    }

    @Test func shardManifestReadsBackFromItsJSON() async throws {
        let rows = Fixture.rows(series: 12)
        let plan = try Self.plan([], shards: 1)
        let sink = InMemorySink()
        let (_, manifest) = try await ShardExporter(
            sink: sink,
            format: TextTableFormat(),
            configuration: try Fixture.configuration(),
            plan: plan,
            shard: 0
        ).export(from: { ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(rows, size: 50)) })
        let text = String(buffer: sink.files[plan.stagingPrefix(ofShard: 0) + ShardManifest.fileName]!)
        #expect(try ShardManifest(parsing: text, what: "_shard.json") == manifest)
        #expect(!manifest.metricSums.windows.isEmpty && manifest.forecastRowCount == rows.count)
    }

    /// Plan → 3 shards (one empty) → commit, in memory: the same rows in the same order as one export.
    @Test func shardsThenCommitEqualOneExport() async throws {
        let rows = Fixture.rows(series: 120, windows: 3, horizon: 4).shuffledDeterministically()
        let batches = Fixture.batches(rows, size: 333)
        var configuration = try Fixture.configuration(maxPartRows: 40)
        configuration.maxPartBytes = nil
        let (single, singleResult) = try await Fixture.export(rows, batchSize: 333, configuration: configuration)

        var sampler = SeriesKeySampler(capacity: 64)
        for batch in batches { sampler.add(batch) }
        var points = sampler.splitPoints(shardCount: 3)
        points.insert(points[0], at: 1)  // an empty shard in the middle
        let plan = try Self.plan(points)
        let sink = InMemorySink()
        for shard in [3, 1, 0, 2] {  // any order
            _ = try await ShardExporter(
                sink: sink,
                format: TextTableFormat(),
                configuration: configuration,
                plan: plan,
                shard: shard
            )
            .export(from: { ForecastBatchList(schema: Fixture.schema, batches: batches) })
        }
        // A shard run again replaces its staging folder.
        try await sink.put(ByteBuffer(string: "stale"), named: plan.stagingPrefix(ofShard: 1) + "stale.txt")
        _ = try await ShardExporter(
            sink: sink,
            format: TextTableFormat(),
            configuration: configuration,
            plan: plan,
            shard: 1
        )
        .export(from: { ForecastBatchList(schema: Fixture.schema, batches: batches) })
        #expect(sink.files[plan.stagingPrefix(ofShard: 1) + "stale.txt"] == nil)
        #expect(sink.files["_SUCCESS"] == nil)

        let outcome = try await ShardCommitter(sink: sink, plan: plan, concurrentMoves: 3).commit()
        #expect(outcome.published)
        #expect(sink.files.keys.allSatisfy { !$0.hasPrefix("_staging/") })
        for table in ExportTable.allCases {
            func body(_ files: [String: ByteBuffer]) -> (String, Int) {
                let keys = files.keys.filter { $0.hasPrefix(table.folderName + "/") }
                let parts = keys.map { (try! PartName(parsing: String($0.split(separator: "/").last!)).index, $0) }
                    .sorted {
                        $0.0 < $1.0
                    }
                #expect(parts.map(\.0) == Array(0..<parts.count))
                return (
                    parts.map { String(String(buffer: files[$0.1]!).split(separator: "\n", maxSplits: 1)[1]) }.joined(),
                    parts.count
                )
            }
            let (sharded, shardedParts) = body(sink.files)
            let (one, _) = body(single.files)
            #expect(sharded == one, "\(table)")
            #expect(shardedParts >= 3)
        }
        let metrics = outcome.predictorMetrics!
        let expected = singleResult.predictorMetrics
        #expect(metrics.seriesCount == expected.seriesCount && metrics.windows.count == expected.windows.count)
        for (a, b) in zip(
            [metrics.summary] + metrics.windows.map(\.values),
            [expected.summary] + expected.windows.map(\.values)
        ) {
            for (x, y) in zip(a, b) {
                #expect((x == nil) == (y == nil))
                if let x, let y { #expect(abs(x - y) <= 1e-12 * max(abs(x), abs(y))) }
            }
        }
        let manifest = String(buffer: sink.files["_manifest.json"]!)
        #expect(manifest.contains("\"rows\": \(rows.count)"))

        let before = sink.files
        let again = try await ShardCommitter(sink: sink, plan: plan).commit()
        #expect(!again.published)
        #expect(sink.files == before)
    }
}

extension Array {
    /// A fixed permutation (so that tests are repeatable).
    func shuffledDeterministically() -> [Element] {
        var generator = SplitMix64(seed: 16)
        var copy = self
        for i in stride(from: copy.count - 1, to: 0, by: -1) {
            copy.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        return copy
    }
}
