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
/// and stops the reader; so does dropping the prefetcher (both cancel the reading task, which a
/// source may check), or ``stop()``, which also waits for the reader. The reader stops after the
/// batch it is reading (a source's `nextBatch()` cannot be interrupted, unless it checks
/// `Task.isCancelled`). Once the source has returned its
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

    deinit {
        channel.cancel()
        reader.cancel()
    }

    /// Stops the reader and waits until it has: it is cancelled (a source that checks
    /// `Task.isCancelled`, as ``SeriesGrouper`` does between batches, stops within one) and its
    /// batches are dropped. For an export that failed or was cancelled, so that the source has
    /// removed its temporary files before the caller returns (and the process perhaps exits).
    public func stop() async {
        channel.cancel()
        reader.cancel()
        await reader.value
    }

    /// The next batch, or nil at the end; suspends while the reader is behind. After the end or
    /// an error, every later call gives the same answer.
    public func nextBatch() async throws -> ForecastBatch? { try await channel.take() }

    /// The source, once the reader has stopped (waits for it); nil if it was already taken.
    public func finishedSource() async -> Source? {
        await reader.value
        return box.take()
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
