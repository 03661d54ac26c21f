import ExportCore
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import ExportSinks

/// The local sink under failing system calls, cancellation, and the leftovers of killed runs.
@Suite struct LocalDirectorySinkFaultTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("sink-fault-\(UUID().uuidString)").path

    func files(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
    }

    /// Counts `close` calls per descriptor; `failing` decides which calls report failure (after
    /// really closing, as Linux does).
    final class CloseLog: Sendable {
        let counts = Mutex<[Int32: Int]>([:])
        func record(_ fd: Int32) { counts.withLock { $0[fd, default: 0] += 1 } }
        var maximum: Int { counts.withLock { $0.values.max() ?? 0 } }
        var total: Int { counts.withLock { $0.values.reduce(0, +) } }
    }

    func sink(closeFails: Bool = false, renameFails: Bool = false, log: CloseLog) -> LocalDirectorySink {
        var calls = FileSystemCalls()
        calls.close = { fd in
            log.record(fd)
            let result = Glibc.close(fd)
            if closeFails {
                errno = EIO
                return -1
            }
            return result
        }
        if renameFails {
            calls.rename = { _, _ in
                errno = EXDEV
                return -1
            }
        }
        return LocalDirectorySink(root: root, jobTag: "Job_2024-01-01T00-00-00Z", threadPool: .singleton, calls: calls)
    }

    @Test func aFailedCloseClosesOnceAndLeavesNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = CloseLog()
        let sink = sink(closeFails: true, log: log)
        do {
            try await sink.withPart(named: "forecasted-values/a.csv") { try await $0.write(ByteBuffer(string: "abc")) }
            Issue.record("a failed close published the part")
        } catch let error as ExportError {
            #expect(error.code == .sink)
            #expect(error.message.contains("cannot close"))
            #expect(error.message.contains("forecasted-values/a.csv"))
        }
        #expect(log.total == 1)
        #expect(log.maximum == 1)
        #expect(files(root) == ["forecasted-values"])
    }

    @Test func aFailedRenameClosesOnceAndRemovesTheTemporaryFile() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = CloseLog()
        let sink = sink(renameFails: true, log: log)
        do {
            try await sink.withPart(named: "forecasted-values/a.csv") { try await $0.write(ByteBuffer(string: "abc")) }
            Issue.record("a failed rename published the part")
        } catch let error as ExportError {
            #expect(error.code == .sink)
            #expect(error.message.contains("cannot rename"))
        }
        #expect(log.total == 1)
        #expect(files(root) == ["forecasted-values"])
    }

    @Test func aBodyThatThrowsClosesOnce() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = CloseLog()
        let sink = sink(log: log)
        struct Injected: Error {}
        await #expect(throws: Injected.self) {
            try await sink.withPart(named: "a.csv") { writer in
                try await writer.write(ByteBuffer(repeating: 1, count: 1 << 20))
                throw Injected()
            }
        }
        #expect(log.total == 1)
        #expect(files(root).isEmpty)
    }

    @Test func cancellationStopsThePartAndRemovesItsTemporaryFile() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let log = CloseLog()
        let sink = sink(log: log)
        let started = Atomic<Bool>(false)
        let task = Task {
            try await sink.withPart(named: "forecasted-values/big.csv") { writer in
                let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 1 << 16)
                while true {
                    try await writer.write(chunk)
                    started.store(true, ordering: .relaxed)
                }
            }
        }
        while !started.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        let result = await task.result
        switch result {
        case .success: Issue.record("a cancelled part was published")
        case .failure(let error): #expect(error is CancellationError, "got \(error)")
        }
        #expect(log.total == 1)
        #expect(files(root) == ["forecasted-values"])
    }

    @Test func aTaskCancelledBeforeThePartCreatesNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sink = LocalDirectorySink(root: root)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await sink.put(ByteBuffer(string: "x"), named: "_SUCCESS")
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!FileManager.default.fileExists(atPath: root + "/_SUCCESS"))
        #expect(files(root).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func temporaryNamesCarryTheJobAndArePublishedUnderTheFinalName() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sink = LocalDirectorySink(root: root, jobTag: "Job_2024-01-01T00-00-00Z")
        try await sink.withPart(named: "forecasted-values/Job_2024-01-01T00-00-00Z_part0.csv") { writer in
            try await writer.write(ByteBuffer(string: "a"))
            let temporary = files(root + "/forecasted-values")
            #expect(temporary.count == 1)
            let name = try #require(temporary.first)
            #expect(name.hasPrefix(".Job_2024-01-01T00-00-00Z_part0.csv.Job_2024-01-01T00-00-00Z.\(getpid())."))
            #expect(TemporaryName.ownerProcess(of: name, jobName: "Job") == getpid())
        }
        #expect(files(root + "/forecasted-values") == ["Job_2024-01-01T00-00-00Z_part0.csv"])
    }

    /// A pid above Linux's `pid_max` (at most 2^22): never a live process.
    static let deadPid: Int32 = 99_999_999

    @Test func leftoversOfDeadRunsOfTheJobAreRemovedAndNothingElse() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = root + "/forecasted-values"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let dead = ".Job_2024-01-01T00-00-00Z_part0.csv.Job_2024-01-01T00-00-00Z.\(Self.deadPid).1f.tmp"
        let deadRoot = ".Job_2024-01-01T00-00-00Z_part0.csv.Job_2023-05-06T07-08-09Z.\(Self.deadPid).2.tmp"
        let alive = ".Job_2024-01-01T00-00-00Z_part1.csv.Job_2024-01-01T00-00-00Z.\(getpid()).3.tmp"
        // This process's pid but not its file: left by a run killed in another PID namespace.
        let predecessor = ".Job_2024-01-01T00-00-00Z_part3.csv.Job_2024-01-01T00-00-00Z.\(getpid()).5.tmp"
        let otherJob = ".Job_B_2024-01-01T00-00-00Z_part0.csv.Job_B_2024-01-01T00-00-00Z.\(Self.deadPid).4.tmp"
        let published = "Job_2024-01-01T00-00-00Z_part2.csv"
        for name in [dead, alive, predecessor, otherJob, published] {
            #expect(FileManager.default.createFile(atPath: "\(folder)/\(name)", contents: Data("x".utf8)))
        }
        let registration = TemporaryFiles.register("\(folder)/\(alive)")
        defer { TemporaryFiles.unregister(registration) }
        #expect(FileManager.default.createFile(atPath: "\(root)/\(deadRoot)", contents: Data("x".utf8)))
        let removed = try await LocalDirectorySink(root: root).removeLeftovers(ofJob: "Job")
        #expect(Set(removed) == ["\(folder)/\(dead)", "\(root)/\(deadRoot)", "\(folder)/\(predecessor)"])
        #expect(files(folder) == [alive, otherJob, published].sorted())
    }

    @Test func leftoversOfAMissingDestinationAreNone() async throws {
        #expect(try await LocalDirectorySink(root: root + "/absent").removeLeftovers(ofJob: "Job").isEmpty)
    }

    @Test func temporaryNamesParse() {
        let name = TemporaryName.make(
            finalName: "a.csv.gz",
            jobTag: "My_Job_2024-01-01T00-00-00Z",
            pid: 42,
            random: 255
        )
        #expect(name == ".a.csv.gz.My_Job_2024-01-01T00-00-00Z.42.ff.tmp")
        #expect(TemporaryName.ownerProcess(of: name, jobName: "My_Job") == 42)
        #expect(TemporaryName.ownerProcess(of: name, jobName: "My") == nil)
        #expect(TemporaryName.ownerProcess(of: name, jobName: "Job") == nil)
        #expect(TemporaryName.ownerProcess(of: "a.csv.My_Job_2024-01-01T00-00-00Z.42.ff.tmp", jobName: "My_Job") == nil)
        #expect(TemporaryName.ownerProcess(of: ".a.csv.My_Job_2024-01-01T00-00-00Z.x.ff.tmp", jobName: "My_Job") == nil)
        #expect(
            TemporaryName.ownerProcess(of: ".a.csv.My_Job_2024-01-01T00-00-00Z.42.zz.tmp", jobName: "My_Job") == nil
        )
        #expect(TemporaryName.ownerProcess(of: ".My_Job_2024-01-01T00-00-00Z.42.ff.tmp", jobName: "My_Job") == nil)
    }
}

@Suite struct TemporaryFilesTests {
    @Test func staleSpillFoldersAreRemovedAndLiveOnesKept() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("spill-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stale = "\(directory)/backtest-export-\(LocalDirectorySinkFaultTests.deadPid)-1234"
        // Named for a pid this process cannot see, but held: a live run in another PID namespace
        // (a container) or on another machine sharing the folder.
        let elsewhere = "\(directory)/backtest-export-\(LocalDirectorySinkFaultTests.deadPid)-5678"
        // This process's pid, but not made by it: a run killed in another PID namespace (a
        // container) had the pid this one has now.
        let predecessor = "\(directory)/backtest-export-\(getpid())-abc"
        let unrelated = "\(directory)/backtest-export-notapid-1"
        let live = try #require(TemporaryFiles.makeFolder(in: directory))
        for folder in [stale, elsewhere, predecessor, unrelated, live.path] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: folder + "/run0.bin", contents: Data("x".utf8)))
        }
        let holder = open(elsewhere, O_RDONLY | O_DIRECTORY)
        #expect(holder >= 0 && flock(holder, LOCK_EX | LOCK_NB) == 0)
        let removed = try await TemporaryFiles.removeStaleFolders(in: directory)
        #expect(Set(removed) == [stale, predecessor])
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(!FileManager.default.fileExists(atPath: predecessor))
        #expect(FileManager.default.fileExists(atPath: live.path + "/run0.bin"))
        #expect(FileManager.default.fileExists(atPath: elsewhere + "/run0.bin"))
        #expect(FileManager.default.fileExists(atPath: unrelated + "/run0.bin"))
        // Let go (the holder's process died; this run forgot its folder without removing it):
        // both are now leftovers.
        close(holder)
        TemporaryFiles.unregister(live.token)
        #expect(Set(try await TemporaryFiles.removeStaleFolders(in: directory)) == [elsewhere, live.path])
        #expect(FileManager.default.fileExists(atPath: unrelated + "/run0.bin"))
    }
}
