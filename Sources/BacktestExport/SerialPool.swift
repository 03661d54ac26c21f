import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A blocking-work pool of one thread, which runs its jobs one at a time in the order they were
/// submitted: for a chain of jobs that must run in order (hashing a part's chunks, accumulating
/// the metrics) without waiting behind other work in a shared pool (see ``OrderedPoolJobs``).
///
/// The pools are process-wide, one per core of each kind, handed out in turn so that exports
/// running at the same time do not all queue behind one thread; each is started when first handed
/// out and lives as long as the process. Cost: one idle thread each.
struct SerialPool: Sendable {
    let pool: NIOThreadPool

    private init() {
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    /// For SHA-256 of parts' chunks (``BackgroundHasher``).
    static func forHashing() -> SerialPool { hashing.next() }

    /// For the accuracy metrics of the forecast rows (``BackgroundMetrics``).
    static func forMetrics() -> SerialPool { metrics.next() }

    private static let hashing = Rotation()
    private static let metrics = Rotation()

    /// One pool per core, each created when first handed out, handed out in turn.
    private final class Rotation: Sendable {
        private let pools = NIOLockedValueBox<(created: [SerialPool], next: Int)>(([], 0))

        func next() -> SerialPool {
            pools.withLockedValue { state in
                let index = state.next % max(1, System.coreCount)
                state.next &+= 1
                if index == state.created.count { state.created.append(SerialPool()) }
                return state.created[index]
            }
        }
    }
}
