import ExportCore
import Testing

@testable import BacktestExport

/// Provenance held as runs gives back every row's value, whatever the gaps between them, and
/// costs one run per break in the sequence.
@Suite struct ProvenanceRunsTests {
    @Test func everyRowReadsBackItsValueWithOneRunPerBreak() {
        var random = SplitMix64(seed: 9)
        var values: [UInt64] = []
        var value: UInt64 = 2
        var breaks = 0
        for _ in 0..<5000 {
            switch random.next() % 10 {
            case 0:
                value += 2 + random.next() % 5  // an empty line or a record of several lines
                breaks += 1
            case 1:
                value = (random.next() % 3) << RowProvenance.lineBits | (random.next() % 1000)  // another file
                breaks += 1
            default:
                value += 1
            }
            values.append(value)
        }
        var runs = ProvenanceRuns()
        for v in values { runs.append(v) }
        #expect(runs.count == values.count)
        #expect((0..<values.count).allSatisfy { runs[$0] == values[$0] })
        // A break that happens to continue the sequence (value + 1) is no break.
        #expect(runs.runCount <= breaks + 1)
        #expect(runs.runCount > breaks / 2)
        runs.removeAll()
        #expect(runs.count == 0 && runs.runCount == 0)
        runs.append(7)
        runs.append(8)
        #expect(runs.runCount == 1 && runs[1] == 8)
    }
}
