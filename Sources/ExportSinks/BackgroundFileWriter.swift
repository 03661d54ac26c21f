import Dispatch
import ExportCore
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes chunks to a file descriptor on a thread of its own, so that the `write` system calls
/// (and the kernel's copying) overlap with encoding on the caller's core.
///
/// At most `depth` chunks wait or are being written; ``enqueue(_:)`` blocks the caller while the
/// queue is full (backpressure, memory bounded by `depth` chunks). The first write error is kept
/// and thrown by the next ``enqueue(_:)`` or by ``drain()``. Chunks are written in order.
final class BackgroundFileWriter: Sendable {
    private let descriptor: Int32
    private let displayPath: String
    private let queue = DispatchQueue(label: "backtest-export.file-writer")
    private let slots = DispatchSemaphore(value: 0)
    private let failure = Mutex<ExportError?>(nil)

    init(descriptor: Int32, displayPath: String, depth: Int = 4) {
        self.descriptor = descriptor
        self.displayPath = displayPath
        // Start at 0 and signal: libdispatch traps when a semaphore is freed below its initial value.
        for _ in 0..<max(1, depth) { slots.signal() }
    }

    /// Queues `chunk` for writing; waits while `depth` chunks are pending.
    func enqueue(_ chunk: ByteBuffer) throws {
        if let error = failure.withLock({ $0 }) { throw error }
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard failure.withLock({ $0 == nil }) else { return }
            do {
                try chunk.withUnsafeReadableBytes { bytes in
                    try LocalDirectorySink.writeAll(descriptor, bytes, displayPath: displayPath)
                }
            } catch {
                let exportError = ExportError.wrapping(error, as: .sink, "Cannot write '\(displayPath)'")
                failure.withLock { $0 = $0 ?? exportError }
            }
        }
    }

    /// Waits until every queued chunk is written; throws the first write error.
    func drain() throws {
        queue.sync {}
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
