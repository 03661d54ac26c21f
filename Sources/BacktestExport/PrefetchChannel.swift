import ExportCore
import NIOConcurrencyHelpers

/// The hand-over between the reading task and the consumer.
final class PrefetchChannel: Sendable {
    private enum Next {
        case handOver(CheckedContinuation<ForecastBatch?, any Error>)
        case resume(Result<Void, any Error>)
        case wait
    }

    private struct State {
        /// At most `depth` batches: taking the first shifts the rest, and drops the reference (a
        /// consumer that never catches up must not keep every batch it took alive).
        var ready: [ForecastBatch] = []
        var end: Result<Void, any Error>?
        var cancelled = false
        var consumer: CheckedContinuation<ForecastBatch?, any Error>?
        var producer: CheckedContinuation<Void, any Error>?

        mutating func pop() -> ForecastBatch { ready.removeFirst() }
    }

    private let state = NIOLockedValueBox(State())
    private let depth: Int

    init(depth: Int) { self.depth = depth }

    /// Queues `batch`; suspends while `depth` batches wait. Throws once the consumer is gone.
    func send(_ batch: ForecastBatch) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let next: Next = state.withLockedValue { state in
                    if state.cancelled { return .resume(.failure(CancellationError())) }
                    if let consumer = state.consumer {
                        state.consumer = nil
                        return .handOver(consumer)
                    }
                    state.ready.append(batch)
                    if state.ready.count < depth { return .resume(.success(())) }
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
        let consumer: CheckedContinuation<ForecastBatch?, any Error>? = state.withLockedValue { state in
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
                    state.withLockedValue { state in
                        if state.cancelled { return (.failure(CancellationError()), nil) }
                        if !state.ready.isEmpty {
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

    /// Batches sent and not yet taken (and so kept alive by the channel): at most `depth`.
    var heldBatchCount: Int { state.withLockedValue { $0.ready.count } }

    /// Stops both sides: waiters throw `CancellationError`, later calls too.
    func cancel() {
        let (consumer, producer) = state.withLockedValue { state in
            state.cancelled = true
            state.ready.removeAll()
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
