import ExportCore
import Testing

/// Drives a ``PartPlacementMachine`` alone, with a simulated encoder: no sink, no real encoding.
@Suite struct PartPlacementMachineTests {
    /// A batch id and its rows; a series is a list of slices.
    typealias Series = [(batch: Int, rows: Range<Int>)]

    /// What the machine made of a table: the parts, each as its pieces in order, and the encoder
    /// calls.
    struct Outcome {
        var parts: [[(batch: Int, rows: Range<Int>)]] = []
        var rowCounts: [Int] = []
        var byteCounts: [Int] = []
        var encodeCalls: [Int] = []  // pieces per call; 0 marks a single-piece append
        var seriesReads = 0
    }

    /// A simulated encoder: `header` bytes at the start of a part, `rowBytes(batch, row)` per row,
    /// and `bound(rows)` as its byte bound (`nil`: it cannot tell).
    struct Encoder {
        var header = 10
        var rowBytes: (Int, Int) -> Int = { _, _ in 10 }
        var bound: ((Int, Range<Int>) -> Int)? = { _, rows in rows.count * 10 }
    }

    static func run(
        _ input: [Series],
        maxBytes: Int? = nil,
        maxRows: Int? = nil,
        heldRows: Int = 32_768,
        encoder: Encoder = Encoder()
    ) -> Outcome {
        var machine = PartPlacementMachine<Int>(maxBytes: maxBytes, maxRows: maxRows, heldRows: heldRows)
        var outcome = Outcome()
        var next = input.makeIterator()
        while let index = machine.nextPart() {
            #expect(index == outcome.parts.count)
            outcome.parts.append([])
            var byteCount = encoder.header
            machine.partStarted(encodedBytes: byteCount)
            func encode(_ piece: (batch: Int, rows: Range<Int>)) {
                outcome.parts[outcome.parts.count - 1].append(piece)
                for row in piece.rows { byteCount += encoder.rowBytes(piece.batch, row) }
            }
            partLoop: while true {
                switch machine.nextAction() {
                case .readSeries:
                    outcome.seriesReads += 1
                    if let series = next.next() { machine.seriesRead(series) } else { machine.inputEnded() }
                case .measure(let piece):
                    machine.measured(byteBound: encoder.bound?(piece.batch, piece.rows) ?? .max)
                case .encode(let pieces):
                    #expect(!pieces.isEmpty)
                    pieces.forEach(encode)
                    outcome.encodeCalls.append(pieces.count)
                    machine.encoded(byteCount: byteCount)
                case .append(let piece):
                    encode(piece)
                    outcome.encodeCalls.append(0)
                    machine.encoded(byteCount: byteCount)
                case .finishPart(let rowCount):
                    let rows = outcome.parts[outcome.parts.count - 1].reduce(0) { $0 + $1.rows.count }
                    #expect(rowCount == rows)
                    outcome.rowCounts.append(rowCount)
                    outcome.byteCounts.append(byteCount)
                    break partLoop
                }
            }
        }
        return outcome
    }

    /// Series `0..<count.count`, series i of `counts[i]` rows in batch i.
    static func series(_ counts: [Int]) -> [Series] {
        counts.enumerated().map { [(batch: $0.offset, rows: 0..<$0.element)] }
    }

    /// Which series (batch ids) each part holds, with their row counts.
    static func layout(_ outcome: Outcome) -> [[String]] {
        outcome.parts.map { $0.map { "\($0.batch):\($0.rows.lowerBound)..<\($0.rows.upperBound)" } }
    }

    @Test func emptyTableGetsPartZeroOnly() {
        let outcome = Self.run([], maxBytes: 1, maxRows: 1)
        #expect(outcome.rowCounts == [0])
        #expect(outcome.byteCounts == [10])
        #expect(outcome.encodeCalls.isEmpty)
        #expect(outcome.seriesReads == 1)
        // Series with no rows are no rows.
        #expect(Self.run(Self.series([0, 0]), maxRows: 1).rowCounts == [0])
    }

    @Test func noLimitsMakeOnePart() {
        let outcome = Self.run(Self.series([3, 1, 5]))
        #expect(outcome.rowCounts == [9])
        #expect(Self.layout(outcome) == [["0:0..<3", "1:0..<1", "2:0..<5"]])
        #expect(outcome.seriesReads == 4)
    }

    @Test func rowLimitKeepsASeriesWholeInTheNextPart() {
        let outcome = Self.run(Self.series([3, 3, 2, 4]), maxRows: 5)
        #expect(Self.layout(outcome) == [["0:0..<3"], ["1:0..<3", "2:0..<2"], ["3:0..<4"]])
    }

    @Test func exactRowLimitFillsThePartAndIsNotSplit() {
        // 2 + 3 == 5 fits exactly; a series of exactly 5 rows alone is one part.
        let outcome = Self.run(Self.series([2, 3, 5, 1]), maxRows: 5)
        #expect(Self.layout(outcome) == [["0:0..<2", "1:0..<3"], ["2:0..<5"], ["3:0..<1"]])
    }

    @Test func aSeriesLargerThanTheRowLimitIsSplitIntoFullPieces() {
        let outcome = Self.run(Self.series([2, 12, 1]), maxRows: 5)
        #expect(
            Self.layout(outcome) == [["0:0..<2"], ["1:0..<5"], ["1:5..<10"], ["1:10..<12", "2:0..<1"]]
        )
    }

    @Test func aSeriesSpreadOverBatchesIsCutAcrossThem() {
        let input: [Series] = [
            [(batch: 0, rows: 4..<7), (batch: 1, rows: 0..<4)],  // 7 rows over two batches
            [(batch: 1, rows: 4..<6)],
        ]
        let outcome = Self.run(input, maxRows: 5)
        #expect(Self.layout(outcome) == [["0:4..<7", "1:0..<2"], ["1:2..<4", "1:4..<6"]])
    }

    @Test func byteLimitClosesAtTheFirstSeriesBoundaryOnceReached() {
        // Header 10 + 10 per row; limit 50: after 4 rows the part holds exactly 50 bytes.
        let exact = Self.run(Self.series([2, 2, 1, 3]), maxBytes: 50)
        #expect(Self.layout(exact) == [["0:0..<2", "1:0..<2"], ["2:0..<1", "3:0..<3"]])
        #expect(exact.byteCounts == [50, 50])
        // One byte short of the limit: the part stays open for the next series (and may exceed it).
        let short = Self.run(Self.series([2, 2, 1, 3]), maxBytes: 51)
        #expect(Self.layout(short) == [["0:0..<2", "1:0..<2", "2:0..<1"], ["3:0..<3"]])
        #expect(short.byteCounts == [60, 40])
    }

    @Test func aHeaderAloneOverTheByteLimitDoesNotMakeAnEmptyPart() {
        let outcome = Self.run(Self.series([1, 1]), maxBytes: 5)
        #expect(outcome.rowCounts == [1, 1])
    }

    @Test func bothLimitsTogether() {
        // Rows limit 4, bytes limit 45 (header 10 + 10 a row): whichever comes first.
        let outcome = Self.run(Self.series([1, 1, 1, 1, 3, 2, 5]), maxBytes: 45, maxRows: 4)
        #expect(outcome.rowCounts == [4, 3, 2, 4, 1])
    }

    @Test func heldPiecesAreEncodedTogetherInRunsOfHeldRows() {
        let outcome = Self.run(Self.series(Array(repeating: 2, count: 10)), heldRows: 6)
        #expect(outcome.encodeCalls == [3, 3, 3, 1])
        #expect(outcome.rowCounts == [20])
    }

    @Test func piecesWithoutAByteBoundAreAppendedOneByOne() {
        var encoder = Encoder()
        encoder.bound = nil
        let outcome = Self.run(Self.series([2, 3, 1]), maxBytes: 1_000, encoder: encoder)
        #expect(outcome.encodeCalls == [0, 0, 0])
        // A piece whose bound does not fit under the limit beside the held ones: what is held goes
        // first, then the piece alone.
        var big = Encoder()
        big.bound = { _, rows in rows.count * 10 }
        let mixed = Self.run(Self.series([2, 3, 30]), maxBytes: 100, encoder: big)
        #expect(mixed.encodeCalls == [2, 0])
    }

    /// Holding pieces back never moves a part boundary: the same parts as encoding piece by piece,
    /// for random series, row sizes, limits and bounds that overestimate.
    @Test(arguments: 0..<40)
    func holdingBackEndsPartsWhereAppendingOneByOneWould(_ seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        func next(_ range: ClosedRange<Int>) -> Int { Int(random.next() % UInt64(range.count)) + range.lowerBound }
        var input: [Series] = []
        for batch in 0..<next(0...60) {
            let size = next(0...6) == 0 ? next(20...200) : next(0...12)
            if size > 3 && next(0...1) == 0 {
                input.append([(batch, 0..<(size / 2)), (batch + 1_000, 0..<(size - size / 2))])
            } else {
                input.append([(batch, 0..<size)])
            }
        }
        let maxRows: Int? = next(0...2) == 0 ? nil : next(1...50)
        let maxBytes: Int? = next(0...2) == 0 ? nil : next(1...2_000)
        let slack = next(0...3)
        var encoder = Encoder()
        encoder.header = next(0...40)
        encoder.rowBytes = { batch, row in 8 + (batch &* 31 &+ row &* 17) % 9 }
        encoder.bound = { _, rows in rows.count * (17 + slack) }
        let held = Self.run(input, maxBytes: maxBytes, maxRows: maxRows, heldRows: next(2...64), encoder: encoder)
        let oneByOne = Self.run(input, maxBytes: maxBytes, maxRows: maxRows, heldRows: 1, encoder: encoder)
        #expect(Self.layout(held) == Self.layout(oneByOne))
        #expect(held.byteCounts == oneByOne.byteCounts)
        // Every row written exactly once, and no part over the row limit.
        let rows = input.flatMap { $0 }.reduce(0) { $0 + $1.rows.count }
        #expect(held.rowCounts.reduce(0, +) == rows)
        #expect(held.rowCounts.allSatisfy { $0 <= (maxRows ?? .max) })
        #expect(held.rowCounts.count == 1 || held.rowCounts.allSatisfy { $0 > 0 })
    }
}
