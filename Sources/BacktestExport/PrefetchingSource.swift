import Dispatch
public import ExportCore
import Synchronization

/// Reads batches from a source in a task of its own, a few batches ahead of the consumer, so
/// that parsing (or grouping) the input runs on one core while encoding and writing run on the
/// other.
///
/// The source is handed over (`sending`): from then on only the reading task touches it, on a
/// thread of its own (a serial dispatch queue as the task's executor), so its blocking reads
/// never occupy Swift's cooperative pool. The reading task and the consumer meet in a bounded
/// channel: at most `depth` batches wait; the reader suspends while the channel is full and the
/// consumer suspends (never blocks a thread) while it is empty.
///
/// Cancellation: cancelling the consumer's task makes ``nextBatch()`` throw `CancellationError`
/// and stops the reader; so does dropping the prefetcher. The reader stops after the batch it is
/// reading (a source's `nextBatch()` cannot be interrupted). Once the source has returned its
/// last batch, ``finishedSource()`` gives it back (for its statistics).
public final class PrefetchingSource<Source: ForecastSource> {
    public let schema: ExportSchema
    private let channel: PrefetchChannel
    private let box: SourceBox<Source>
    private let reader: Task<Void, Never>

    /// Starts reading `source` at once. `depth` is how many batches may wait (at least 1).
    public init(source: sending Source, depth: Int = 3) {
        schema = source.schema
        let channel = PrefetchChannel(depth: max(1, depth))
        self.channel = channel
        let box = SourceBox(source)
        self.box = box
        reader = Task(executorPreference: DispatchTaskExecutor(label: "backtest-export.prefetch")) {
            while true {
                let batch: ForecastBatch?
                do {
                    batch = try box.nextBatch()
                } catch {
                    channel.finish(.failure(error))
                    break
                }
                guard let batch else {
                    channel.finish(.success(()))
                    break
                }
                do { try await channel.send(batch) } catch { break }
            }
        }
    }

    deinit { channel.cancel() }

    /// The next batch, or nil at the end; suspends while the reader is behind. After the end or
    /// an error, every later call gives the same answer.
    public func nextBatch() async throws -> ForecastBatch? { try await channel.take() }

    /// The source, once the reader has stopped (waits for it); nil if it was already taken.
    public func finishedSource() async -> Source? {
        await reader.value
        return box.take()
    }
}

/// The hand-over between the reading task and the consumer.
final class PrefetchChannel: Sendable {
    private enum Next {
        case handOver(CheckedContinuation<ForecastBatch?, any Error>)
        case resume(Result<Void, any Error>)
        case wait
    }

    private struct State {
        var ready: [ForecastBatch] = []
        var head = 0
        var end: Result<Void, any Error>?
        var cancelled = false
        var consumer: CheckedContinuation<ForecastBatch?, any Error>?
        var producer: CheckedContinuation<Void, any Error>?

        var waiting: Int { ready.count - head }

        mutating func pop() -> ForecastBatch {
            let batch = ready[head]
            head += 1
            if head == ready.count {
                ready.removeAll(keepingCapacity: true)
                head = 0
            }
            return batch
        }
    }

    private let state = Mutex(State())
    private let depth: Int

    init(depth: Int) { self.depth = depth }

    /// Queues `batch`; suspends while `depth` batches wait. Throws once the consumer is gone.
    func send(_ batch: ForecastBatch) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let next: Next = state.withLock { state in
                    if state.cancelled { return .resume(.failure(CancellationError())) }
                    if let consumer = state.consumer {
                        state.consumer = nil
                        return .handOver(consumer)
                    }
                    state.ready.append(batch)
                    if state.waiting < depth { return .resume(.success(())) }
                    state.producer = continuation
                    return .wait
                }
                switch next {
                case .handOver(let consumer):
                    consumer.resume(returning: batch)
                    continuation.resume()
                case .resume(let result):
                    continuation.resume(with: result)
                case .wait:
                    break
                }
            }
        } onCancel: {
            cancel()
        }
    }

    /// The source ran out (`.success`) or failed.
    func finish(_ end: Result<Void, any Error>) {
        let consumer: CheckedContinuation<ForecastBatch?, any Error>? = state.withLock { state in
            state.end = end
            defer { state.consumer = nil }
            return state.consumer
        }
        consumer?.resume(with: end.map { nil })
    }

    func take() async throws -> ForecastBatch? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<ForecastBatch?, any Error>) in
                let (result, producer): (Result<ForecastBatch?, any Error>?, CheckedContinuation<Void, any Error>?) =
                    state.withLock { state in
                        if state.cancelled { return (.failure(CancellationError()), nil) }
                        if state.waiting > 0 {
                            let batch = state.pop()
                            let producer = state.producer
                            state.producer = nil
                            return (.success(batch), producer)
                        }
                        if let end = state.end { return (end.map { nil }, nil) }
                        state.consumer = continuation
                        return (nil, nil)
                    }
                producer?.resume()
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            cancel()
        }
    }

    /// Stops both sides: waiters throw `CancellationError`, later calls too.
    func cancel() {
        let (consumer, producer) = state.withLock { state in
            state.cancelled = true
            state.ready.removeAll()
            state.head = 0
            defer {
                state.consumer = nil
                state.producer = nil
            }
            return (state.consumer, state.producer)
        }
        consumer?.resume(throwing: CancellationError())
        producer?.resume(throwing: CancellationError())
    }
}

/// Owns the source once it is handed over: the reading task reads through it (one batch at a
/// time, under an uncontended lock), and gives it back once the reader has stopped.
final class SourceBox<Source: ForecastSource>: Sendable {
    private let source: Mutex<Source?>

    init(_ source: sending Source) { self.source = Mutex(source) }

    func nextBatch() throws -> ForecastBatch? { try source.withLock { try $0?.nextBatch() } }

    func take() -> Source? { source.withLock { $0.take() } }
}

/// A task executor that runs its jobs on one serial dispatch queue: a thread outside Swift's
/// cooperative pool, for a task whose work blocks (reading and parsing input).
final class DispatchTaskExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
