/// Decides everything about writing one table as parts, and does nothing itself: a pure state
/// machine that returns actions (start part N, read a series, measure a piece, encode, finish the
/// part) and is told their results. The part writer carries the actions out on an encoder and a
/// sink; tests drive the machine alone.
///
/// Where parts end is the ``PartRoller``'s decision (SPEC §2: only at a series boundary unless one
/// series alone exceeds the row limit; the byte limit closes the part at the first series boundary
/// once reached). On top of it the machine holds row ranges back, to hand them to the encoder
/// together (``TableEncoder/append(pieces:)``) in runs of about `heldRows` rows, as long as the
/// part's bytes plus the held pieces' ``TableEncoder/byteBound(_:rows:)`` stay below the byte
/// limit; the roller is then given that sum, which is on the same side of the limit as the real
/// size, so parts end exactly where appending piece by piece would end them.
///
/// The protocol, for each part: ``nextPart()`` gives its index (or `nil`: the table is written;
/// there is always at least part 0), the caller opens the part and reports
/// ``partStarted(encodedBytes:)``, then calls ``nextAction()`` and answers each action before asking
/// for the next one:
/// - ``Action/readSeries``: ``seriesRead(_:)`` with the next whole series, or ``inputEnded()``;
/// - ``Action/measure(_:)``: ``measured(byteBound:)`` with the encoder's bound for the piece;
/// - ``Action/encode(_:)`` and ``Action/append(_:)``: ``encoded(byteCount:)`` once the encoder has
///   taken the rows (and its ready chunks are handed on);
/// - ``Action/finishPart(rowCount:)``: finish the encoder and publish the part; no answer.
///
/// Cost: a few comparisons per piece and one array of held pieces per part; no I/O, no allocation
/// per row.
public struct PartPlacementMachine<Batch> {
    /// Rows `rows` of `batch`.
    public typealias Piece = (batch: Batch, rows: Range<Int>)

    /// What the caller does next within an open part.
    public enum Action {
        /// Read the next whole series and hand it to ``seriesRead(_:)`` (or call ``inputEnded()``).
        case readSeries
        /// Ask the encoder for ``TableEncoder/byteBound(_:rows:)`` of this piece and hand it to
        /// ``measured(byteBound:)``.
        case measure(Piece)
        /// Encode these pieces together (``TableEncoder/append(pieces:)``), then call ``encoded(byteCount:)``.
        case encode([Piece])
        /// Encode this one piece on its own (``TableEncoder/append(_:rows:)``), then call ``encoded(byteCount:)``.
        case append(Piece)
        /// Finish the encoder and publish the part, which holds `rowCount` rows.
        case finishPart(rowCount: Int)
    }

    private enum Expectation {
        case nothing, partStart, series, measure, encode
    }

    private var roller: PartRoller
    /// Rows held before they are encoded together.
    public let heldRows: Int
    /// Pieces of placed series not yet taken into a part, from `head` on.
    private var queue: [(piece: Piece, startsNewPart: Bool)] = []
    private var head = 0
    private var exhausted = false
    private var held: [Piece] = []
    private var heldBound = 0
    private var heldCount = 0
    /// The encoder's byte count, as last reported.
    private var encodedBytes = 0
    private var measuring: Piece?
    private var pendingSeries: [Piece]?
    private var pendingAppend: Piece?
    private var flushPending = false
    private var closing = false
    private var partOpen = false
    private var startedAny = false
    private var expectation = Expectation.nothing
    /// The index of the open part, or of the next one between parts.
    public private(set) var partIndex = 0
    /// Rows taken into the open part so far.
    public private(set) var rowsInPart = 0

    /// `nil` means no limit; limits must be positive (``PartRoller/init(maxBytes:maxRows:)``).
    public init(maxBytes: Int?, maxRows: Int?, heldRows: Int = 32_768) {
        self.roller = PartRoller(maxBytes: maxBytes, maxRows: maxRows)
        self.heldRows = heldRows
    }

    /// The index of the part to open next, or `nil` when the table is written. Part 0 is always
    /// opened, even for a table with no rows.
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func nextPart() -> Int? {
        precondition(!partOpen && expectation == .nothing, "nextPart() called while a part is open")
        if startedAny && exhausted && head == queue.count { return nil }
        startedAny = true
        partOpen = true
        rowsInPart = 0
        expectation = .partStart
        return partIndex
    }

    /// The part is open; its encoder already holds `encodedBytes` (a CSV header, say).
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func partStarted(encodedBytes: Int) {
        expect(.partStart)
        self.encodedBytes = encodedBytes
    }

    /// What to do next in the open part.
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func nextAction() -> Action {
        precondition(partOpen && expectation == .nothing, "nextAction() called out of turn")
        while true {
            if flushPending {
                flushPending = false
                if !held.isEmpty { return takeHeld() }
            }
            if let series = pendingSeries {
                pendingSeries = nil
                place(series, bytesInOpenPart: encodedBytes)
            }
            if let piece = pendingAppend {
                pendingAppend = nil
                expectation = .encode
                return .append(piece)
            }
            if closing {
                if !held.isEmpty { return takeHeld() }
                closing = false
                partOpen = false
                partIndex += 1
                return .finishPart(rowCount: rowsInPart)
            }
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
                if exhausted {
                    closing = true
                    continue
                }
                expectation = .series
                return .readSeries
            }
            if queue[head].startsNewPart && rowsInPart > 0 {
                queue[head].startsNewPart = false
                closing = true
                continue
            }
            let piece = queue[head].piece
            head += 1
            rowsInPart += piece.rows.count
            measuring = piece
            expectation = .measure
            return .measure(piece)
        }
    }

    /// The next whole series, as slices of batches in order (answers ``Action/readSeries``).
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func seriesRead(_ series: [Piece]) {
        expect(.series)
        let bytesInOpenPart = encodedBytes + heldBound
        if bytesInOpenPart >= roller.maxBytes && !held.isEmpty {
            // Encode what is held to learn the part's real size before deciding.
            flushPending = true
            pendingSeries = series
        } else {
            place(series, bytesInOpenPart: bytesInOpenPart)
        }
    }

    /// There are no more series (answers ``Action/readSeries``).
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func inputEnded() {
        expect(.series)
        exhausted = true
    }

    /// The encoder's byte bound for the piece of the last ``Action/measure(_:)``; `Int.max` if it
    /// cannot tell.
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func measured(byteBound bound: Int) {
        expect(.measure)
        guard let piece = measuring else { preconditionFailure("no piece measured") }
        measuring = nil
        if bound == .max || bound > roller.maxBytes - heldBound {
            flushPending = true
            pendingAppend = piece
            return
        }
        held.append(piece)
        heldBound += bound
        heldCount += piece.rows.count
        if heldCount >= heldRows { flushPending = true }
    }

    /// The encoder took the rows of the last ``Action/encode(_:)`` or ``Action/append(_:)`` and
    /// now holds `byteCount` bytes.
    @_specialize(exported:true,where Batch == ForecastBatch)
    @_specialize(exported:true,where Batch == MetricsBatch)
    public mutating func encoded(byteCount: Int) {
        expect(.encode)
        encodedBytes = byteCount
    }

    private mutating func expect(_ expected: Expectation) {
        precondition(expectation == expected, "answer out of turn: expected \(expectation)")
        expectation = .nothing
    }

    private mutating func takeHeld() -> Action {
        let pieces = held
        held.removeAll(keepingCapacity: true)
        heldBound = 0
        heldCount = 0
        expectation = .encode
        return .encode(pieces)
    }

    /// Lets the roller place a whole series and queues its slices cut into the placed pieces.
    private mutating func place(_ series: [Piece], bytesInOpenPart: Int) {
        let count = series.reduce(0) { $0 + $1.rows.count }
        let placements = roller.place(seriesRows: count, bytesInOpenPart: bytesInOpenPart)
        var slices = series[...]
        for placement in placements {
            var needed = placement.rowCount
            var startsNew = placement.startsNewPart
            while needed > 0, var slice = slices.first {
                let take = min(needed, slice.rows.count)
                let rows = slice.rows.lowerBound..<(slice.rows.lowerBound + take)
                queue.append(((slice.batch, rows), startsNew))
                startsNew = false
                needed -= take
                slice.rows = rows.upperBound..<slice.rows.upperBound
                if slice.rows.isEmpty {
                    slices = slices.dropFirst()
                } else {
                    slices[slices.startIndex] = slice
                }
            }
        }
    }
}

extension PartPlacementMachine: Sendable where Batch: Sendable {}
