import ExportCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// SHA-256 of a part's chunks, computed on a thread of its own (a ``SerialPool``) so that hashing
/// overlaps with encoding without occupying a thread of Swift's cooperative pool, and never
/// waits behind the writes or the metrics in a shared pool.
///
/// Chunks are hashed in order, one ``OrderedPoolJobs`` job each. At most `depth`
/// chunks wait or are being hashed; ``update(_:)`` suspends (it does not block a thread) while
/// they do. Memory: `depth` chunks (shared with the writer, not copied).
struct BackgroundHasher {
    /// The running digest, touched by one pool job at a time (the chain orders them).
    private final class State: Sendable {
        let hasher = NIOLockedValueBox(SHA256())
    }

    private let state = State()
    private var jobs: OrderedPoolJobs

    init(depth: Int = 16, serial: SerialPool = .forHashing()) {
        jobs = OrderedPoolJobs(depth: depth, serial: serial)
    }

    /// Queues `chunk` for hashing; first waits for the oldest while `depth` are pending.
    mutating func update(_ chunk: ByteBuffer) async throws {
        let state = self.state
        try await jobs.enqueue {
            state.hasher.withLockedValue { hasher in
                chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            }
        }
    }

    /// The digest in lower-case hex, once every queued chunk is hashed.
    mutating func finalize() async throws -> String {
        try await jobs.waitForAll()
        return Hex.encode(state.hasher.withLockedValue { $0.finalize() })
    }
}
