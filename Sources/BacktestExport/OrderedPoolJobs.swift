import ExportSinks

/// Jobs run one after another, in the order they were queued, on the one thread of a
/// ``SerialPool``, without occupying a thread of Swift's cooperative pool.
///
/// Each job is submitted to the thread at once (a one-thread pool runs its work in the order it
/// was submitted) and counted finished by that thread (``PoolJobCounter``): no future and no
/// event-loop hop between one job and the next or back to the caller. At most `depth` jobs wait
/// or run; ``enqueue(_:)`` suspends (it does not block a thread) while they do. A job that throws
/// stops the chain: the jobs after it do not run, and its error is thrown by the next
/// ``enqueue(_:)`` or by ``waitForAll()``.
struct OrderedPoolJobs {
    private let serial: SerialPool
    private let depth: Int
    private let counter = PoolJobCounter()

    init(depth: Int, serial: SerialPool) {
        self.depth = max(1, depth)
        self.serial = serial
    }

    /// Queues `job` after every job queued before; first waits for the oldest while `depth` are
    /// pending. Throws the error of a job that failed before.
    mutating func enqueue(_ job: @escaping @Sendable () throws -> Void) async throws {
        try await counter.enqueue(on: serial.pool, depth: depth, skippingAfterFailure: true, job)
    }

    /// Returns once every queued job has run (or been skipped after a failure); throws the first
    /// job's error.
    mutating func waitForAll() async throws {
        try await counter.wait(untilPendingAtMost: 0, evenAfterFailure: true)
    }
}
