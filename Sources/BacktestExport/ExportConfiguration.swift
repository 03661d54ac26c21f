public import ExportCore

/// Everything that shapes one export besides its input, its format and its destination.
public struct ExportConfiguration: Sendable {
    public var jobName: JobName
    /// The job's instant, in every part's name. Defaults to now (UTC, whole seconds) in the CLI.
    public var timestamp: ExportTimestamp
    /// A part closes at the first series boundary once it holds this many bytes. Default 128 MiB.
    public var maxPartBytes: Int?
    /// A part never holds more rows than this (see ``PartRoller``). Default: no limit.
    public var maxPartRows: Int?
    public var metrics: MetricsOptions
    public var grouping: GroupingOptions
    /// Skip the order check and the grouper: the caller promises that rows come in the export's
    /// order. For measuring what the check costs; input out of order then fails in the metrics
    /// engine or gives parts out of order. Default false.
    public var trustsInputOrder = false

    public init(
        jobName: JobName,
        timestamp: ExportTimestamp,
        maxPartBytes: Int? = 128 << 20,
        maxPartRows: Int? = nil,
        metrics: MetricsOptions = MetricsOptions(),
        grouping: GroupingOptions = GroupingOptions()
    ) {
        self.jobName = jobName
        self.timestamp = timestamp
        self.maxPartBytes = maxPartBytes
        self.maxPartRows = maxPartRows
        self.metrics = metrics
        self.grouping = grouping
    }

    /// Checks what the types cannot: part limits and the grouping budget are positive, the
    /// temporary folder is named. ``BacktestExporter`` calls this before it writes anything.
    ///
    /// - Throws: ``ExportError/Code/validation`` naming the setting and the value.
    public func validate() throws(ExportError) {
        if let maxPartBytes, maxPartBytes <= 0 {
            throw .validation("The part size limit must be positive, not \(maxPartBytes) bytes")
        }
        if let maxPartRows, maxPartRows <= 0 {
            throw .validation("The part row limit must be positive, not \(maxPartRows) rows")
        }
        if grouping.memoryLimit <= 0 {
            throw .validation("The grouping memory limit must be positive, not \(grouping.memoryLimit) bytes")
        }
        if grouping.batchSize <= 0 {
            throw .validation("The grouping batch size must be positive, not \(grouping.batchSize) rows")
        }
        if grouping.temporaryDirectory.isEmpty {
            throw .validation("The temporary folder for grouping must not be empty")
        }
    }
}
