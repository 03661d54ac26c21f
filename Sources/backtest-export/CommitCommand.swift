import ArgumentParser
import BacktestExport
import ExportCore
import ExportS3
import ExportSinks

/// `backtest-export commit`: publishes a sharded export once every shard has finished.
struct CommitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Publish a sharded export: check every shard, move the staged parts to their final names, "
            + "merge the metrics, write _manifest.json and _SUCCESS.",
        discussion: """
            Nothing is published unless every shard of the plan finished (a missing one is named) and \
            none is still running (its staging folder locked). Parts of the same job and timestamp \
            that the commit does not write (an earlier, larger export) are removed. Run twice, the \
            second commit does nothing (exit 0).
            """
    )

    @Option(help: "The plan written by `plan`.")
    var plan: String

    @Option(help: "The destination the shards wrote to: a local folder, or s3://bucket/prefix.")
    var destination: String

    @Option(
        help: """
            When the destination holds another export's parts (another job name or timestamp): \
            error (stop, publish nothing), overwrite (remove them first) or append (keep them, as Amazon Forecast does).
            """
    )
    var ifExists = "error"

    @Option(help: "S3 only: a KMS key (ARN or id) for SSE-KMS encryption of the published objects.")
    var kmsKeyArn: String?

    @Flag(help: "Print the result as one JSON object on stdout.")
    var json = false

    @Flag(help: "Print nothing on success (errors still go to stderr).")
    var quiet = false

    func run() async throws {
        guard let ifExists = IfExists(rawValue: ifExists.lowercased()) else {
            throw ExportError.validation("Invalid --if-exists '\(self.ifExists)': use error, overwrite or append")
        }
        let plan = try ShardPlan(parsing: try TextFile.read(self.plan), what: self.plan)
        let start = Monotonic.now
        let outcome: ShardCommitOutcome
        if destination.hasPrefix("s3://") {
            let location = try S3Location(parsing: destination)  // before the credentials: see ExportPlan
            var s3 = try S3Configuration.fromEnvironment(S3Configuration.processEnvironment())
            if let key = kmsKeyArn { s3.kmsKeyId = key }
            let sink = try S3Sink(location: location, configuration: s3)
            outcome = try await ShardCommitter(sink: sink, plan: plan, concurrentMoves: 8, ifExists: ifExists).commit()
        } else {
            guard kmsKeyArn == nil else {
                throw ExportError.validation("--kms-key-arn applies to s3:// destinations only")
            }
            outcome = try await ShardCommitter(
                sink: LocalDirectorySink(root: destination),
                plan: plan,
                ifExists: ifExists
            )
            .commit()
        }
        let seconds = Monotonic.now - start
        if json {
            let parts: [JSONOutput.Value] = outcome.parts.map { part in
                .object([
                    ("key", .string(part.key)), ("rows", .integer(part.rowCount)), ("bytes", .integer(part.byteCount)),
                    ("sha256", .string(part.sha256)),
                ])
            }
            var data: [(String, JSONOutput.Value)] = [
                ("id", .string(plan.jobName.rawValue)), ("created_at", .string(plan.timestamp.iso8601)),
                ("destination", .string(destination)), ("shards", .integer(plan.shardCount)),
                ("published", .bool(outcome.published)),
                ("forecast_rows", .integer(outcome.forecastRowCount)),
                ("metrics_rows", .integer(outcome.metricsRowCount)),
                ("seconds", .finite(seconds)), ("parts", .array(parts)),
            ]
            if let metrics = outcome.predictorMetrics {
                data.append(("predictor_metrics", metrics.json))
            }
            print(JSONOutput.success(data))
            return
        }
        if quiet { return }
        guard outcome.published else {
            printError(
                "\(plan.jobName) (\(plan.timestamp.iso8601)) is already committed to \(destination): nothing to do"
            )
            return
        }
        printError(
            "committed \(plan.shardCount) shards of \(plan.jobName): \(outcome.forecastRowCount) forecast rows and "
                + "\(outcome.metricsRowCount) metric rows in \(outcome.parts.count) parts to \(destination) "
                + "in \(formatted(seconds)) s"
                + (outcome.resumedMoves > 0 ? " (\(outcome.resumedMoves) parts were already moved)" : "")
        )
        for part in outcome.parts { printError("  \(part.key)  \(part.rowCount) rows  \(part.byteCount) bytes") }
        if let metrics = outcome.predictorMetrics { printError(ExportCommand.table(metrics)) }
    }
}
