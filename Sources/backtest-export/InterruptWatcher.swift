import Dispatch
import ExportSinks
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The write end of the pipe the signal handler writes to (async-signal-safe: an atomic load and
/// `write`).
private let signalPipe = Atomic<Int32>(-1)

/// Turns SIGINT and SIGTERM into cancelling the export's task, so that the export aborts its
/// multipart uploads and removes its temporary files itself.
///
/// Guarantees the process ends within ``gracePeriodMilliseconds`` of the first signal, with status
/// `128 + signal` (130 for SIGINT, 143 for SIGTERM): if the cancelled export has not finished
/// by then (or a second signal comes), the registered temporary files are removed
/// (``TemporaryFiles/removeAll()``) and the process exits; whatever is still open then (a
/// multipart upload) is removed by the next run of the job.
///
/// How: the handler only writes the signal's number to a pipe; a thread of its own (a serial
/// dispatch queue, outside Swift's cooperative pool) waits on the pipe and does the rest.
final class InterruptWatcher: Sendable {
    static let gracePeriodMilliseconds: Int32 = 700

    private let received = Atomic<Int32>(0)

    /// Starts watching; `cancel` is called (once) at the first signal.
    init(cancel: @escaping @Sendable () -> Void) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let readEnd = ends[0]
        signalPipe.store(ends[1], ordering: .sequentiallyConsistent)
        for signalNumber in [SIGINT, SIGTERM] {
            _ = signal(signalNumber) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(signalPipe.load(ordering: .sequentiallyConsistent), &byte, 1)
            }
        }
        DispatchQueue(label: "backtest-export.signals").async { [self] in
            guard let first = Self.readSignal(readEnd, timeoutMilliseconds: -1) else { return }
            received.store(first, ordering: .sequentiallyConsistent)
            cancel()
            // A second signal, or the grace period over: end now.
            let second = Self.readSignal(readEnd, timeoutMilliseconds: Self.gracePeriodMilliseconds)
            Self.exitNow(status: 128 + (second ?? first))
        }
    }

    /// The signal received, if any.
    var signalReceived: Int32? {
        let value = received.load(ordering: .sequentiallyConsistent)
        return value == 0 ? nil : value
    }

    /// The signal's name for messages.
    static func name(of signalNumber: Int32) -> String {
        signalNumber == SIGINT ? "SIGINT" : signalNumber == SIGTERM ? "SIGTERM" : "signal \(signalNumber)"
    }

    /// The next signal number from the pipe; nil after `timeoutMilliseconds` (-1: no limit).
    private static func readSignal(_ fd: Int32, timeoutMilliseconds: Int32) -> Int32? {
        var byte: UInt8 = 0
        while true {
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&waiting, 1, timeoutMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            return n == 1 ? Int32(byte) : nil
        }
    }

    private static func exitNow(status: Int32) -> Never {
        TemporaryFiles.removeAll()
        printError("backtest-export: \(name(of: status - 128)) received: the export did not stop in time; exiting")
        _exit(status)
    }
}
