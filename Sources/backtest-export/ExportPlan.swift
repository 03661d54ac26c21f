import BacktestExport
import ExportCSV
import ExportCore
import ExportInput
import ExportParquet
import ExportS3
import ExportSinks
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A validated `export` request: what to read, how to write it, and where.
///
/// Everything that can be checked before writing is checked here (job name, timestamp, format
/// and codec, limits, the input's header), so that a bad request writes nothing at all.
struct ExportPlan {
    enum Format {
        case csv(CSVFormat.Compression)
        case parquet(ParquetFormat.Codec)
    }

    enum Destination {
        case local(String)
        case s3(S3Location, S3Configuration)
    }

    /// The input, opened once: its first file's header is read while planning, and the export's
    /// first pass reads on from there (a pipe or standard input cannot be opened twice).
    final class OpenedInput: Sendable {
        let files: [InputFile]
        let dimensions: [String]?
        let maxRecordBytes: Int
        /// Where a Parquet stream on standard input or a pipe is copied to be read.
        let temporaryDirectory: String
        /// The schema of the first file's header.
        let schema: ExportSchema
        private let pending: Mutex<BacktestInput?>

        init(files: [InputFile], dimensions: [String]?, maxRecordBytes: Int, temporaryDirectory: String) throws {
            self.files = files
            self.dimensions = dimensions
            self.maxRecordBytes = maxRecordBytes
            self.temporaryDirectory = temporaryDirectory
            let first = try BacktestInput(
                files: files,
                dimensions: dimensions,
                maxRecordBytes: maxRecordBytes,
                temporaryDirectory: temporaryDirectory
            )
            schema = first.schema
            pending = Mutex(first)
        }

        /// The reader opened while planning (handed over once), then a fresh one, should a
        /// caller ask again.
        func take() throws -> sending BacktestInput {
            if let reader = pending.withLock({ $0.take() }) { return reader }
            return try BacktestInput(
                files: files,
                dimensions: dimensions,
                maxRecordBytes: maxRecordBytes,
                temporaryDirectory: temporaryDirectory
            )
        }

        /// ``take()``, counting what is read into `meter`.
        func take(metered meter: ProgressMeter?) throws -> sending MeteredSource<BacktestInput> {
            MeteredSource(try take(), meter: meter)
        }
    }

    private(set) var configuration: ExportConfiguration
    let input: OpenedInput
    /// The input's schema, read from its header (forecast types in input order).
    let schema: ExportSchema
    /// The dimensions `--dimensions` declared; nil: detected from the header.
    let declaredDimensions: [String]?
    var dimensionsWereDeclared: Bool { declaredDimensions != nil }
    /// With `--plan`/`--shard`: the shard plan, this worker's shard and its staging folder.
    let shard: (plan: ShardPlan, index: Int, prefix: String)?
    let format: Format
    let destination: Destination

    init(command: ExportCommand) throws {
        let shard = try Self.shard(command: command)
        self.shard = shard
        guard let jobName = try shard?.plan.jobName ?? command.jobName.map({ try JobName($0) }) else {
            throw ExportError.validation("Missing --job-name (or --plan)")
        }
        let timestamp =
            try shard?.plan.timestamp ?? command.exportTimestamp.map { try ExportTimestamp(parsing: $0) }
            ?? ExportTimestamp(epochSeconds: Int64(Glibc.time(nil)))
        switch command.format.lowercased() {
        case "csv":
            switch (command.compression ?? "none").lowercased() {
            case "none": format = .csv(.none)
            case "gzip": format = .csv(.gzip)
            default:
                throw ExportError.validation(
                    "Invalid --compression '\(command.compression ?? "")' for CSV: use none or gzip"
                )
            }
        case "parquet":
            switch (command.compression ?? "snappy").lowercased() {
            case "snappy": format = .parquet(.snappy)
            case "gzip": format = .parquet(.gzip)
            case "none", "uncompressed": format = .parquet(.none)
            case "zstd": format = .parquet(.zstd)
            default:
                throw ExportError.validation(
                    "Invalid --compression '\(command.compression ?? "")' for Parquet: use snappy, gzip, zstd or none"
                )
            }
        default:
            throw ExportError.validation("Invalid --format '\(command.format)': use csv or parquet")
        }
        var maxPartRows: Int?
        if let text = command.maxPartRows {
            guard let rows = Int(text), rows > 0 else {
                throw ExportError.validation("Invalid --max-part-rows '\(text)': must be a positive whole number")
            }
            maxPartRows = rows
        }
        func size(_ text: String, option: String) throws(ExportError) -> Int {
            guard let count = ByteCount(argument: text) else {
                throw ExportError.validation(
                    "Invalid \(option) '\(text)': must be a positive size such as 1048576, 64KiB, 128MiB or 1GiB"
                )
            }
            return count.bytes
        }
        let maxPartBytes = try size(command.maxPartBytes, option: "--max-part-bytes")
        let memoryLimit = try size(command.memoryLimit, option: "--memory-limit")
        guard let ifExists = IfExists(rawValue: command.ifExists.lowercased()) else {
            throw ExportError.validation("Invalid --if-exists '\(command.ifExists)': use error, overwrite or append")
        }
        guard !command.destination.isEmpty else {
            throw ExportError.validation("Invalid --destination '': give a local folder or s3://bucket/prefix")
        }
        declaredDimensions = command.dimensions.map { text in
            text.isEmpty
                ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map { String($0.trimmingSpaces) }
        }
        guard let wapeMode = WAPEMode(rawValue: command.wapeMode.lowercased()) else {
            throw ExportError.validation("Invalid --wape-mode '\(command.wapeMode)': use normalized or absolute")
        }
        var metrics = MetricsOptions(wapeMode: wapeMode)
        if let text = command.frequency {
            guard let frequency = Frequency(parsing: text) else {
                throw ExportError.validation(
                    "Invalid --frequency '\(text)': use Y, M, W, D, H, 30min, 15min, 10min, 5min or 1min"
                )
            }
            metrics.frequency = frequency
        }
        if let folder = command.tempDir {
            var info = stat()
            guard stat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw ExportError.validation(
                    "Invalid --temp-dir '\(folder)': no such folder (create it, or leave --temp-dir out)"
                )
            }
        }
        let grouping = GroupingOptions(memoryLimit: memoryLimit, temporaryDirectory: command.tempDir)
        // Open the input and read its (first file's) header now: a missing column fails before
        // anything is written. Both standard inputs are checked before either is read.
        let inputFiles = try InputPaths.resolve(command.input, option: "--input")
        let historyFiles = command.history.isEmpty ? [] : try InputPaths.resolve(command.history, option: "--history")
        if inputFiles.contains(where: { $0.kind == .standardInput })
            && historyFiles.contains(where: { $0.kind == .standardInput })
        {
            throw ExportError.validation("Standard input ('-') can feed --input or --history, not both")
        }
        let input = try OpenedInput(
            files: inputFiles,
            dimensions: declaredDimensions,
            maxRecordBytes: command.maxRecordBytes.bytes,
            temporaryDirectory: grouping.temporaryDirectory
        )
        schema = input.schema
        if let shard, shard.plan.dimensions != schema.dimensions {
            throw ExportError.validation(
                "The input's dimensions [\(schema.dimensions.joined(separator: ", "))] differ from the plan's "
                    + "[\(shard.plan.dimensions.joined(separator: ", "))]: was the plan made from this input?"
            )
        }
        if !historyFiles.isEmpty {
            var reader = TargetInput(
                files: historyFiles,
                expectedDimensions: schema.dimensions,
                temporaryDirectory: grouping.temporaryDirectory
            )
            var target = TargetHistory()
            while let batch = try reader.nextBatch() { target.add(batch) }
            try target.validate(source: historyFiles.map { "'\($0.path)'" }.joined(separator: ", "))
            metrics.history = target
            // Inferred once here, for the warning and for every later user of the options (the
            // metrics, a shard's manifest), instead of once by each.
            if metrics.frequency == nil { metrics.frequency = target.inferredFrequency() }
            if metrics.frequency == nil, target.seriesCount > 0, !command.quiet {
                printError(
                    "warning: the history's time step is none of Y, M, W, D, H, 30min, 15min, 10min, 5min, 1min, so "
                        + "MASE is not defined (SPEC §6 takes its season from these); give --frequency if the data has one"
                )
            }
        }
        if command.destination.hasPrefix("s3://") {
            // The destination first: a malformed one (`s3://` without a bucket) is the error to
            // report, whatever the credentials.
            let location = try S3Location(parsing: command.destination)
            var s3 = try S3Configuration.fromEnvironment(S3Configuration.processEnvironment())
            if let key = command.kmsKeyArn { s3.kmsKeyId = key }
            s3.retryLog = { line in printError("retrying: \(line)") }
            destination = .s3(location, s3)
        } else {
            guard command.kmsKeyArn == nil else {
                throw ExportError.validation("--kms-key-arn applies to s3:// destinations only")
            }
            destination = .local(command.destination)
        }
        self.input = input
        configuration = ExportConfiguration(
            jobName: jobName,
            timestamp: timestamp,
            maxPartBytes: maxPartBytes,
            maxPartRows: maxPartRows,
            metrics: metrics,
            grouping: grouping
        )
        configuration.trustsInputOrder = command.trustInputOrder
        configuration.ifExists = ifExists
    }

    /// Reads `--plan` and resolves `--shard`; checks that `--job-name`/`--export-timestamp`, when
    /// given too, agree with the plan.
    private static func shard(command: ExportCommand) throws -> (plan: ShardPlan, index: Int, prefix: String)? {
        guard let path = command.plan else {
            guard command.shard == nil else { throw ExportError.validation("--shard needs --plan") }
            return nil
        }
        guard let argument = command.shard else {
            throw ExportError.validation("--plan needs --shard K (0-based) or --shard auto")
        }
        let plan = try ShardPlan(parsing: try TextFile.read(path), what: path)
        if let name = command.jobName, name != plan.jobName.rawValue {
            throw ExportError.validation("--job-name \(name) differs from the plan's job \(plan.jobName)")
        }
        if let text = command.exportTimestamp, try ExportTimestamp(parsing: text) != plan.timestamp {
            throw ExportError.validation(
                "--export-timestamp \(text) differs from the plan's \(plan.timestamp.iso8601)"
            )
        }
        let index = try ShardIndex.resolve(
            argument,
            environment: S3Configuration.processEnvironment(),
            shardCount: plan.shardCount
        )
        return (plan, index, plan.stagingPrefix(ofShard: index))
    }

    var formatName: String {
        switch format {
        case .csv: "CSV"
        case .parquet: "PARQUET"
        }
    }

    var codecName: String {
        switch format {
        case .csv(let compression): CSVFormat(compression: compression).codecName
        case .parquet(let codec): ParquetFormat(codec: codec).codecName
        }
    }

    /// Runs the export; `meter`, when given, counts the rows read and written for a progress line.
    func execute(meter: ProgressMeter?) async throws -> ExportResult {
        switch destination {
        case .local(let path):
            let jobTag = "\(configuration.jobName.rawValue)_\(configuration.timestamp.fileNameForm)"
            return try await execute(sink: LocalDirectorySink(root: path, jobTag: jobTag), meter: meter)
        case .s3(let location, let configuration):
            return try await execute(sink: S3Sink(location: location, configuration: configuration), meter: meter)
        }
    }

    private func execute<Sink: StagingSink>(sink: Sink, meter: ProgressMeter?) async throws -> ExportResult {
        switch format {
        case .csv(let compression):
            return try await run(sink: sink, format: CSVFormat(compression: compression), meter: meter)
        case .parquet(let codec):
            return try await run(sink: sink, format: ParquetFormat(codec: codec), meter: meter)
        }
    }

    private func run<Sink: StagingSink, Format: TableFormat>(
        sink: Sink,
        format: Format,
        meter: ProgressMeter?
    ) async throws -> ExportResult {
        let progress: (ExportProgress) -> Void = { meter?.recordWritten($0) }
        if let shard {
            let exporter = ShardExporter(
                sink: sink,
                format: format,
                configuration: configuration,
                plan: shard.plan,
                shard: shard.index
            )
            let input = self.input
            return try await exporter.export(from: { try input.take(metered: meter) }, progress: progress).result
        }
        let exporter = BacktestExporter(sink: sink, format: format, configuration: configuration)
        let input = self.input
        // Read once: the exporter orders any input in one pass, so a pipe works as a file does.
        return try await exporter.export(from: { try input.take(metered: meter) }, progress: progress)
    }
}

extension Substring {
    /// Without leading and trailing spaces.
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
