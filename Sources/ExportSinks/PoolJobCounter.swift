import ExportCore
import NIOConcurrencyHelpers
package import NIOPosix

/// Counts jobs handed to a blocking-work thread pool until they finish, keeps the first error,
/// and lets one caller wait (suspended, not blocking a thread) for the count to fall: the
/// back-pressure of the background file writer, hasher and metrics, without futures.
///
/// The pool's thread that ran a job counts it finished and resumes the waiter itself: no
/// event-loop hop between a job's end and the caller going on. Cost: a lock taken twice a job.
/// One caller waits at a time (the task that queues the jobs).
package final class PoolJobCounter: Sendable {
    private struct Counts {
        var pending = 0
        var failure: (any Error)?
        var waiter: (continuation: CheckedContinuation<Void, Never>, limit: Int, evenAfterFailure: Bool)?
    }

    private let counts = NIOLockedValueBox(Counts())

    package init() {}

    /// Whether a job has failed.
    package var hasFailed: Bool { counts.withLockedValue { $0.failure != nil } }

    /// Waits until fewer than `depth` jobs are pending (throwing the first job's error, if any),
    /// then hands `job` to `pool` and counts it. With `skippingAfterFailure`, a job whose turn
    /// comes after another failed does not run (a chain whose jobs build on one another).
    package func enqueue(
        on pool: NIOThreadPool,
        depth: Int,
        skippingAfterFailure: Bool = false,
        _ job: @escaping @Sendable () throws -> Void
    ) async throws {
        try await wait(untilPendingAtMost: max(1, depth) - 1)
        started()
        pool.submit { state in
            self.finished(running: {
                guard state == .active else {
                    throw ExportError.internal("a blocking-work thread pool was stopped before it ran a job")
                }
                if skippingAfterFailure && self.hasFailed { return }
                try job()
            })
        }
    }

    /// Counts a job about to be handed to the pool (``enqueue(on:depth:skippingAfterFailure:_:)``
    /// does it).
    package func started() {
        counts.withLockedValue { $0.pending += 1 }
    }

    /// Runs `job` (on the pool's thread; ``enqueue(on:depth:skippingAfterFailure:_:)`` does it),
    /// then counts it finished, keeps its error if it is the
    /// first, and resumes the waiter whose condition now holds.
    package func finished(running job: () throws -> Void) {
        var error: (any Error)?
        do { try job() } catch let thrown { error = thrown }
        let waiter = counts.withLockedValue { counts -> CheckedContinuation<Void, Never>? in
            counts.pending -= 1
            if counts.failure == nil { counts.failure = error }
            guard let waiter = counts.waiter, Self.holds(counts, waiter.limit, waiter.evenAfterFailure) else {
                return nil
            }
            counts.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Returns once at most `limit` jobs are pending, or, unless `evenAfterFailure`, as soon as
    /// a job has failed; then throws the first job's error, if any.
    package func wait(untilPendingAtMost limit: Int, evenAfterFailure: Bool = false) async throws {
        if !counts.withLockedValue({ Self.holds($0, limit, evenAfterFailure) }) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let holds = counts.withLockedValue { counts -> Bool in
                    if Self.holds(counts, limit, evenAfterFailure) { return true }
                    counts.waiter = (continuation, limit, evenAfterFailure)
                    return false
                }
                if holds { continuation.resume() }
            }
        }
        if let failure = counts.withLockedValue({ $0.failure }) { throw failure }
    }

    private static func holds(_ counts: Counts, _ limit: Int, _ evenAfterFailure: Bool) -> Bool {
        counts.pending <= limit || (!evenAfterFailure && counts.failure != nil)
    }
}
