import Dispatch
import ExportSinks
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns SIGINT and SIGTERM into cancelling the export's task, so that the export aborts its
/// multipart uploads and removes its temporary files itself.
///
/// Guarantees the process ends within ``gracePeriod`` of the first signal, with status
/// `128 + signal` (130 for SIGINT, 143 for SIGTERM): if the cancelled export has not finished
/// by then (or a second signal comes), the registered temporary files are removed
/// (``TemporaryFiles/removeAll()``) and the process exits; whatever is still open then (a
/// multipart upload) is removed by the next run of the job.
final class InterruptWatcher: Sendable {
    static let gracePeriod: DispatchTimeInterval = .milliseconds(900)

    private let queue = DispatchQueue(label: "backtest-export.signals")
    private let sources: [any DispatchSourceSignal]
    private let received = Atomic<Int32>(0)

    /// Starts watching; `cancel` is called (once) at the first signal.
    init(cancel: @escaping @Sendable () -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: signalNumber, queue: queue))
        }
        self.sources = sources
        for (source, signalNumber) in zip(sources, [SIGINT, SIGTERM]) {
            source.setEventHandler { [self] in
                let (first, _) = received.compareExchange(expected: 0, desired: signalNumber, ordering: .relaxed)
                guard first else { Self.exitNow(status: 128 + received.load(ordering: .relaxed)) }
                cancel()
                queue.asyncAfter(deadline: .now() + Self.gracePeriod) { Self.exitNow(status: 128 + signalNumber) }
            }
            source.resume()
        }
    }

    /// The signal received, if any.
    var signalReceived: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// The signal's name for messages.
    static func name(of signalNumber: Int32) -> String {
        signalNumber == SIGINT ? "SIGINT" : signalNumber == SIGTERM ? "SIGTERM" : "signal \(signalNumber)"
    }

    private static func exitNow(status: Int32) -> Never {
        TemporaryFiles.removeAll()
        _exit(status)
    }
}
