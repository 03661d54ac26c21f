/// One export job as stored: what was asked, where it stands, and when.
public struct JobRecord: Sendable, Equatable {
    public var arn: String
    public var name: String
    public var predictorName: String
    public var predictorArn: String
    public var destinationPath: String
    public var roleArn: String
    public var kmsKeyArn: String?
    /// `CSV` or `PARQUET`.
    public var format: String
    public var status: JobStatus
    public var message: String?
    /// Epoch seconds.
    public var creationTime: Double
    public var lastModificationTime: Double
    /// The `ExportTimestamp` of the files (whole epoch seconds), set when the job first starts
    /// and kept for a rerun after a restart, so that a rerun rewrites the very same files.
    public var exportEpochSeconds: Int64?
    /// Creation order (the store's row id): the order of listing and of the run queue.
    public var sequence: Int64

    public init(
        arn: String,
        name: String,
        predictorName: String,
        predictorArn: String,
        destinationPath: String,
        roleArn: String,
        kmsKeyArn: String?,
        format: String,
        status: JobStatus,
        message: String?,
        creationTime: Double,
        lastModificationTime: Double,
        exportEpochSeconds: Int64?,
        sequence: Int64
    ) {
        self.arn = arn
        self.name = name
        self.predictorName = predictorName
        self.predictorArn = predictorArn
        self.destinationPath = destinationPath
        self.roleArn = roleArn
        self.kmsKeyArn = kmsKeyArn
        self.format = format
        self.status = status
        self.message = message
        self.creationTime = creationTime
        self.lastModificationTime = lastModificationTime
        self.exportEpochSeconds = exportEpochSeconds
        self.sequence = sequence
    }

    var destination: ForecastShapes.DataDestination {
        ForecastShapes.DataDestination(
            S3Config: ForecastShapes.S3Config(Path: destinationPath, RoleArn: roleArn, KMSKeyArn: kmsKeyArn)
        )
    }
}
