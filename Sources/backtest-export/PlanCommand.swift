import ArgumentParser
import BacktestExport
import ExportCore
import ExportInput

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `backtest-export plan`: samples the input's series keys and writes the shard plan every
/// worker of a sharded export reads (job name, timestamp, split points).
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Plan a sharded export: sample the input's series keys and write N-1 split points.",
        discussion: """
            Then run `export --plan PLAN --shard K` (K = 0…N-1, or --shard auto on an array-job engine) \
            for every shard, and `commit --plan PLAN --destination D` once all have finished.
            """
    )

    @Option(help: "The export job's name: 1-63 characters, ^[a-zA-Z][a-zA-Z0-9_]*$.")
    var jobName: String

    @Option(
        help: """
            Backtest forecasts, as `export --input` takes them (a CSV, .csv.gz or .parquet file, a folder or \
            quoted glob of them, - for standard input; repeat to read several): the same input every shard reads.
            """
    )
    var input: [String]

    @Option(help: "Number of shards (workers), 1 to 10000.")
    var shards: Int

    @Option(help: "Where to write the plan (JSON).")
    var output: String

    @Option(help: "The job's timestamp, yyyy-MM-ddTHH:mm:ssZ (default: now, UTC, whole seconds).")
    var exportTimestamp: String?

    @Option(help: "Rows kept in the reservoir sample the split points come from.")
    var sampleSize = 100_000

    @Flag(help: "Print the result as one JSON object on stdout.")
    var json = false

    func run() async throws {
        let jobName = try JobName(self.jobName)
        let timestamp =
            try exportTimestamp.map { try ExportTimestamp(parsing: $0) }
            ?? ExportTimestamp(epochSeconds: Int64(Glibc.time(nil)))
        guard (1...10_000).contains(shards) else {
            throw ExportError.validation("Invalid --shards \(shards): use 1 to 10000")
        }
        guard sampleSize >= 1 else {
            throw ExportError.validation("Invalid --sample-size \(sampleSize): must be positive")
        }
        var reader = try BacktestInput(files: try InputPaths.resolve(input, option: "--input"))
        var sampler = SeriesKeySampler(capacity: sampleSize)
        while let batch = try reader.nextBatch() { sampler.add(batch) }
        let plan = try ShardPlan(
            jobName: jobName,
            timestamp: timestamp,
            shardCount: shards,
            splitPoints: sampler.splitPoints(shardCount: shards),
            dimensions: reader.schema.dimensions,
            sampledRowCount: sampler.rowCount
        )
        try TextFile.write(plan.json(), to: output)
        if json {
            print(
                JSONOutput.success([
                    ("id", .string(plan.jobName.rawValue)), ("created_at", .string(plan.timestamp.iso8601)),
                    ("plan", .string(output)), ("shards", .integer(plan.shardCount)),
                    ("split_points", .array(plan.splitPoints.map { .array($0.values.map(JSONOutput.Value.string)) })),
                    ("rows", .integer(sampler.rowCount)),
                ])
            )
        } else {
            printError(
                "planned \(plan.shardCount) shards of \(plan.jobName) (\(plan.timestamp.iso8601)) from "
                    + "\(sampler.rowCount) rows: \(output)"
            )
            for shard in 0..<plan.shardCount { printError("  shard \(shard): \(plan.range(ofShard: shard))") }
        }
    }
}

/// Whole small text files (plans), without Foundation.
enum TextFile {
    static func read(_ path: String, maxBytes: Int = 64 << 20) throws -> String {
        guard let file = fopen(path, "rb") else {
            throw ExportError.validation("Cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = fread(&chunk, 1, chunk.count, file)
            if n == 0 { break }
            bytes += chunk[0..<n]
            guard bytes.count <= maxBytes else {
                throw ExportError.validation("'\(path)' is larger than \(maxBytes) bytes")
            }
        }
        guard ferror(file) == 0 else { throw ExportError.validation("Cannot read '\(path)'") }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to a temporary name next to `path`, then renames it: never half a file.
    static func write(_ text: String, to path: String) throws {
        let temporary = "\(path).\(getpid()).tmp"
        guard let file = fopen(temporary, "wb") else {
            throw ExportError.validation("Cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
        let bytes = Array(text.utf8)
        let written = fwrite(bytes, 1, bytes.count, file)
        let closed = fclose(file)
        guard written == bytes.count, closed == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw ExportError.validation("Cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
    }
}
