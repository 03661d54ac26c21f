import NIOCore
import NIOPosix

/// Jobs run on NIO's blocking-work thread pool one after another, in the order they were queued,
/// without occupying a thread of Swift's cooperative pool: each is chained after the one before.
///
/// At most `depth` jobs wait or run; ``enqueue(_:)`` suspends (it does not block a thread) while
/// they do. A job that throws stops the chain: the jobs after it do not run, and the error is
/// thrown by the ``enqueue(_:)`` or ``waitForAll()`` that waits on it.
struct OrderedPoolJobs {
    private let pool: NIOThreadPool
    private let eventLoop: any EventLoop
    private let depth: Int
    private var pending: [EventLoopFuture<Void>] = []

    init(depth: Int, pool: NIOThreadPool = .singleton) {
        self.depth = max(1, depth)
        self.pool = pool
        eventLoop = MultiThreadedEventLoopGroup.singleton.any()
    }

    /// Queues `job` after every job queued before; first waits for the oldest while `depth` are pending.
    mutating func enqueue(_ job: @escaping @Sendable () throws -> Void) async throws {
        if pending.count >= depth { try await pending.removeFirst().get() }
        let (pool, eventLoop) = (self.pool, self.eventLoop)
        let previous = pending.last ?? eventLoop.makeSucceededVoidFuture()
        pending.append(previous.flatMap { pool.runIfActive(eventLoop: eventLoop, job) })
    }

    /// Returns once every queued job has run.
    mutating func waitForAll() async throws {
        if let last = pending.last { try await last.get() }
        pending.removeAll()
    }
}
