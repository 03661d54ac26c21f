import Dispatch
public import ExportCore
import Synchronization

/// Reads batches from a source on a thread of its own, a few batches ahead of the consumer, so
/// that parsing (or grouping) the input runs on one core while encoding and writing run on the
/// other.
///
/// Memory: at most `depth` batches wait in the queue. The source is used only by the reading
/// thread once the prefetcher exists. When the prefetcher is dropped early (an export fails),
/// the reading thread stops after the batch it is reading.
public final class PrefetchingSource<Source: ForecastSource>: ForecastSource {
    public let schema: ExportSchema
    private let channel: PrefetchChannel

    /// Starts reading `source` at once. `depth` is how many batches may wait (at least 1).
    public init(source: Source, depth: Int = 3) {
        schema = source.schema
        var source = source
        channel = PrefetchChannel(depth: depth) { try source.nextBatch() }
    }

    deinit { channel.cancel() }

    /// The next batch; waits for the reading thread when it is behind.
    public func nextBatch() throws -> ForecastBatch? { try channel.take() }
}

/// The hand-over between the reading thread and the consumer (not generic, so that the reading
/// thread's closure captures nothing but this channel).
private final class PrefetchChannel: @unchecked Sendable {
    private struct State {
        var ready: [Result<ForecastBatch?, any Error>] = []
        var cancelled = false
    }
    private let state = Mutex(State())
    /// Signalled once per batch handed over.
    private let filled = DispatchSemaphore(value: 0)
    /// One permit per free queue slot.
    private let free: DispatchSemaphore
    /// Called only on the reading thread (hence `@unchecked Sendable`).
    private let next: () throws -> ForecastBatch?

    init(depth: Int, next: @escaping () throws -> ForecastBatch?) {
        // Start at 0 and signal: libdispatch traps when a semaphore is freed below its initial value.
        free = DispatchSemaphore(value: 0)
        for _ in 0..<max(1, depth) { free.signal() }
        self.next = next
        DispatchQueue(label: "backtest-export.prefetch").async { self.read() }
    }

    private func read() {
        while true {
            free.wait()
            if state.withLock({ $0.cancelled }) { return }
            let result = Result { try next() }
            state.withLock { $0.ready.append(result) }
            filled.signal()
            guard case .success(.some) = result else { return }
        }
    }

    func take() throws -> ForecastBatch? {
        filled.wait()
        let result = state.withLock { $0.ready.removeFirst() }
        if case .success(.some) = result {
            free.signal()
        } else {
            // End or error: the reader has stopped; keep giving the same answer.
            state.withLock { $0.ready.insert(result, at: 0) }
            filled.signal()
        }
        return try result.get()
    }

    func cancel() {
        state.withLock { $0.cancelled = true }
        free.signal()
    }
}
