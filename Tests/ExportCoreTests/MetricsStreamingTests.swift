import ExportCore
import Testing

private typealias F = MetricsFixture
private typealias Row = MetricsFixture.Row

/// Order independence, batch-size independence, streaming and the O(1) state on sorted input.
@Suite struct MetricsStreamingTests {
    let schema = F.schema([.quantile(hundredths: 10), .mean, .quantile(hundredths: 50), .quantile(hundredths: 90)])

    /// 40 series × 3 windows × 9 points of pseudo-random data with missing and NaN actuals,
    /// missing forecasts, zero actuals, negative forecasts, one window without actuals, in
    /// series / window / time order.
    fileprivate func dataset() -> [Row] {
        var rng = SplitMix64(seed: 42)
        var rows: [Row] = []
        for s in 0..<40 {
            let key = SeriesKey(itemId: "item\(s % 17)", dimensions: ["r\(s / 17)"])
            for w in 0..<3 {
                let start = F.d(Int64(100 + 9 * w))
                let end = start + 8 * F.day
                for p in 0..<9 {
                    let u = Double(rng.next() % 10_000) / 97
                    var target: Double? = rng.next() % 9 == 0 ? 0 : u
                    if rng.next() % 13 == 0 { target = nil }
                    if rng.next() % 29 == 0 { target = .nan }
                    if s == 3 && w == 1 { target = nil }
                    func noisy(_ scale: Double) -> Double? {
                        if rng.next() % 17 == 0 { return nil }
                        return u * scale + Double(Int64(rng.next() % 200) - 100) / 7
                    }
                    rows.append(
                        Row(
                            key: key,
                            timestamp: start + Int64(p) * F.day,
                            target: target,
                            start: start,
                            end: end,
                            forecasts: [noisy(0.8), noisy(1), noisy(1.01), noisy(1.3)]
                        )
                    )
                }
            }
        }
        rows.sort { ($0.key, $0.windowStart, $0.timestamp) < ($1.key, $1.windowStart, $1.timestamp) }
        return rows
    }

    fileprivate func history(for rows: [Row]) -> TargetHistory {
        var batch = TargetBatch()
        var rng = SplitMix64(seed: 7)
        var keys: [SeriesKey] = []
        for row in rows where keys.last != row.key { keys.append(row.key) }
        for key in keys {
            for day in 0..<130 {
                let v: Double? = rng.next() % 11 == 0 ? nil : Double(rng.next() % 1000) / 13
                batch.append(series: key, timestamp: F.d(Int64(day)), target: v)
            }
        }
        var history = TargetHistory()
        history.add(batch)
        return history
    }

    /// Feeds `rows` in batches of `size`; with `streaming`, takes completed series after each batch.
    fileprivate func run(
        _ rows: [Row],
        batchSize size: Int,
        streaming: Bool,
        options: MetricsOptions
    ) throws -> ([F.FlatRow], PredictorMetrics) {
        var accumulator = MetricsAccumulator(schema: schema, options: options)
        var out: [MetricsBatch] = []
        var i = 0
        while i < rows.count {
            let chunk = rows[i..<min(i + size, rows.count)]
            // Pad the batch with a row of another series on each side to exercise `rows:`.
            var padded = Array(chunk)
            let pad = Row(
                key: SeriesKey(itemId: "pad"),
                timestamp: 0,
                target: 1,
                start: 0,
                end: 0,
                forecasts: [1, 1, 1, 1]
            )
            padded.insert(pad, at: 0)
            padded.append(pad)
            let batch = F.batch(padded, forecastTypeCount: schema.forecastTypes.count)
            try accumulator.add(batch, rows: 1..<(batch.rowCount - 1))
            if streaming, let done = accumulator.takeCompletedSeries() { out.append(done) }
            i += size
        }
        out.append(accumulator.finish())
        return (F.flatten(out), accumulator.predictorMetrics)
    }

    @Test func sameRowsWhateverTheOrderAndBatchSize() throws {
        let sorted = dataset()
        let options = MetricsOptions(frequency: .daily, history: history(for: sorted))
        let (reference, referencePredictor) = try run(
            sorted,
            batchSize: sorted.count,
            streaming: false,
            options: options
        )
        #expect(reference.count == 40 * 4)
        #expect(reference.contains { $0.bits.allSatisfy { $0 == nil } })  // the window without actuals
        #expect(reference.contains { $0.bits.last! != nil })  // some MASE is defined

        var shuffled = sorted
        var rng = SplitMix64(seed: 2024)
        shuffled.shuffle(using: &rng)
        for size in [1, 7, 4096] {
            let (fromShuffled, predictorShuffled) = try run(
                shuffled,
                batchSize: size,
                streaming: false,
                options: options
            )
            #expect(fromShuffled == reference, "shuffled, batches of \(size)")
            #expect(predictorShuffled == referencePredictor, "shuffled, batches of \(size)")
            let (streamed, predictorStreamed) = try run(sorted, batchSize: size, streaming: true, options: options)
            #expect(streamed == reference, "sorted and streamed, batches of \(size)")
            #expect(predictorStreamed == referencePredictor, "sorted and streamed, batches of \(size)")
        }
    }

    @Test func groupedButUnsortedSeriesAreHeldUntilTheyCanComeOutInOrder() throws {
        let sorted = dataset()
        let options = MetricsOptions()
        let (reference, _) = try run(sorted, batchSize: sorted.count, streaming: false, options: options)
        // Whole series in reverse key order, streamed: nothing can be handed out before the end.
        var bySeries: [[Row]] = []
        for row in sorted {
            if bySeries.last?.first?.key == row.key {
                bySeries[bySeries.count - 1].append(row)
            } else {
                bySeries.append([row])
            }
        }
        let reversed = Array(bySeries.reversed().joined())
        let (streamed, _) = try run(reversed, batchSize: 7, streaming: true, options: options)
        #expect(streamed == reference)
    }

    @Test func aSeriesBeforeOneAlreadyHandedOutIsRefused() throws {
        let s = F.schema([.mean])
        var accumulator = MetricsAccumulator(schema: s)
        let b = F.batch(
            [Row(key: SeriesKey(itemId: "b"), timestamp: 0, target: 1, start: 0, end: 0, forecasts: [1])],
            forecastTypeCount: 1
        )
        try accumulator.add(b, rows: 0..<1)
        accumulator.finishCurrentSeries()
        let taken = accumulator.takeCompletedSeries()
        #expect(taken?.rowCount == 2)
        #expect(accumulator.takeCompletedSeries() == nil)
        for item in ["a", "b"] {
            let late = F.batch(
                [Row(key: SeriesKey(itemId: item), timestamp: 0, target: 1, start: 0, end: 0, forecasts: [1])],
                forecastTypeCount: 1
            )
            #expect(throws: ExportError.self) { try accumulator.add(late, rows: 0..<1) }
        }
        let c = F.batch(
            [Row(key: SeriesKey(itemId: "c"), timestamp: 0, target: 1, start: 0, end: 0, forecasts: [1])],
            forecastTypeCount: 1
        )
        try accumulator.add(c, rows: 0..<1)
        #expect(accumulator.finish().series == [SeriesKey(itemId: "c")])
    }

    @Test func stateStaysConstantOnSortedInputOfManySeries() throws {
        let s = F.schema([.mean, .quantile(hundredths: 50)])
        let seriesCount = 5000
        var accumulator = MetricsAccumulator(schema: s)
        var batch = ForecastBatch(forecastTypeCount: 2)
        var maxSeries = 0
        var maxWindows = 0
        var emittedRows = 0
        var emittedSeries: [SeriesKey] = []
        func flush() throws {
            try accumulator.add(batch, rows: 0..<batch.rowCount)
            batch.removeAll()
            maxSeries = max(maxSeries, accumulator.openSeriesCount)
            maxWindows = max(maxWindows, accumulator.openWindowCount)
            if let done = accumulator.takeCompletedSeries() {
                emittedRows += done.rowCount
                emittedSeries += done.series
            }
        }
        // 2 windows × 8 points per series, batches of 64 rows: 4 series per batch.
        for i in 0..<seriesCount {
            let key = SeriesKey(itemId: paddedName(i))
            for w in 0..<2 {
                for p in 0..<8 {
                    let t = F.d(Int64(10 * w + p))
                    batch.append(
                        series: key,
                        timestamp: t,
                        target: Double(p),
                        windowStart: F.d(Int64(10 * w)),
                        windowEnd: F.d(Int64(10 * w + 7)),
                        forecasts: [Double(p) + 1, Double(p)]
                    )
                    if batch.rowCount == 64 { try flush() }
                }
            }
        }
        if batch.rowCount > 0 { try flush() }
        let rest = accumulator.finish()
        emittedRows += rest.rowCount
        emittedSeries += rest.series
        #expect(maxSeries <= 5)
        #expect(maxWindows <= 10)
        #expect(accumulator.openSeriesCount == 0)
        #expect(accumulator.openWindowCount == 0)
        #expect(emittedRows == seriesCount * 3)
        #expect(emittedSeries.count == seriesCount)
        #expect(emittedSeries == emittedSeries.sorted())
        #expect(accumulator.predictorMetrics.seriesCount == seriesCount)
        #expect(accumulator.predictorMetrics.windows.map(\.itemCount) == [seriesCount, seriesCount])
    }

    /// Zero-padded so that byte order equals numeric order.
    private func paddedName(_ i: Int) -> String {
        let digits = String(i)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }
}
