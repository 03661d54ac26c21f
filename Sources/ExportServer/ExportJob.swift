public import ExportCore

/// Everything one export needs: the job as asked, its predictor, and the export timestamp.
public struct ExportJob: Sendable {
    public var jobName: JobName
    public var predictor: Predictor
    /// `s3://bucket/prefix`.
    public var destinationPath: String
    public var kmsKeyArn: String?
    /// `CSV` or `PARQUET`.
    public var format: String
    public var timestamp: ExportTimestamp

    public init(
        jobName: JobName,
        predictor: Predictor,
        destinationPath: String,
        kmsKeyArn: String?,
        format: String,
        timestamp: ExportTimestamp
    ) {
        self.jobName = jobName
        self.predictor = predictor
        self.destinationPath = destinationPath
        self.kmsKeyArn = kmsKeyArn
        self.format = format
        self.timestamp = timestamp
    }
}

/// Runs one export to its end. The server calls it in a task of its own on a thread of its own;
/// it must stop soon after `signal` is raised, without writing `_SUCCESS`.
public protocol JobExecutor: Sendable {
    /// Checks a destination when a job is created (nothing is written), throwing
    /// `InvalidInputException` if it can never be written.
    func validateDestination(_ path: String) throws(ForecastError)

    /// Writes the export; throws a message a user can act on.
    func run(_ job: ExportJob, signal: StopSignal) async throws
}
