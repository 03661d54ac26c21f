import NIOConcurrencyHelpers

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

    /// Counts a job about to be handed to the pool.
    package func started() {
        counts.withLockedValue { $0.pending += 1 }
    }

    /// Runs `job` (on the pool's thread), then counts it finished, keeps its error if it is the
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
