import ExportCore
import Testing

@testable import BacktestExport

/// The grouper's column compression and in-order check on columns long enough to be split over two
/// threads, with what decides the answer placed in either half or across the split.
@Suite struct RowBufferOrderTests {
    /// The step every value is a multiple of (over the minimum), worked out the slow way.
    static func referenceStep(_ values: [Int64]) -> UInt64 {
        let minimum = values.min()!
        var step: UInt64 = 0
        for value in values {
            var (a, b) = (step, UInt64(bitPattern: value &- minimum))
            while b != 0 { (a, b) = (b, a % b) }
            step = a
        }
        return step == 0 ? 1 : step
    }

    /// Columns for ``compressFindsTheRangeAndTheCommonStep(_:)``.
    enum Column: CaseIterable, Sendable {
        /// Hourly instants with one multiple of 60 s only near the end, near the start, at the split.
        case oddStepAtTheEnd, oddStepAtTheStart, oddStepAtTheSplit
        /// Daily instants, the minimum and the maximum in the second half.
        case extremesInTheSecondHalf
        case allEqual
        case short

        var values: [Int64] {
            func hourly(oddAt odd: Int) -> [Int64] {
                (0..<200_000).map { i in
                    i == odd ? 1_700_000_060_000 : 1_700_000_000_000 + Int64(i % 500) * 3_600_000
                }
            }
            switch self {
            case .oddStepAtTheEnd: return hourly(oddAt: 199_999)
            case .oddStepAtTheStart: return hourly(oddAt: 3)
            case .oddStepAtTheSplit: return hourly(oddAt: 100_000)
            case .extremesInTheSecondHalf:
                return (0..<131_072).map { i in
                    i == 120_000 ? -86_400_000 : i == 130_000 ? 86_400_000 * 40 : Int64(i % 7) * 86_400_000
                }
            case .allEqual: return Array(repeating: 1_000, count: 70_000)
            case .short: return (0..<5).map { Int64($0) * 6 + 3 }
            }
        }
    }

    @Test(arguments: Column.allCases)
    func compressFindsTheRangeAndTheCommonStep(_ column: Column) {
        let values = column.values
        let compressed = RowBuffer.compress(values)
        let step = Self.referenceStep(values)
        #expect(compressed.minimum == values.min()!)
        #expect(compressed.step.divisor == step)
        let range = UInt64(bitPattern: values.max()! &- values.min()!) / step
        #expect(compressed.bits == 64 - range.leadingZeroBitCount)
        for v in values.prefix(1_000) + values.suffix(1_000) {
            #expect(compressed.expand(compressed.reduce(v)) == v)
        }
    }

    /// A buffer of `count` rows of one series, timestamps `time(row)`, one window.
    static func buffer(count: Int, time: (Int) -> Int64) -> RowBuffer {
        var batch = ForecastBatch(forecastTypeCount: 1)
        for row in 0..<count {
            batch.append(
                series: SeriesKey(itemId: "item", dimensions: []),
                timestamp: time(row),
                target: 1,
                windowStart: 0,
                windowEnd: 1,
                forecasts: [2]
            )
        }
        var buffer = RowBuffer(forecastTypeCount: 1)
        buffer.append(batch, rows: 0..<count, provenance: { UInt64($0) })
        return buffer
    }

    @Test(arguments: [0, 1, 49_999, 50_000, 50_001, 99_998])
    func oneRowOutOfPlaceIsFoundWhereverItIs(swappedAfter row: Int) throws {
        let count = 100_000
        // Rows `row` and `row + 1` swapped: the only pair out of order.
        let buffer = Self.buffer(count: count) { i in
            Int64(i == row ? row + 1 : i == row + 1 ? row : i) * 3_600_000
        }
        let result = buffer.sortedOrder()
        #expect(result.duplicate == nil)
        #expect(result.order != nil)
    }

    @Test func rowsInOrderNeedNoOrder() {
        let result = Self.buffer(count: 100_000) { Int64($0) * 60_000 }.sortedOrder()
        #expect(result.order == nil)
        #expect(result.duplicate == nil)
    }

    @Test(arguments: [1, 49_999, 50_000, 99_999])
    func aRepeatedRowIsADuplicate(at row: Int) throws {
        let buffer = Self.buffer(count: 100_000) { i in Int64(i == row ? row - 1 : i) * 60_000 }
        let duplicate = try #require(buffer.sortedOrder().duplicate)
        #expect(Set([duplicate.first, duplicate.second]) == [row - 1, row])
    }

    /// The ids the prefix test draws from: empty, NUL bytes, ids equal in their first 16 bytes,
    /// multi-byte characters straddling byte 8 and byte 16, and ones that differ only past them.
    static let prefixIds: [String] = {
        let pieces = ["", "\0", "a", "a\0", "item_", "0000000", "9", "é", "\u{7F}", "\u{10FFFF}", "z"]
        var generator = SplitMix64(seed: 12)
        var ids = pieces
        for _ in 0..<400 {
            var id = ""
            for _ in 0..<Int(generator.next() % 7) { id += pieces[Int(generator.next() % UInt64(pieces.count))] }
            ids.append(id)
        }
        ids += ["item_000000000000", "item_0000000000000", "item_00000000000é", "item_00000000000\0x"]
        return ids
    }()

    static func padded(_ id: String) -> [UInt8] {
        Array((Array(id.utf8) + [UInt8](repeating: 0, count: 16)).prefix(16))
    }

    @Test func orderPrefixesOrderAsTheIdsDo() {
        var decided = 0
        for a in Self.prefixIds {
            for b in Self.prefixIds {
                let (pa, pb) = (RowBuffer.orderPrefix(of: a), RowBuffer.orderPrefix(of: b))
                guard pa != pb else {
                    // Equal prefixes leave the order to the full compare: the first 16 bytes,
                    // zero-padded, agree.
                    #expect(Self.padded(a) == Self.padded(b))
                    continue
                }
                decided += 1
                #expect((pa < pb) == (SeriesKey.byteOrder(a, b) < 0), "\(Array(a.utf8)) vs \(Array(b.utf8))")
            }
        }
        #expect(decided > Self.prefixIds.count * Self.prefixIds.count / 2)
    }

    @Test func seriesAreRankedByteWiseWhateverTheirPrefixes() throws {
        // Keys appended in reverse byte order, some equal in their first 16 bytes of item_id,
        // some told apart by a dimension only.
        let ids = Self.prefixIds.filter { !$0.isEmpty }
        var keys = Set<SeriesKey>()
        for (i, id) in ids.enumerated() { keys.insert(SeriesKey(itemId: id, dimensions: i % 3 == 0 ? ["b"] : ["a"])) }
        for id in ids.prefix(20) { keys.insert(SeriesKey(itemId: id, dimensions: ["a\0"])) }
        let expected = keys.sorted()
        let count = expected.count
        var batch = ForecastBatch(forecastTypeCount: 1)
        for key in expected.reversed() {
            batch.append(series: key, timestamp: 0, target: 1, windowStart: 0, windowEnd: 1, forecasts: [2])
        }
        var buffer = RowBuffer(forecastTypeCount: 1)
        buffer.append(batch, rows: 0..<count, provenance: { UInt64($0) })
        let order = try #require(buffer.sortedOrder().order)
        let sorted = buffer.gather(order, 0..<count)
        #expect(sorted.seriesIndex.map { sorted.series[Int($0)] } == expected)
    }
}
