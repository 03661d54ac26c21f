import ExportCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes a part's chunks to an open file on NIO's blocking-I/O thread pool, so that the `pwrite`
/// system calls (and the kernel's copying) overlap with encoding, and no thread of Swift's
/// cooperative pool ever waits in a system call.
///
/// Each chunk is written at its own offset (`pwrite`), so chunks may be written on different
/// pool threads in any order and the file still comes out in order; they are written one at a
/// time (a lock per file): the kernel serializes writes to one file on its inode lock anyway
/// (tmpfs, ext4, xfs without O_DIRECT), and two pool threads writing one file at once made the
/// second spin on that lock where it now sleeps (profile of a 506 MB CSV part written to tmpfs:
/// `rwsem_spin_on_owner` 3.5 % of the samples before, none after; the kernel's copy 11.8 % of the
/// samples before, 6.5 % after). At most `depth` chunks are in flight: ``enqueue(_:)`` suspends
/// (it does not block a thread) until the oldest is written. Memory: `depth` chunks. The first write error is thrown by a later ``enqueue(_:)`` or by
/// ``drain()``.
struct BackgroundFileWriter {
    let descriptor: Int32
    let displayPath: String
    private let pool: NIOThreadPool
    private let depth: Int
    private var offset: Int64 = 0
    private let inFlight = PoolJobCounter()
    private let oneAtATime = NIOLock()

    init(descriptor: Int32, displayPath: String, pool: NIOThreadPool, depth: Int = 8) {
        self.descriptor = descriptor
        self.displayPath = displayPath
        self.pool = pool
        self.depth = max(1, depth)
    }

    /// Starts writing `chunk` after the bytes enqueued so far; first waits for the oldest write
    /// while `depth` are in flight, and throws its error if it failed.
    mutating func enqueue(_ chunk: ByteBuffer) async throws {
        let (fd, at, path, lock) = (descriptor, offset, displayPath, oneAtATime)
        try await inFlight.enqueue(on: pool, depth: depth) {
            try lock.withLock {
                try chunk.withUnsafeReadableBytes { try Self.writeAll(fd, $0, at: at, displayPath: path) }
            }
        }
        offset += Int64(chunk.readableBytes)
    }

    /// Waits until every enqueued chunk is written (even when the task is cancelled: the writes
    /// are short); throws the first write error.
    mutating func drain() async throws {
        try await inFlight.wait(untilPendingAtMost: 0, evenAfterFailure: true)
    }

    /// `pwrite` until every byte of `bytes` is at `offset`, retrying on `EINTR`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, displayPath: String) throws {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, base + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw LocalDirectorySink.error("cannot write", displayPath)
            }
            done += n
        }
    }
}
