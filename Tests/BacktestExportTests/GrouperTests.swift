import BacktestExport
import ExportCore
import ExportSinks
import Foundation
import Testing

/// The grouper on its own: its output order against a reference sort, for key shapes that take
/// the radix path and the comparison fallback, in memory and through multi-pass merges; and the
/// duplicate rule on every path.
@Suite struct GrouperTests {
    /// A new temporary folder for run files (the caller removes it).
    static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("grouper-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Rows with the given time shapes; no two share series, window start and timestamp.
    static func rows(series: Int, points: Int, seed: UInt64, wide: Bool) -> [Row] {
        var random = SplitMix64(seed: seed)
        var rows: [Row] = []
        for s in 0..<series {
            // Keys whose byte order differs from their numbering, some sharing prefixes.
            let key = SeriesKey(itemId: "id\(s % 13)_\(s / 2)", dimensions: [["x", "x\u{0}", "é"][s % 3]])
            var used = Set<[Int64]>()
            while used.count < points {
                let window = Int64(random.next() % 4)
                // Wide: millisecond instants across eight millennia (too wide to pack into 64 bits).
                let start: Int64 =
                    wide
                    ? -30_000_000_000_000 + Int64(random.next() % 250_000_000_000_000)
                    : 1_700_000_000_000 + window * 86_400_000 * 7
                let timestamp: Int64 =
                    wide
                    ? start + Int64(random.next() % 1_000_000_007) : start + Int64(random.next() % 7) * 86_400_000
                guard used.insert([start, timestamp]).inserted else { continue }
                rows.append(
                    Row(
                        key: key,
                        timestamp: timestamp,
                        target: random.next() % 10 == 0 ? nil : Double(random.next() % 1000) / 8,
                        windowStart: start,
                        windowEnd: start + 6 * 86_400_000,
                        forecasts: [Double(random.next() % 100), random.next() % 17 == 0 ? nil : 1.5]
                    )
                )
            }
        }
        return rows
    }

    /// Everything the grouper hands out, as rows.
    static func group(
        _ rows: [Row],
        batchSize: Int,
        options: GroupingOptions
    ) throws -> (
        rows: [Row], grouper: SeriesGrouper<ForecastBatchList>
    ) {
        let grouper = SeriesGrouper(
            source: ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(rows, size: batchSize)),
            options: options
        )
        return (try drained(grouper), grouper)
    }

    /// Everything `grouper` hands out, as rows.
    static func drained(_ grouper: SeriesGrouper<ForecastBatchList>) throws -> [Row] {
        var out: [Row] = []
        while let batch = try grouper.nextBatch() {
            for i in 0..<batch.rowCount {
                out.append(
                    Row(
                        key: batch.series[Int(batch.seriesIndex[i])],
                        timestamp: batch.timestamp[i],
                        target: batch.target[i],
                        windowStart: batch.windowStart[i],
                        windowEnd: batch.windowEnd[i],
                        forecasts: batch.forecasts.map { $0[i] }
                    )
                )
            }
        }
        return out
    }

    /// `rows` in a random order (Fisher–Yates), the same for the same seed.
    static func shuffled(_ rows: [Row], seed: UInt64) -> [Row] {
        var generator = SplitMix64(seed: seed)
        var shuffled = rows
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) {
            shuffled.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        return shuffled
    }

    static func same(_ a: [Row], _ b: [Row]) -> Bool {
        a.count == b.count
            && zip(a, b).allSatisfy { x, y in
                x.key == y.key && x.timestamp == y.timestamp && x.windowStart == y.windowStart
                    && x.windowEnd == y.windowEnd && x.target?.bitPattern == y.target?.bitPattern
                    && x.forecasts.map { $0?.bitPattern } == y.forecasts.map { $0?.bitPattern }
            }
    }

    @Test(arguments: [false, true])
    func ordersLikeAReferenceSortInMemoryAndThroughMultiPassMerges(wide: Bool) async throws {
        let temp = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let rows = Self.rows(series: 37, points: 23, seed: wide ? 3 : 4, wide: wide)
        let reference = rows.sorted(by: exportOrder)
        let shuffled = Self.shuffled(rows, seed: 11)
        for input in [shuffled, reference, reference.reversed()] {
            let memory = try Self.group(input, batchSize: 100, options: GroupingOptions(temporaryDirectory: temp))
            #expect(Self.same(memory.rows, reference))
            #expect(memory.grouper.spilledRunCount == 0)
            // 3 KiB budget: dozens of runs; fan-in 3: merged in passes before the last merge.
            let merged = try Self.group(
                input,
                batchSize: 33,
                options: GroupingOptions(memoryLimit: 3 << 10, temporaryDirectory: temp, batchSize: 17, mergeFanIn: 3)
            )
            #expect(Self.same(merged.rows, reference))
            #expect(merged.grouper.spilledRunCount > 20)
            #expect(merged.grouper.mergePassCount >= 2)
            #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)
        }
    }

    /// Batches whose series carry numbers in a producer's lasting table (``SeriesOrigin``, as
    /// the CSV reader's do) group exactly as batches without them: two producers' tables with
    /// the same numbers for other keys, numbers met again in later batches, batches without an
    /// origin mixed in, in memory and with runs spilled (which forgets what the tables mapped).
    @Test func batchesNumberedByProducerTablesGroupAsUnnumberedOnes() async throws {
        let temp = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let rows = Self.rows(series: 41, points: 9, seed: 21, wide: false)
        let reference = rows.sorted(by: exportOrder)
        let shuffled = Self.shuffled(rows, seed: 5)
        // Two producers, alternating batches; each numbers its keys in order of first sight, so
        // the same number names different keys in the two tables.
        let tables = [SeriesOrigin.newTableNumber(), SeriesOrigin.newTableNumber()]
        var numbers: [[SeriesKey: Int32]] = [[:], [:]]
        var batches = Fixture.batches(shuffled, size: 13)
        for b in batches.indices where b % 5 != 4 {
            let producer = b % 2
            let ids = batches[b].series.map { key in
                if let known = numbers[producer][key] { return known }
                let number = Int32(numbers[producer].count)
                numbers[producer][key] = number
                return number
            }
            batches[b].seriesOrigin = SeriesOrigin(table: tables[producer], ids: ids)
        }
        #expect(numbers[0].count > 30 && numbers[1].count > 30)
        for options in [
            GroupingOptions(temporaryDirectory: temp),
            GroupingOptions(memoryLimit: 3 << 10, temporaryDirectory: temp, batchSize: 17, mergeFanIn: 3),
        ] {
            let grouper = SeriesGrouper(
                source: ForecastBatchList(schema: Fixture.schema, batches: batches),
                options: options
            )
            let out = try Self.drained(grouper)
            #expect(Self.same(out, reference))
        }
    }

    /// More rows than one radix digit spans (65,536): shuffled rows
    /// come out in the reference order, and a duplicate is named by its earliest two rows.
    @Test func manyShuffledRowsOrderLikeAReferenceSortAndNameTheirDuplicate() async throws {
        let rows = Self.rows(series: 3000, points: 25, seed: 31, wide: false)
        #expect(rows.count >= 1 << 16)
        let reference = rows.sorted(by: exportOrder)
        let shuffled = Self.shuffled(rows, seed: 12)
        let grouped = try Self.group(shuffled, batchSize: 5000, options: GroupingOptions())
        #expect(Self.same(grouped.rows, reference))

        // Three copies of one row, inserted before it (the later insertions first, so that the
        // earlier positions stay put).
        var withDuplicates = shuffled
        var copy = shuffled[70_000]
        copy.target = 1
        for at in [60_000, 40_000, 10_000] { withDuplicates.insert(copy, at: at) }
        let grouper = SeriesGrouper(
            source: ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(withDuplicates, size: 5000)),
            options: GroupingOptions()
        )
        let error = #expect(throws: ExportError.self) { while try grouper.nextBatch() != nil {} }
        // Rows are numbered from 1: the copies are rows 10,001, 40,002 and 60,003, the original 70,004.
        #expect(error?.message.hasPrefix("Rows 10001 and 40002 of the input") == true, "\(error?.message ?? "")")
    }

    /// Rows handed out in order read their series, window and timestamp back from the packed
    /// sort keys, which hold a window by its start: when two windows share a start (different
    /// ends in different series) the grouper must gather those columns instead. Both ways, on
    /// enough rows to gather on two threads, give the reference order and every row's own window.
    @Test(arguments: [false, true])
    func windowsSharingAStartKeepTheirOwnEnds(sharedStarts: Bool) async throws {
        var rows = Self.rows(series: 400, points: 25, seed: 41, wide: false)
        if sharedStarts {
            for i in rows.indices where rows[i].key.itemId.hasSuffix("1") { rows[i].windowEnd += 86_400_000 }
        }
        let reference = rows.sorted(by: exportOrder)
        let grouped = try Self.group(Self.shuffled(rows, seed: 5), batchSize: 3000, options: GroupingOptions())
        #expect(Self.same(grouped.rows, reference))
        #expect(Set(grouped.rows.map(\.windowEnd)).count == (sharedStarts ? 8 : 4))
    }

    /// The grouper holds a row's values together and a column's presence flags only once the
    /// column has a missing value: a column whose first missing value comes in a late batch, and
    /// a column missing only in the first row, keep every value and every gap in the right row,
    /// handed out in order from shuffled rows (gathered on two threads), from rows already in
    /// order (copied out), and through spilled runs.
    @Test func valuesAndGapsMetInAnyBatchStayInTheirRows() async throws {
        let temp = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        var rows = Self.rows(series: 400, points: 25, seed: 43, wide: false)
        for i in rows.indices {
            rows[i].target = Double(i) + 0.25
            rows[i].forecasts = [Double(-i), Double(i) * 3]
        }
        let reference = rows.sorted(by: exportOrder)
        var shuffled = Self.shuffled(rows, seed: 9)
        // Column 1 (first forecast) is missing only in the first row of the input, column 2
        // (second forecast) only in the last three, far past the first batches.
        shuffled[0].forecasts[0] = nil
        for i in shuffled.count - 3..<shuffled.count { shuffled[i].forecasts[1] = nil }
        let withGaps = shuffled.sorted(by: exportOrder)
        #expect(!Self.same(withGaps, reference))
        for input in [shuffled, withGaps] {
            let memory = try Self.group(input, batchSize: 977, options: GroupingOptions(temporaryDirectory: temp))
            #expect(Self.same(memory.rows, withGaps))
            let spilled = try Self.group(
                input,
                batchSize: 977,
                options: GroupingOptions(memoryLimit: 64 << 10, temporaryDirectory: temp, batchSize: 300)
            )
            #expect(Self.same(spilled.rows, withGaps))
            #expect(spilled.grouper.spilledRunCount > 3)
        }
    }

    @Test func settingTheSeriesClearsTheirOrigin() {
        var batch = ForecastBatch(forecastTypeCount: 0)
        batch.series = [SeriesKey(itemId: "a")]
        batch.seriesOrigin = SeriesOrigin(table: SeriesOrigin.newTableNumber(), ids: [0])
        batch.series.append(SeriesKey(itemId: "b"))
        #expect(batch.seriesOrigin == nil)
        batch.seriesOrigin = SeriesOrigin(table: SeriesOrigin.newTableNumber(), ids: [0, 1])
        batch.series[0] = SeriesKey(itemId: "c")
        #expect(batch.seriesOrigin == nil)
    }

    /// Appending to ``ForecastBatch/series`` from another module changes the array in place (an
    /// observer on the stored property once made every append copy it: quadratic batch building).
    @Test func appendingASeriesFromAnotherModuleIsInPlace() {
        var batch = ForecastBatch(forecastTypeCount: 0)
        batch.series.reserveCapacity(64)
        let storage = batch.series.withUnsafeBufferPointer { $0.baseAddress }
        var moves = 0
        for i in 0..<64 {
            batch.series.append(SeriesKey(itemId: "s\(i)"))
            // A copy would move the elements to a new buffer (checked at every append: the
            // allocator may hand the old address back two copies later).
            if batch.series.withUnsafeBufferPointer({ $0.baseAddress }) != storage { moves += 1 }
        }
        #expect(batch.series.count == 64)
        #expect(moves == 0)
    }

    @Test func reportsWhetherTheInputWasInOrder() async throws {
        let temp = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let sorted = Self.rows(series: 9, points: 10, seed: 5, wide: false).sorted(by: exportOrder)
        let spilling = GroupingOptions(memoryLimit: 2 << 10, temporaryDirectory: temp, mergeFanIn: 2)
        for options in [GroupingOptions(temporaryDirectory: temp), spilling] {
            #expect(try Self.group(sorted, batchSize: 7, options: options).grouper.inputWasInExportOrder)
            #expect(try !Self.group(sorted.reversed(), batchSize: 7, options: options).grouper.inputWasInExportOrder)
        }
    }

    /// A duplicate (series, window start, timestamp) is an input error naming both rows, found in
    /// memory, inside one spilled run, between runs at the final merge and between runs at an
    /// intermediate merge; lines come from the source when it has them.
    @Test(arguments: [1 << 30, 4 << 10, 2 << 10])
    func duplicatesAreInputErrorsNamingBothRows(budget: Int) async throws {
        let temp = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let rows = Self.rows(series: 20, points: 12, seed: 8, wide: false)
        for (first, second) in [(3, 4), (0, rows.count - 1), (17, 150)] {
            var input = rows
            var copy = input[first]
            copy.target = 99  // same series, window and timestamp; other values
            input.insert(copy, at: second + 1)
            let options = GroupingOptions(memoryLimit: budget, temporaryDirectory: temp, mergeFanIn: 3)
            var batches = Fixture.batches(input, size: 10)
            for b in batches.indices {
                batches[b].sourceName = "in.csv"
                batches[b].sourceLine = (0..<batches[b].rowCount).map { Int64(b * 10 + $0 + 2) }
            }
            let grouper = SeriesGrouper(
                source: ForecastBatchList(schema: Fixture.schema, batches: batches),
                options: options
            )
            let error = #expect(throws: ExportError.self) { while try grouper.nextBatch() != nil {} }
            #expect(error?.code == .input)
            #expect(error?.location == .init(file: "in.csv", line: second + 1 + 2))
            #expect(error?.message.contains("also on line \(first + 2)") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("series \(rows[first].key)") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)

            // Without lines: the rows' positions in the input.
            let plain = SeriesGrouper(
                source: ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(input, size: 10)),
                options: options
            )
            let other = #expect(throws: ExportError.self) { while try plain.nextBatch() != nil {} }
            #expect(other?.message.hasPrefix("Rows \(first + 1) and \(second + 2) of the input") == true)
        }
    }

    @Test func anExportWithADuplicatePublishesNothing() async throws {
        let temp = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        var rows = Fixture.rows(series: 30)
        rows.append(rows[12])
        for budget in [1 << 30, 4 << 10] {
            let sink = InMemorySink()
            await #expect(throws: ExportError.self) {
                _ = try await Fixture.export(
                    rows.shuffled(),
                    batchSize: 50,
                    configuration: try Fixture.configuration(maxPartRows: 5, memoryLimit: budget, temp: temp),
                    sink: sink
                )
            }
            #expect(sink.files.keys.sorted() == ["_CHECK"])
        }
    }

    /// With a publish gate the duplicate check over spilled runs runs beside the merge that hands
    /// rows out: the gate refuses with the same error the check gives on its own, and an export
    /// whose duplicate is in its last series (the merge reaches it last, long after the first
    /// parts are full) never publishes a part, not even one removed later.
    @Test func aGatedDuplicateCheckPublishesNothingEvenBriefly() async throws {
        let temp = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: temp) }
        var rows = Fixture.rows(series: 30).sorted(by: exportOrder)
        var copy = rows[rows.count - 1]
        copy.target = 1
        rows.insert(copy, at: 0)

        let options = GroupingOptions(memoryLimit: 4 << 10, temporaryDirectory: temp, batchSize: 10)
        let gate = PublishGate()
        let gated = SeriesGrouper(
            source: ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(rows, size: 50)),
            options: options,
            publishGate: gate
        )
        let plain = SeriesGrouper(
            source: ForecastBatchList(schema: Fixture.schema, batches: Fixture.batches(rows, size: 50)),
            options: options
        )
        let expected = #expect(throws: ExportError.self) { _ = try plain.nextBatch() }
        // The gated grouper hands its first rows out before the check has ended.
        #expect(try gated.nextBatch() != nil)
        let refused = await #expect(throws: ExportError.self) { try await gate.passed() }
        #expect(refused?.message == expected?.message)
        #expect(gated.spilledRunCount > 1)

        // Rows handed on ten at a time, parts of five rows: without the gate, parts would be
        // published long before the merge reaches the duplicate.
        let sink = InMemorySink()
        await #expect(throws: ExportError.self) {
            _ = try await Fixture.export(
                rows,
                batchSize: 50,
                configuration: ExportConfiguration(
                    jobName: try JobName("TestJob"),
                    timestamp: try ExportTimestamp(parsing: "2024-01-02T03:04:05Z"),
                    maxPartRows: 5,
                    grouping: options
                ),
                sink: sink
            )
        }
        #expect(sink.everPublished == ["_CHECK"])
    }
}
