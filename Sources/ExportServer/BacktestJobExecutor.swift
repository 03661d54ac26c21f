import BacktestExport
import ExportCSV
import ExportCore
import ExportParquet
public import ExportS3
import ExportSinks
import NIOPosix

/// Runs a job with the library exactly as `backtest-export export` does with its defaults (CSV
/// uncompressed or Parquet with snappy; 128 MiB parts; 1 GiB grouping memory; item-level WAPE as
/// the absolute error sum (Forecast's files);
/// the predictor's history and frequency), so the files are byte for byte the CLI's for the
/// same input and timestamp.
///
/// Destinations: with an S3 configuration, `s3://b/p` is written to that S3 endpoint (S3Sink,
/// `KMSKeyArn` as SSE-KMS); without one, to the local folder `<bucketRoot>/b/p`.
public struct BacktestJobExecutor: JobExecutor {
    public var bucketRoot: String
    public var s3: S3Configuration?
    /// Where spilled runs go (default: `$TMPDIR` or `/tmp`).
    public var temporaryDirectory: String?

    public init(bucketRoot: String, s3: S3Configuration?, temporaryDirectory: String? = nil) {
        self.bucketRoot = bucketRoot
        self.s3 = s3
        self.temporaryDirectory = temporaryDirectory
    }

    public func validateDestination(_ path: String) throws(ForecastError) {
        let location: S3Location
        do {
            location = try S3Location(parsing: path)
        } catch {
            throw .invalidInput("S3Config.Path '\(path)': \(error.message)")
        }
        let segments = location.prefix.split(separator: "/")
        guard !location.bucket.contains(".."), !segments.contains(".."), !segments.contains(".") else {
            throw .invalidInput("S3Config.Path '\(path)' must not contain '.' or '..' segments")
        }
    }

    /// The local folder of `s3://b/p` when no S3 endpoint is configured.
    public func localFolder(for path: String) throws -> String {
        let location = try S3Location(parsing: path)
        var root = bucketRoot
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        return root + "/" + location.bucket + (location.prefix.isEmpty ? "" : "/" + location.prefix)
    }

    public func run(_ job: ExportJob, signal: StopSignal) async throws {
        // Reading the history file blocks: on NIO's thread pool, not a thread of Swift's pool.
        let configuration = try await NIOThreadPool.singleton.runIfActive { try self.configuration(for: job) }
        if var s3 {
            if let key = job.kmsKeyArn { s3.kmsKeyId = key }
            let sink = try S3Sink(location: try S3Location(parsing: job.destinationPath), configuration: s3)
            try await run(job, sink: StoppableSink(base: sink, signal: signal), configuration, signal)
        } else {
            // The exporter removes what killed runs of the job left (PartSink.removeLeftovers).
            let sink = LocalDirectorySink(root: try localFolder(for: job.destinationPath))
            try await run(job, sink: StoppableSink(base: sink, signal: signal), configuration, signal)
        }
    }

    private func configuration(for job: ExportJob) throws -> ExportConfiguration {
        var metrics = MetricsOptions()
        metrics.frequency = job.predictor.frequency
        if let history = job.predictor.history {
            let schema = try BacktestCSVReader(path: job.predictor.input).schema
            var reader = try TargetCSVReader(path: history, expectedDimensions: schema.dimensions)
            var target = TargetHistory()
            while let batch = try reader.nextBatch() { target.add(batch) }
            try target.validate(source: "'\(history)'")
            metrics.history = target
        }
        return ExportConfiguration(
            jobName: job.jobName,
            timestamp: job.timestamp,
            metrics: metrics,
            grouping: GroupingOptions(temporaryDirectory: temporaryDirectory)
        )
    }

    private func run<Sink: PartSink>(
        _ job: ExportJob,
        sink: Sink,
        _ configuration: ExportConfiguration,
        _ signal: StopSignal
    ) async throws {
        switch job.format {
        case "PARQUET":
            try await export(job, sink, ParquetFormat(codec: .snappy), configuration, signal)
        default:
            try await export(job, sink, CSVFormat(compression: .none), configuration, signal)
        }
    }

    private func export<Sink: PartSink, Format: TableFormat>(
        _ job: ExportJob,
        _ sink: Sink,
        _ format: Format,
        _ configuration: ExportConfiguration,
        _ signal: StopSignal
    ) async throws {
        let exporter = BacktestExporter(sink: sink, format: format, configuration: configuration)
        let input = job.predictor.input
        _ = try await exporter.export(from: {
            StoppableSource(base: try BacktestCSVReader(path: input), signal: signal)
        })
    }
}
