import ExportS3
import ExportServer
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An executor that records the jobs it ran and finishes each one when the test says so.
final class ScriptedExecutor: JobExecutor {
    enum Outcome: Sendable {
        case succeed
        case fail(String)
    }

    private let state = Mutex<(started: [String], gates: [String: Outcome])>(([], [:]))

    func validateDestination(_ path: String) throws(ForecastError) {
        if path.contains("..") { throw .invalidInput("S3Config.Path '\(path)' must not contain '..'") }
    }

    var started: [String] { state.withLock { $0.started } }

    /// Lets the running export of `job` end with `outcome`.
    func finish(_ job: String, _ outcome: Outcome = .succeed) {
        state.withLock { $0.gates[job] = outcome }
    }

    func run(_ job: ExportJob, signal: StopSignal) async throws {
        state.withLock { $0.started.append(job.jobName.rawValue) }
        while true {
            try signal.check()
            if let outcome = state.withLock({ $0.gates[job.jobName.rawValue] }) {
                if case .fail(let message) = outcome { throw TestFailure(message: message) }
                return
            }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    struct TestFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

func temporaryDirectory() -> String {
    var template = Array("/tmp/export-server-test-XXXXXX".utf8CString)
    return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
}

@Suite struct JobServiceTests {
    static let names = ResourceNames(region: "us-east-1", accountId: "123456789012")
    static let predictor = Predictor(name: "P", input: "/dev/null")
    let directory = temporaryDirectory()

    func makeService(_ executor: ScriptedExecutor, maxRunning: Int = 3, maxJobs: Int = 1000) throws -> JobService {
        JobService(
            store: try JobStore(path: directory + "/jobs.sqlite"),
            names: Self.names,
            predictors: [Self.predictor],
            executor: executor,
            maxRunning: maxRunning,
            maxJobs: maxJobs
        )
    }

    static func create(
        _ name: String,
        format: String? = nil,
        tags: [ForecastShapes.Tag]? = nil,
        path: String? = nil
    )
        -> ForecastShapes
        .CreateRequest
    {
        ForecastShapes.CreateRequest(
            PredictorBacktestExportJobName: name,
            PredictorArn: names.predictorArn("P"),
            Destination: .init(
                S3Config: .init(Path: path ?? "s3://b/\(name)", RoleArn: "arn:aws:iam::123456789012:role/R")
            ),
            Tags: tags,
            Format: format
        )
    }

    func status(_ service: JobService, _ name: String) async throws -> String {
        try await service.describe(.init(PredictorBacktestExportJobArn: Self.names.jobArn(predictor: "P", job: name)))
            .Status
    }

    func waitFor(_ service: JobService, _ name: String, _ expected: String) async throws {
        for _ in 0..<2000 {
            if try await status(service, name) == expected { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        Issue.record("\(name) never reached \(expected) (is \(try await status(service, name)))")
    }

    @Test func aJobRunsToActive() async throws {
        let executor = ScriptedExecutor()
        let service = try makeService(executor)
        try await service.start()
        let arn = try await service.create(Self.create("J1", format: "PARQUET")).PredictorBacktestExportJobArn
        #expect(arn == "arn:aws:forecast:us-east-1:123456789012:predictor-backtest-export-job/P/J1")
        try await waitFor(service, "J1", "CREATE_IN_PROGRESS")
        executor.finish("J1")
        try await waitFor(service, "J1", "ACTIVE")
        let job = try await service.describe(.init(PredictorBacktestExportJobArn: arn))
        #expect(job.Format == "PARQUET")
        #expect(job.LastModificationTime >= job.CreationTime)
        #expect(job.Message == nil)
    }

    @Test func aFailedExportKeepsItsMessage() async throws {
        let executor = ScriptedExecutor()
        let service = try makeService(executor)
        try await service.start()
        _ = try await service.create(Self.create("J1"))
        try await waitFor(service, "J1", "CREATE_IN_PROGRESS")
        executor.finish("J1", .fail("input.csv:7:3: not a number"))
        try await waitFor(service, "J1", "CREATE_FAILED")
        let job = try await service.describe(
            .init(PredictorBacktestExportJobArn: Self.names.jobArn(predictor: "P", job: "J1"))
        )
        #expect(job.Message?.contains("input.csv:7:3: not a number") == true)
    }

    @Test func atMostMaxRunningRunAtOnce() async throws {
        let executor = ScriptedExecutor()
        let service = try makeService(executor, maxRunning: 2)
        try await service.start()
        for name in ["A", "B", "C"] { _ = try await service.create(Self.create(name)) }
        try await waitFor(service, "B", "CREATE_IN_PROGRESS")
        #expect(try await status(service, "C") == "CREATE_PENDING")
        executor.finish("A")
        try await waitFor(service, "C", "CREATE_IN_PROGRESS")
        executor.finish("B")
        executor.finish("C")
        try await waitFor(service, "C", "ACTIVE")
        #expect(executor.started == ["A", "B", "C"])
    }

    /// Two jobs into one path (as Amazon Forecast allows) both run, one after the other: run
    /// together, the destination's lock would fail the second. Other paths do not wait.
    @Test func jobsIntoOnePathRunOneAfterAnother() async throws {
        let executor = ScriptedExecutor()
        let service = try makeService(executor, maxRunning: 3)
        try await service.start()
        _ = try await service.create(Self.create("A", path: "s3://b/shared"))
        _ = try await service.create(Self.create("B", path: "s3://b/shared/"))
        _ = try await service.create(Self.create("C", path: "s3://b/other"))
        try await waitFor(service, "C", "CREATE_IN_PROGRESS")
        try await waitFor(service, "A", "CREATE_IN_PROGRESS")
        #expect(try await status(service, "B") == "CREATE_PENDING")
        executor.finish("A")
        try await waitFor(service, "B", "CREATE_IN_PROGRESS")
        executor.finish("B")
        executor.finish("C")
        try await waitFor(service, "B", "ACTIVE")
        try await waitFor(service, "C", "ACTIVE")
        #expect(executor.started.firstIndex(of: "A")! < executor.started.firstIndex(of: "B")!)
    }

    @Test func stopPendingAndRunningJobs() async throws {
        let executor = ScriptedExecutor()
        let service = try makeService(executor, maxRunning: 1)
        try await service.start()
        _ = try await service.create(Self.create("A"))
        _ = try await service.create(Self.create("B"))
        try await waitFor(service, "A", "CREATE_IN_PROGRESS")
        try await service.stop(.init(ResourceArn: Self.names.jobArn(predictor: "P", job: "B")))
        #expect(try await status(service, "B") == "CREATE_STOPPED")
        try await service.stop(.init(ResourceArn: Self.names.jobArn(predictor: "P", job: "A")))
        try await waitFor(service, "A", "CREATE_STOPPED")
        #expect(executor.started == ["A"])
        await #expect(throws: ForecastError.self) {
            try await service.stop(.init(ResourceArn: Self.names.jobArn(predictor: "P", job: "A")))
        }
    }

    @Test func errorsOfTheModel() async throws {
        let executor = ScriptedExecutor()
        let service = try makeService(executor, maxJobs: 2)
        try await service.start()
        func type(_ body: () async throws -> Void) async -> String? {
            do {
                try await body()
                return nil
            } catch let error as ForecastError {
                return error.type
            } catch {
                return "\(error)"
            }
        }
        _ = try await service.create(Self.create("A"))
        #expect(await type { _ = try await service.create(Self.create("A")) } == "ResourceAlreadyExistsException")
        var unknown = Self.create("X")
        unknown.PredictorArn = Self.names.predictorArn("Nope")
        #expect(await type { _ = try await service.create(unknown) } == "ResourceNotFoundException")
        #expect(
            await type {
                try await service.delete(
                    .init(PredictorBacktestExportJobArn: Self.names.jobArn(predictor: "P", job: "A"))
                )
            } == "ResourceInUseException"
        )
        _ = try await service.create(Self.create("B"))
        #expect(await type { _ = try await service.create(Self.create("C")) } == "LimitExceededException")
        #expect(await type { _ = try await service.list(.init(NextToken: "garbage")) } == "InvalidNextTokenException")
        var traversal = Self.create("D")
        traversal.Destination?.S3Config?.Path = "s3://b/../../etc"
        #expect(await type { _ = try await service.create(traversal) } == "InvalidInputException")
        let many = (0..<51).map { ForecastShapes.Tag(Key: "k\($0)", Value: "v") }
        let arnA = Self.names.jobArn(predictor: "P", job: "A")
        #expect(
            await type { try await service.tagResource(.init(ResourceArn: arnA, Tags: many)) }
                == "LimitExceededException"
        )
        await service.shutdown()
    }

    @Test func listFiltersAndPages() async throws {
        let executor = ScriptedExecutor()
        let service = try makeService(executor, maxRunning: 1)
        try await service.start()
        for name in ["A", "B", "C"] { _ = try await service.create(Self.create(name)) }
        executor.finish("A")
        try await waitFor(service, "A", "ACTIVE")
        var seen: [String] = []
        var token: String?
        repeat {
            let page = try await service.list(.init(NextToken: token, MaxResults: 1))
            #expect(page.PredictorBacktestExportJobs.count == 1)
            seen += page.PredictorBacktestExportJobs.map(\.PredictorBacktestExportJobName)
            token = page.NextToken
        } while token != nil
        #expect(seen == ["A", "B", "C"])
        let active = try await service.list(.init(Filters: [.init(Key: "Status", Value: "ACTIVE", Condition: "IS")]))
        #expect(active.PredictorBacktestExportJobs.map(\.PredictorBacktestExportJobName) == ["A"])
        let notActive = try await service.list(
            .init(Filters: [.init(Key: "Status", Value: "ACTIVE", Condition: "IS_NOT")])
        )
        #expect(notActive.PredictorBacktestExportJobs.map(\.PredictorBacktestExportJobName) == ["B", "C"])
        let other = try await service.list(
            .init(Filters: [.init(Key: "PredictorArn", Value: Self.names.predictorArn("Q"), Condition: "IS")])
        )
        #expect(other.PredictorBacktestExportJobs.isEmpty)
        executor.finish("B")
        executor.finish("C")
        try await waitFor(service, "C", "ACTIVE")
    }

    @Test func tagsMergeAndSurviveARestart() async throws {
        let executor = ScriptedExecutor()
        let arn = Self.names.jobArn(predictor: "P", job: "A")
        do {
            let service = try makeService(executor)
            try await service.start()
            _ = try await service.create(
                Self.create("A", tags: [.init(Key: "a", Value: "1"), .init(Key: "b", Value: "2")])
            )
            try await service.tagResource(
                .init(ResourceArn: arn, Tags: [.init(Key: "b", Value: "3"), .init(Key: "c", Value: "4")])
            )
            try await service.untagResource(.init(ResourceArn: arn, TagKeys: ["a"]))
            await service.shutdown()
        }
        let service = try makeService(executor)
        try await service.start()
        let tags = try await service.listTags(.init(ResourceArn: arn)).Tags
        #expect(tags == [.init(Key: "b", Value: "3"), .init(Key: "c", Value: "4")])
        executor.finish("A")
        try await waitFor(service, "A", "ACTIVE")
    }

    @Test func unfinishedJobsRunAgainAfterARestart() async throws {
        let executor = ScriptedExecutor()
        do {
            let service = try makeService(executor, maxRunning: 1)
            try await service.start()
            _ = try await service.create(Self.create("A"))
            _ = try await service.create(Self.create("B"))
            try await waitFor(service, "A", "CREATE_IN_PROGRESS")
            await service.shutdown()  // as a kill would leave them: A running, B pending
        }
        let store = try JobStore(path: directory + "/jobs.sqlite")
        #expect(try store.journalMode() == "wal")
        #expect(try store.loadAll().jobs.map(\.status) == [.createInProgress, .createPending])
        let service = try makeService(executor, maxRunning: 1)
        try await service.start()
        try await waitFor(service, "A", "CREATE_IN_PROGRESS")
        executor.finish("A")
        executor.finish("B")
        try await waitFor(service, "B", "ACTIVE")
        #expect(try await status(service, "A") == "ACTIVE")
        #expect(executor.started == ["A", "A", "B"])
    }
}
