import ExportCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The accuracy metrics of the forecast rows, accumulated on a thread of their own (a
/// ``SerialPool``) so that they overlap with encoding instead of running between the encoder's
/// batches.
///
/// Series are handed over whole and in the export's order; they are gathered until about
/// ``submitRows`` rows are held, then accumulated by one job queued after the one before
/// (``OrderedPoolJobs``: in order, one job at a time), which also moves the series it completed
/// into the spool. At most `depth` jobs wait or run; ``add(series:)`` suspends while they do. The
/// first error stops the chain and is thrown by the next ``add(series:)`` that waits on it or by
/// ``finish()``. Memory: the rows of `depth + 1` submissions, shared with the encoder
/// (the batches are not copied).
struct BackgroundMetrics {
    /// The accumulator and the spool, touched by one pool job at a time (the chain orders them).
    private final class State: Sendable {
        /// The spool crosses to the pool's threads, one job at a time (the chain orders them).
        let box: NIOLockedValueBox<(metrics: MetricsAccumulator, spool: HandedOver<MetricsSpool>)>

        init(_ metrics: MetricsAccumulator, _ spool: MetricsSpool) {
            box = NIOLockedValueBox((metrics, HandedOver(value: spool)))
        }
    }

    /// Rows gathered before a job is submitted: enough to make a job's overhead negligible.
    let submitRows: Int
    private let state: State
    private var jobs: OrderedPoolJobs
    private var held: [(batch: ForecastBatch, rows: Range<Int>)] = []
    private var heldRows = 0

    /// Accumulates into `metrics` and moves completed series into `spool`.
    init(
        metrics: MetricsAccumulator,
        spool: MetricsSpool,
        submitRows: Int = 16_384,
        depth: Int = 4,
        serial: SerialPool = .forMetrics()
    ) {
        state = State(metrics, spool)
        self.submitRows = max(1, submitRows)
        jobs = OrderedPoolJobs(depth: depth, serial: serial)
    }

    /// Queues one whole series (its pieces, in order).
    mutating func add(series pieces: [(batch: ForecastBatch, rows: Range<Int>)]) async throws {
        held += pieces
        for piece in pieces { heldRows += piece.rows.count }
        if heldRows >= submitRows { try await submit() }
    }

    /// Waits for every queued series, then returns the accumulator with all of them added (the
    /// completed ones already in the spool).
    mutating func finish() async throws -> MetricsAccumulator {
        if !held.isEmpty { try await submit() }
        try await jobs.waitForAll()
        return state.box.withLockedValue { $0.metrics }
    }

    private mutating func submit() async throws {
        let (state, pieces) = (self.state, held)
        held = []
        heldRows = 0
        try await jobs.enqueue {
            try state.box.withLockedValue { value in
                for piece in pieces { try value.metrics.add(piece.batch, rows: piece.rows) }
                if let done = value.metrics.takeCompletedSeries() { try value.spool.value.append(done) }
            }
        }
    }
}
