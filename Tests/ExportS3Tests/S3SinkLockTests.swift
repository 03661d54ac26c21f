import ExportCore
import NIOCore
import Synchronization
import Testing

@testable import ExportS3

/// The destination lock on S3 (`_LOCK`, created with `If-None-Match: *`) against the fake S3
/// server: a lost answer to its PUT, a cancelled holder, a second run.
@Suite struct S3SinkLockTests {
    static let lockPath = "/bucket/out/_LOCK"

    /// A PUT that created the lock but whose answer was lost: the retry gets 412 for the run's own
    /// object. The stored token says the lock is this run's: the body runs, and the lock goes.
    @Test func aLostAnswerToTheLockPutStillTakesTheLock() async throws {
        let server = try await FakeS3Server { request, earlier in
            request.method == "PUT" && request.path == Self.lockPath && earlier == 0
                ? .statusAfterHandling(500, code: "InternalError") : nil
        }
        defer { Task { try? await server.shutdown() } }
        let sink = try S3SinkFaultTests.sink(server)
        let ran = try await sink.withExclusiveLock(holder: "export job J (process 1 on h)") { "ran" }
        #expect(ran == "ran")
        #expect(server.requests.filter { $0.method == "PUT" && $0.path == Self.lockPath }.count == 2)
        #expect(server.objects[Self.lockPath] == nil)
    }

    /// A run cancelled while it holds the lock (a stopped job, `--timeout`, SIGTERM) still removes
    /// it: the next run into the destination is not locked out.
    @Test func aCancelledHolderRemovesTheLock() async throws {
        let server = try await FakeS3Server()
        defer { Task { try? await server.shutdown() } }
        let sink = try S3SinkFaultTests.sink(server)
        let started = Flag()
        let holder = Task {
            try await sink.withExclusiveLock(holder: "export job J (process 1 on h)") {
                started.set()
                try await Task.sleep(for: .seconds(60))
            }
        }
        while !started.isSet { try await Task.sleep(for: .milliseconds(5)) }
        holder.cancel()
        let result = await holder.result
        if case .success = result { Issue.record("a cancelled holder's body finished") }
        #expect(server.objects[Self.lockPath] == nil)
        #expect(try await sink.withExclusiveLock(holder: "export job K (process 2 on h)") { 7 } == 7)
    }

    /// A run cancelled between creating the lock and reading it back (the read-back never
    /// answers) removes the lock it created.
    @Test func aRunCancelledWhileTakingTheLockRemovesIt() async throws {
        let server = try await FakeS3Server { request, earlier in
            // The second GET of the lock is the read-back after the PUT (the first looks for a
            // stale lock).
            request.method == "GET" && request.path == Self.lockPath && earlier == 1 ? .stall : nil
        }
        defer { Task { try? await server.shutdown() } }
        let sink = try S3SinkFaultTests.sink(server)
        let taker = Task { try await sink.withExclusiveLock(holder: "export job J (process 1 on h)") {} }
        while server.requests.filter({ $0.method == "GET" && $0.path == Self.lockPath }).count < 2 {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(server.objects[Self.lockPath] != nil)
        taker.cancel()
        _ = await taker.result
        #expect(server.objects[Self.lockPath] == nil)
    }

    /// While one run holds the lock, another fails naming it, and leaves the lock alone.
    @Test func aSecondRunIsRefusedNamingTheHolder() async throws {
        let server = try await FakeS3Server()
        defer { Task { try? await server.shutdown() } }
        let sink = try S3SinkFaultTests.sink(server)
        try await sink.withExclusiveLock(holder: "export job J (process 1 on another-host)") {
            await #expect {
                try await sink.withExclusiveLock(holder: "export job K (process 2 on h)") {}
            } throws: { error in
                (error as? ExportError)?.message.contains("locked by another export: export job J") == true
            }
            #expect(server.objects[Self.lockPath] != nil)
        }
        #expect(server.objects[Self.lockPath] == nil)
    }
}

/// A flag set once, read from another task.
private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
