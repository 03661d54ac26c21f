import ExportCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The eight operations over the jobs of one server, and the runner that executes them.
///
/// State: every job and tag lives in this actor's memory (at most ``maxJobs`` jobs), written
/// through to the ``JobStore`` before an answer is given, so a restart finds them. Each status
/// change is decided by ``JobStateMachine`` and scheduled by ``JobQueue``; an export runs in a
/// task of its own on a thread of its own (``DispatchTaskExecutor``), so API answers never wait
/// for one. A mutation computes its new state without suspending, then persists it, so two
/// calls never interleave half-way.
public actor JobService {
    public static let maxJobs = 1000
    public static let maxTagsPerResource = 50

    private let store: JobStore
    private let names: ResourceNames
    private let predictors: [String: Predictor]
    private let executor: any JobExecutor
    private let maxJobs: Int
    private let now: @Sendable () -> Double

    private var jobs: [String: JobRecord] = [:]
    /// Job ARNs in creation order.
    private var order: [String] = []
    private var tags: [String: [(key: String, value: String)]] = [:]
    private var nextSequence: Int64 = 1
    private var queue: JobQueue<String>
    private var runs: [String: (task: Task<Void, Never>, signal: StopSignal)] = [:]
    private var shuttingDown = false

    public init(
        store: JobStore,
        names: ResourceNames,
        predictors: [Predictor],
        executor: any JobExecutor,
        maxRunning: Int = 3,
        maxJobs: Int = JobService.maxJobs,
        now: @escaping @Sendable () -> Double = JobService.wallClock
    ) {
        self.store = store
        self.names = names
        self.predictors = Dictionary(predictors.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.executor = executor
        self.maxJobs = maxJobs
        self.now = now
        self.queue = JobQueue(maxRunning: maxRunning)
    }

    /// Epoch seconds from the real-time clock, to the microsecond.
    public static let wallClock: @Sendable () -> Double = {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec / 1000) / 1e6
    }

    /// Loads the stored jobs and runs again, from the start, those that were pending or running
    /// when the server stopped (in creation order); a job that was stopping is settled as stopped.
    public func start() async throws {
        let loaded = try store.loadAll()
        for job in loaded.jobs {
            jobs[job.arn] = job
            order.append(job.arn)
            nextSequence = max(nextSequence, job.sequence + 1)
        }
        tags = loaded.tags
        for arn in order {
            guard let job = jobs[arn], !job.status.isFinal else { continue }
            let transition = try JobStateMachine.transition(from: job.status, on: .serverRestarted)
            try await apply(transition, to: arn)
        }
    }

    /// Stops taking new work: running exports are signalled to stop but their jobs keep their
    /// status in the store, to be run again at the next start. Waits for the tasks to end.
    public func shutdown() async {
        shuttingDown = true
        let current = runs.values
        for run in current {
            run.signal.raise()
            run.task.cancel()
        }
        for run in current { await run.task.value }
    }

    // MARK: Operations

    public func create(
        _ request: ForecastShapes.CreateRequest
    ) async throws(ForecastError)
        -> ForecastShapes
        .CreateResponse
    {
        let name = try RequestValidator.name(
            request.PredictorBacktestExportJobName,
            member: "PredictorBacktestExportJobName"
        )
        let predictorArn = try RequestValidator.forecastArn(request.PredictorArn, member: "PredictorArn")
        guard let destination = request.Destination else { throw .invalidInput("Destination is required") }
        guard let s3 = destination.S3Config else { throw .invalidInput("Destination.S3Config is required") }
        let path = try RequestValidator.s3Path(s3.Path)
        let roleArn = try RequestValidator.roleArn(s3.RoleArn)
        let kmsKeyArn = try RequestValidator.kmsKeyArn(s3.KMSKeyArn)
        let format = try RequestValidator.format(request.Format)
        let newTags = try RequestValidator.tags(request.Tags, required: false)
        guard Set(newTags.map { $0.key }).count <= Self.maxTagsPerResource else {
            throw .limitExceeded("A resource can have at most \(Self.maxTagsPerResource) tags (got \(newTags.count)).")
        }
        try executor.validateDestination(path)
        guard let predictorName = names.predictorName(fromArn: predictorArn), predictors[predictorName] != nil else {
            throw .notFound(
                "No predictor with ARN \(predictorArn) exists on this server (predictors: "
                    + predictors.keys.sorted().map(names.predictorArn).joined(separator: ", ") + ")."
            )
        }
        let arn = names.jobArn(predictor: predictorName, job: name)
        guard jobs[arn] == nil else {
            throw .alreadyExists(
                "A predictor backtest export job named \(name) already exists for predictor \(predictorName) (\(arn)). "
                    + "Try again with a different name."
            )
        }
        guard jobs.count < maxJobs else {
            throw .limitExceeded(
                "There are already \(jobs.count) predictor backtest export jobs, the limit is \(maxJobs): delete some first."
            )
        }
        let time = now()
        let job = JobRecord(
            arn: arn,
            name: name,
            predictorName: predictorName,
            predictorArn: predictorArn,
            destinationPath: path,
            roleArn: roleArn,
            kmsKeyArn: kmsKeyArn,
            format: format,
            status: .createPending,
            message: nil,
            creationTime: time,
            lastModificationTime: time,
            exportEpochSeconds: nil,
            sequence: nextSequence
        )
        nextSequence += 1
        jobs[arn] = job
        order.append(arn)
        let merged = Self.merge([], newTags)
        tags[arn] = merged.isEmpty ? nil : merged
        do {
            try await store.insert(job, tags: merged)
        } catch {
            jobs[arn] = nil
            order.removeAll { $0 == arn }
            tags[arn] = nil
            throw Self.storeFailure(error)
        }
        let actions = queue.enqueue(arn, destination: Self.destinationKey(of: job))
        try await perform(actions)
        return ForecastShapes.CreateResponse(PredictorBacktestExportJobArn: arn)
    }

    public func describe(
        _ request: ForecastShapes.JobArnRequest
    ) throws(ForecastError)
        -> ForecastShapes
        .DescribeResponse
    {
        let job = try existingJob(request.PredictorBacktestExportJobArn, member: "PredictorBacktestExportJobArn")
        return ForecastShapes.DescribeResponse(
            PredictorBacktestExportJobArn: job.arn,
            PredictorBacktestExportJobName: job.name,
            PredictorArn: job.predictorArn,
            Destination: job.destination,
            Message: job.message,
            Status: job.status.rawValue,
            CreationTime: job.creationTime,
            LastModificationTime: job.lastModificationTime,
            Format: job.format
        )
    }

    public func list(_ request: ForecastShapes.ListRequest) throws(ForecastError) -> ForecastShapes.ListResponse {
        let limit = try RequestValidator.maxResults(request.MaxResults)
        let filters = try RequestValidator.filters(request.Filters)
        var after: Int64 = 0
        if let token = try RequestValidator.nextToken(request.NextToken) {
            guard let sequence = ListToken.decode(token) else {
                throw .invalidNextToken(
                    "The NextToken '\(token)' is not valid: pass the NextToken of a previous answer."
                )
            }
            after = sequence
        }
        var page: [ForecastShapes.Summary] = []
        var more = false
        var last: Int64 = after
        for arn in order {
            guard let job = jobs[arn], job.sequence > after, Self.matches(job, filters) else { continue }
            if page.count == limit {
                more = true
                break
            }
            page.append(
                ForecastShapes.Summary(
                    PredictorBacktestExportJobArn: job.arn,
                    PredictorBacktestExportJobName: job.name,
                    Destination: job.destination,
                    Status: job.status.rawValue,
                    Message: job.message,
                    CreationTime: job.creationTime,
                    LastModificationTime: job.lastModificationTime
                )
            )
            last = job.sequence
        }
        return ForecastShapes.ListResponse(
            PredictorBacktestExportJobs: page,
            NextToken: more ? ListToken.encode(last) : nil
        )
    }

    public func delete(_ request: ForecastShapes.JobArnRequest) async throws(ForecastError) {
        let job = try existingJob(request.PredictorBacktestExportJobArn, member: "PredictorBacktestExportJobArn")
        guard job.status.isFinal else {
            throw .inUse(
                "The predictor backtest export job \(job.arn) is \(job.status.rawValue): it can be deleted once it is "
                    + "ACTIVE, CREATE_FAILED or CREATE_STOPPED (StopResource stops it)."
            )
        }
        jobs[job.arn] = nil
        order.removeAll { $0 == job.arn }
        tags[job.arn] = nil
        do {
            try await store.delete(arn: job.arn)
        } catch {
            throw Self.storeFailure(error)
        }
    }

    public func stop(_ request: ForecastShapes.ResourceArnRequest) async throws(ForecastError) {
        let arn = try RequestValidator.forecastArn(request.ResourceArn, member: "ResourceArn")
        if names.predictorName(fromArn: arn).map({ predictors[$0] != nil }) == true {
            throw .invalidInput("\(arn) is a predictor: StopResource stops predictor backtest export jobs here.")
        }
        let job = try existingJob(arn, member: "ResourceArn")
        let transition: JobStateMachine.Transition
        do {
            transition = try JobStateMachine.transition(from: job.status, on: .stopRequested)
        } catch {
            throw .invalidInput(
                "The predictor backtest export job \(job.arn) is \(job.status.rawValue) and cannot be stopped."
            )
        }
        try await apply(transition, to: job.arn)
    }

    public func tagResource(_ request: ForecastShapes.TagResourceRequest) async throws(ForecastError) {
        let arn = try existingResource(request.ResourceArn)
        let newTags = try RequestValidator.tags(request.Tags, required: true)
        let merged = Self.merge(tags[arn] ?? [], newTags)
        guard merged.count <= Self.maxTagsPerResource else {
            throw .limitExceeded(
                "\(arn) would have \(merged.count) tags: a resource can have at most \(Self.maxTagsPerResource) tags."
            )
        }
        try await setTags(arn, merged)
    }

    public func untagResource(_ request: ForecastShapes.UntagResourceRequest) async throws(ForecastError) {
        let arn = try existingResource(request.ResourceArn)
        let keys = Set(try RequestValidator.tagKeys(request.TagKeys))
        try await setTags(arn, (tags[arn] ?? []).filter { !keys.contains($0.key) })
    }

    public func listTags(
        _ request: ForecastShapes.ResourceArnRequest
    ) throws(ForecastError)
        -> ForecastShapes
        .ListTagsResponse
    {
        let arn = try existingResource(request.ResourceArn)
        return ForecastShapes.ListTagsResponse(
            Tags: (tags[arn] ?? []).map { ForecastShapes.Tag(Key: $0.key, Value: $0.value) }
        )
    }

    // MARK: Running

    /// Records a transition (memory, then the store) and carries out its actions.
    private func apply(_ transition: JobStateMachine.Transition, to arn: String) async throws(ForecastError) {
        guard var job = jobs[arn] else { return }
        job.status = transition.status
        job.message = transition.message
        job.lastModificationTime = now()
        if job.status == .createInProgress, job.exportEpochSeconds == nil {
            job.exportEpochSeconds = Int64(job.lastModificationTime.rounded(.down))
        }
        jobs[arn] = job
        do {
            try await store.update(job)
        } catch {
            throw Self.storeFailure(error)
        }
        for action in transition.actions {
            let next: [JobQueue<String>.Action]
            switch action {
            case .enqueue: next = queue.enqueue(arn, destination: Self.destinationKey(of: job))
            case .dequeue, .cancelExport: next = queue.remove(arn)
            }
            try await perform(next)
        }
    }

    /// What makes two jobs' destinations one for ``JobQueue`` (`s3://b/p` and `s3://b/p/` are one):
    /// jobs into one destination run one after another instead of failing on its lock.
    static func destinationKey(of job: JobRecord) -> String {
        var path = Substring(job.destinationPath)
        while path.hasSuffix("/") { path.removeLast() }
        return String(path)
    }

    private func perform(_ actions: [JobQueue<String>.Action]) async throws(ForecastError) {
        for action in actions {
            switch action {
            case .start(let arn): try await startExport(arn)
            case .cancel(let arn):
                if let run = runs[arn] {
                    run.signal.raise()
                    run.task.cancel()
                }
            }
        }
    }

    private func startExport(_ arn: String) async throws(ForecastError) {
        // The job may have been stopped or deleted since it was queued.
        guard !shuttingDown, let job = jobs[arn], job.status == .createPending,
            let predictor = predictors[job.predictorName]
        else {
            if let job = jobs[arn], job.status == .createPending, predictors[job.predictorName] == nil {
                try await apply(
                    Self.failure("The predictor \(job.predictorName) is no longer registered with this server."),
                    to: arn
                )
            }
            let next = queue.finished(arn)
            try await perform(next)
            return
        }
        try await apply(JobStateMachine.Transition(status: .createInProgress), to: arn)
        guard let started = jobs[arn], let epoch = started.exportEpochSeconds else { return }
        let exportJob: ExportJob
        do {
            exportJob = ExportJob(
                jobName: try JobName(started.name),
                predictor: predictor,
                destinationPath: started.destinationPath,
                kmsKeyArn: started.kmsKeyArn,
                format: started.format,
                timestamp: ExportTimestamp(epochSeconds: epoch)
            )
        } catch {
            try await apply(Self.failure(error.message), to: arn)
            let next = queue.finished(arn)
            try await perform(next)
            return
        }
        let signal = StopSignal()
        let executor = self.executor
        let threadExecutor = DispatchTaskExecutor(label: "export \(started.name)")
        let task = Task(executorPreference: threadExecutor) { [weak self] in
            var failure: String?
            do {
                try await executor.run(exportJob, signal: signal)
            } catch let error as ExportError {
                failure = error.description
            } catch {
                failure = "\(error)"
            }
            await self?.exportEnded(arn, failure: failure, stopped: signal.isRaised)
        }
        runs[arn] = (task, signal)
    }

    private func exportEnded(_ arn: String, failure: String?, stopped: Bool) async {
        runs[arn] = nil
        guard !shuttingDown else { return }
        if let job = jobs[arn] {
            let event: JobStateMachine.Event
            if job.status == .createStopping {
                event = .exportEnded(succeeded: failure == nil)
            } else if let failure {
                event = .failed(Self.userMessage(failure))
            } else {
                event = .succeeded
            }
            if let transition = try? JobStateMachine.transition(from: job.status, on: event) {
                try? await apply(transition, to: arn)
            }
        }
        let next = queue.finished(arn)
        try? await perform(next)
    }

    // MARK: Helpers

    private static func failure(_ message: String) -> JobStateMachine.Transition {
        JobStateMachine.Transition(status: .createFailed, message: message)
    }

    private static func userMessage(_ failure: String) -> String {
        "The export failed: \(failure)"
    }

    private func existingJob(_ value: String?, member: String) throws(ForecastError) -> JobRecord {
        let arn = try RequestValidator.forecastArn(value, member: member)
        guard let job = jobs[arn] else {
            throw .notFound("No predictor backtest export job with ARN \(arn) exists.")
        }
        return job
    }

    /// A job or predictor ARN of this server (the resources that carry tags).
    private func existingResource(_ value: String?) throws(ForecastError) -> String {
        let arn = try RequestValidator.forecastArn(value, member: "ResourceArn")
        if jobs[arn] != nil { return arn }
        if let name = names.predictorName(fromArn: arn), predictors[name] != nil { return arn }
        throw .notFound("No resource with ARN \(arn) exists.")
    }

    private func setTags(_ arn: String, _ list: [(key: String, value: String)]) async throws(ForecastError) {
        tags[arn] = list.isEmpty ? nil : list
        do {
            try await store.setTags(arn: arn, tags: list)
        } catch {
            throw Self.storeFailure(error)
        }
    }

    /// `existing` with `new` applied: a known key takes the new value in place, others go last.
    static func merge(
        _ existing: [(key: String, value: String)],
        _ new: [(key: String, value: String)]
    ) -> [(key: String, value: String)] {
        var result = existing
        for tag in new {
            if let index = result.firstIndex(where: { $0.key == tag.key }) {
                result[index].value = tag.value
            } else {
                result.append(tag)
            }
        }
        return result
    }

    private static func matches(_ job: JobRecord, _ filters: [JobFilter]) -> Bool {
        filters.allSatisfy { filter in
            let value = filter.field == .status ? job.status.rawValue : job.predictorArn
            return (value == filter.value) != filter.negated
        }
    }

    private static func storeFailure(_ error: any Error) -> ForecastError {
        if let error = error as? ForecastError { return error }
        return .internalFailure("The job store failed: \(error)")
    }
}

/// `NextToken` of a listing: the creation sequence of the last job returned, as `v1.<hex>`.
enum ListToken {
    static func encode(_ sequence: Int64) -> String { "v1." + String(sequence, radix: 16) }

    static func decode(_ token: String) -> Int64? {
        guard token.hasPrefix("v1."), let value = Int64(token.dropFirst(3), radix: 16), value >= 0 else { return nil }
        return value
    }
}
