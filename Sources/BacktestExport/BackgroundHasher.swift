import ExportCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// SHA-256 of a part's chunks, computed on NIO's blocking-work thread pool so that hashing
/// overlaps with encoding without occupying a thread of Swift's cooperative pool.
///
/// Chunks are hashed in order: each is a pool job chained after the one before. At most `depth`
/// chunks wait or are being hashed; ``update(_:)`` suspends (it does not block a thread) while
/// they do. Memory: `depth` chunks (shared with the writer, not copied).
struct BackgroundHasher {
    /// The running digest, touched by one pool job at a time (the chain orders them).
    private final class State: Sendable {
        let hasher = NIOLockedValueBox(SHA256())
    }

    private let state = State()
    private let pool: NIOThreadPool
    private let eventLoop: any EventLoop
    private let depth: Int
    private var pending: [EventLoopFuture<Void>] = []

    init(depth: Int = 16, pool: NIOThreadPool = .singleton) {
        self.depth = max(1, depth)
        self.pool = pool
        self.eventLoop = MultiThreadedEventLoopGroup.singleton.any()
    }

    /// Queues `chunk` for hashing; first waits for the oldest while `depth` are pending.
    mutating func update(_ chunk: ByteBuffer) async throws {
        if pending.count >= depth { try await pending.removeFirst().get() }
        let (state, pool, eventLoop) = (self.state, self.pool, self.eventLoop)
        let job: @Sendable () -> Void = {
            state.hasher.withLockedValue { hasher in
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            }
        }
        let previous = pending.last ?? eventLoop.makeSucceededVoidFuture()
        pending.append(previous.flatMap { pool.runIfActive(eventLoop: eventLoop, job) })
    }

    /// The digest in lower-case hex, once every queued chunk is hashed.
    func finalize() async throws -> String {
        if let last = pending.last { try await last.get() }
        return Hex.encode(state.hasher.withLockedValue { $0.finalize() })
    }
}
