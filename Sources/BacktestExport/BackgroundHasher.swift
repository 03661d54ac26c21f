import Dispatch
import ExportCore
import NIOCore

/// SHA-256 of a part's chunks, computed on a thread of its own so that hashing overlaps with
/// encoding. At most `depth` chunks wait; ``update(_:)`` blocks the caller while they do.
final class BackgroundHasher: @unchecked Sendable {
    private let queue = DispatchQueue(label: "backtest-export.sha256")
    private let slots = DispatchSemaphore(value: 0)
    /// Touched only on `queue`.
    private var hasher = SHA256()

    init(depth: Int = 8) {
        // Start at 0 and signal: libdispatch traps when a semaphore is freed below its initial value.
        for _ in 0..<max(1, depth) { slots.signal() }
    }

    func update(_ chunk: ByteBuffer) {
        slots.wait()
        queue.async { [self] in
            chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            slots.signal()
        }
    }

    /// The digest in lower-case hex, once every queued chunk is hashed.
    func finalize() -> String {
        Hex.encode(queue.sync { hasher.finalize() })
    }
}
