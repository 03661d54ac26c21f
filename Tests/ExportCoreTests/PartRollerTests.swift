import ExportCore
import Testing

@Suite struct PartRollerTests {
    /// Places random series and checks every rule of SPEC §2 on the resulting parts.
    @Test(arguments: [1, 7, 4096, nil] as [Int?])
    func rowLimitKeepsSeriesWholeUnlessTheyAloneExceedIt(_ maxRows: Int?) {
        var generator = SystemRandomNumberGenerator()
        var roller = PartRoller(maxRows: maxRows)
        var parts: [[(series: Int, rows: Int)]] = [[]]
        var sizes: [Int] = []
        for series in 0..<2_000 {
            let size = Int.random(in: 1...(series % 10 == 0 ? 9_000 : 12), using: &generator)
            sizes.append(size)
            for placement in roller.place(seriesRows: size, bytesInOpenPart: 0) {
                if placement.startsNewPart { parts.append([]) }
                parts[parts.count - 1].append((series, placement.rowCount))
            }
        }
        let limit = maxRows ?? .max
        #expect(roller.partIndex == parts.count - 1)
        // Every row placed exactly once, in order.
        #expect(parts.flatMap { $0 }.reduce(0) { $0 + $1.rows } == sizes.reduce(0, +))
        for part in parts {
            let rows = part.reduce(0) { $0 + $1.rows }
            #expect(rows <= limit)
            #expect(rows > 0)
        }
        // A series appears in more than one part only if it alone exceeds the limit.
        var partsOfSeries: [Int: Set<Int>] = [:]
        for (index, part) in parts.enumerated() {
            for piece in part { partsOfSeries[piece.series, default: []].insert(index) }
        }
        for (series, set) in partsOfSeries where set.count > 1 {
            #expect(sizes[series] > limit)
            #expect(
                set.count == (sizes[series] + limit - 1) / limit || set.count == (sizes[series] + limit - 1) / limit + 1
            )
        }
        // A new part starts only when the next series would not fit.
        for (a, b) in zip(parts, parts.dropFirst()) {
            let rowsA = a.reduce(0) { $0 + $1.rows }
            guard let next = b.first, a.last?.series != next.series else { continue }
            #expect(rowsA + min(sizes[next.series], limit) > limit || sizes[next.series] > limit)
        }
        if maxRows == nil { #expect(parts.count == 1) }
    }

    @Test func byteLimitClosesAtTheFirstSeriesBoundaryAfterReachingIt() {
        var roller = PartRoller(maxBytes: 100)
        #expect(roller.place(seriesRows: 3, bytesInOpenPart: 0) == [.init(startsNewPart: false, rowCount: 3)])
        #expect(roller.place(seriesRows: 3, bytesInOpenPart: 99) == [.init(startsNewPart: false, rowCount: 3)])
        #expect(roller.place(seriesRows: 5, bytesInOpenPart: 100) == [.init(startsNewPart: true, rowCount: 5)])
        #expect(roller.partIndex == 1)
        #expect(roller.rowsInOpenPart == 5)
        // An empty part is never closed, whatever its bytes (a header alone can exceed a tiny limit).
        var tiny = PartRoller(maxBytes: 1)
        #expect(tiny.place(seriesRows: 2, bytesInOpenPart: 50) == [.init(startsNewPart: false, rowCount: 2)])
        #expect(tiny.place(seriesRows: 2, bytesInOpenPart: 60) == [.init(startsNewPart: true, rowCount: 2)])
    }

    @Test func splitsASeriesLargerThanTheRowLimitIntoFullPieces() {
        var roller = PartRoller(maxRows: 7)
        #expect(roller.place(seriesRows: 3, bytesInOpenPart: 0) == [.init(startsNewPart: false, rowCount: 3)])
        #expect(
            roller.place(seriesRows: 16, bytesInOpenPart: 0) == [
                .init(startsNewPart: true, rowCount: 7), .init(startsNewPart: true, rowCount: 7),
                .init(startsNewPart: true, rowCount: 2),
            ]
        )
        #expect(roller.place(seriesRows: 5, bytesInOpenPart: 0) == [.init(startsNewPart: false, rowCount: 5)])
        #expect(roller.place(seriesRows: 1, bytesInOpenPart: 0) == [.init(startsNewPart: true, rowCount: 1)])
        #expect(roller.place(seriesRows: 0, bytesInOpenPart: 0).isEmpty)
    }
}
