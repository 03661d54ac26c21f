import ExportCore
import ExportServer
import ExportSinks
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct BacktestJobExecutorTests {
    /// A process id above Linux's `pid_max`: never alive.
    static let deadPid: Int32 = 99_999_999

    /// A job run again after its process was killed removes the hidden temporary parts the killed
    /// run left (through the exporter's `PartSink.removeLeftovers`, which `StoppableSink` passes
    /// on), keeps those of other jobs and of live processes, and publishes its export.
    @Test func aRunRemovesTheLeftoversOfKilledRunsOfItsJob() async throws {
        let root = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let input = root + "/input.csv"
        let csv = """
            item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean
            a,2024-01-01T00:00:00Z,1.5,2024-01-01T00:00:00,2024-01-02T00:00:00,1.0
            a,2024-01-02T00:00:00Z,2.5,2024-01-01T00:00:00,2024-01-02T00:00:00,2.0

            """
        #expect(FileManager.default.createFile(atPath: input, contents: Data(csv.utf8)))
        let folder = root + "/bucket/out"
        let table = folder + "/forecasted-values"
        try FileManager.default.createDirectory(atPath: table, withIntermediateDirectories: true)
        let tag = "Job_2023-05-06T07-08-09Z"
        let dead = ".Job_2023-05-06T07-08-09Z_part0.csv.\(tag).\(Self.deadPid).1f.tmp"
        let deadRoot = "._manifest.json.\(tag).\(Self.deadPid).2.tmp"
        let alive = ".Job_2023-05-06T07-08-09Z_part1.csv.\(tag).\(getpid()).3.tmp"
        let otherJob = ".Other_2023-05-06T07-08-09Z_part0.csv.Other_2023-05-06T07-08-09Z.\(Self.deadPid).4.tmp"
        for path in ["\(table)/\(dead)", "\(folder)/\(deadRoot)", "\(table)/\(alive)", "\(table)/\(otherJob)"] {
            #expect(FileManager.default.createFile(atPath: path, contents: Data("partial".utf8)))
        }
        // A live run's temporary part is registered (this process's, being written).
        let registration = TemporaryFiles.register("\(table)/\(alive)")
        defer { TemporaryFiles.unregister(registration) }
        let executor = BacktestJobExecutor(bucketRoot: root, s3: nil, temporaryDirectory: root)
        let job = ExportJob(
            jobName: try JobName("Job"),
            predictor: Predictor(name: "P", input: input),
            destinationPath: "s3://bucket/out",
            kmsKeyArn: nil,
            format: "CSV",
            timestamp: ExportTimestamp(epochSeconds: 1_709_802_300)
        )
        try await executor.run(job, signal: StopSignal())
        let hidden = try FileManager.default.contentsOfDirectory(atPath: table).filter { $0.hasPrefix(".") }
        #expect(hidden.sorted() == [alive, otherJob].sorted())
        #expect(!FileManager.default.fileExists(atPath: "\(folder)/\(deadRoot)"))
        #expect(FileManager.default.fileExists(atPath: "\(folder)/_SUCCESS"))
    }
}
