import NIOConcurrencyHelpers
import NIOCore

/// The hand-off between a part's writer and its UploadPart tasks, with a bound on the parts in
/// flight: ``push(_:number:)`` waits while `maxInFlight` parts are queued or uploading
/// (backpressure on the writer), ``next()`` gives the uploader the next part.
///
/// The first failure (``fail(_:)``) wakes every waiter with that error and makes every later
/// call throw it, so a failed UploadPart stops the writer at its next full part. Cancelling a
/// waiting task fails the queue with `CancellationError`.
final class PartUploadQueue: Sendable {
    typealias Part = (number: Int, bytes: ByteBuffer)

    private struct State {
        var uploadId: String?
        var pending: [Part] = []
        var pendingHead = 0
        /// Parts pushed and not yet uploaded (queued or in flight).
        var outstanding = 0
        var closed = false
        var failure: (any Error)?
        var consumer: CheckedContinuation<Part?, any Error>?
        var producer: CheckedContinuation<Void, any Error>?
        var etags: [Int: String] = [:]
    }

    private let state = NIOLockedValueBox(State())
    let maxInFlight: Int

    init(maxInFlight: Int) { self.maxInFlight = max(1, maxInFlight) }

    /// The multipart upload's id, once created.
    var uploadId: String? {
        get { state.withLockedValue { $0.uploadId } }
        set { state.withLockedValue { $0.uploadId = newValue } }
    }

    /// Parts pushed and not yet uploaded; and whether a `push` is waiting for a slot (for tests).
    var outstanding: (count: Int, producerWaiting: Bool) {
        state.withLockedValue { ($0.outstanding, $0.producer != nil) }
    }

    /// The ETags of the uploaded parts, by part number ascending.
    var uploadedParts: [(number: Int, etag: String)] {
        state.withLockedValue { $0.etags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }

    /// Queues a part; waits first while `maxInFlight` parts are outstanding.
    func push(_ bytes: ByteBuffer, number: Int) async throws {
        while true {
            let mustWait: Bool = try state.withLockedValue { state in
                if let failure = state.failure { throw failure }
                return state.outstanding >= maxInFlight
            }
            if !mustWait { break }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let resumeNow: Result<Void, any Error>? = state.withLockedValue { state in
                        if let failure = state.failure { return .failure(failure) }
                        if state.outstanding < maxInFlight { return .success(()) }
                        state.producer = continuation
                        return nil
                    }
                    if let resumeNow { continuation.resume(with: resumeNow) }
                }
            } onCancel: {
                fail(CancellationError())
            }
        }
        let consumer: CheckedContinuation<Part?, any Error>? = try state.withLockedValue { state in
            if let failure = state.failure { throw failure }
            state.outstanding += 1
            if let consumer = state.consumer {
                state.consumer = nil
                return consumer
            }
            state.pending.append((number, bytes))
            return nil
        }
        consumer?.resume(returning: (number, bytes))
    }

    /// The next queued part, or `nil` once the queue is closed and drained.
    func next() async throws -> Part? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Part?, any Error>) in
                let resumeNow: Result<Part?, any Error>? = state.withLockedValue { state in
                    if let failure = state.failure { return .failure(failure) }
                    if state.pendingHead < state.pending.count {
                        let part = state.pending[state.pendingHead]
                        state.pending[state.pendingHead].bytes = ByteBuffer()
                        state.pendingHead += 1
                        if state.pendingHead == state.pending.count {
                            state.pending.removeAll(keepingCapacity: true)
                            state.pendingHead = 0
                        }
                        return .success(part)
                    }
                    if state.closed { return .success(nil) }
                    state.consumer = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            fail(CancellationError())
        }
    }

    /// Records an uploaded part and frees its slot.
    func partUploaded(number: Int, etag: String) {
        let producer = state.withLockedValue { state in
            state.etags[number] = etag
            state.outstanding -= 1
            let producer = state.producer
            state.producer = nil
            return producer
        }
        producer?.resume()
    }

    /// No more parts will be pushed.
    func close() {
        let consumer: CheckedContinuation<Part?, any Error>? = state.withLockedValue { state in
            state.closed = true
            guard state.pendingHead >= state.pending.count, let consumer = state.consumer else { return nil }
            state.consumer = nil
            return consumer
        }
        consumer?.resume(returning: nil)
    }

    /// Fails the queue (the first error wins) and wakes every waiter with it.
    func fail(_ error: any Error) {
        let (failure, consumer, producer) = state.withLockedValue { state in
            if state.failure == nil { state.failure = error }
            let waiters = (state.failure!, state.consumer, state.producer)
            state.consumer = nil
            state.producer = nil
            state.pending.removeAll()
            state.pendingHead = 0
            return waiters
        }
        consumer?.resume(throwing: failure)
        producer?.resume(throwing: failure)
    }
}
