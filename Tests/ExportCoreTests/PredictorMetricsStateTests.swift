import ExportCore
import Testing

private typealias F = MetricsFixture
private typealias Row = MetricsFixture.Row

/// The predictor-level state is sums, so disjoint sets of series (shards) merge into the state of
/// their union, and it survives being written out as plain numbers.
@Suite struct PredictorMetricsStateTests {
    let schema = F.schema([.mean, .quantile(hundredths: 10), .quantile(hundredths: 50), .quantile(hundredths: 90)])

    /// 30 series × 3 windows (one shifted window only some series have) × 7 points, with missing
    /// and zero actuals and missing forecasts, sorted by series, window, time.
    private func dataset() -> [Row] {
        var rng = SplitMix64(seed: 1234)
        var rows: [Row] = []
        for s in 0..<30 {
            let key = SeriesKey(itemId: "item\(s % 11)", dimensions: ["r\(s / 11)"])
            for w in 0..<3 {
                let start = F.d(Int64(200 + 7 * w + (s % 5 == 0 && w == 2 ? 1 : 0)))
                for p in 0..<7 {
                    let u = Double(rng.next() % 100_000) / 77
                    var target: Double? = rng.next() % 8 == 0 ? 0 : u
                    if rng.next() % 11 == 0 { target = nil }
                    func noisy(_ scale: Double) -> Double? {
                        rng.next() % 15 == 0 ? nil : u * scale + Double(Int64(rng.next() % 300) - 150) / 9
                    }
                    rows.append(
                        Row(
                            key: key,
                            timestamp: start + Int64(p) * F.day,
                            target: target,
                            start: start,
                            end: start + 6 * F.day,
                            forecasts: [noisy(1), noisy(0.7), noisy(1.02), noisy(1.4)]
                        )
                    )
                }
            }
        }
        rows.sort { ($0.key, $0.windowStart, $0.timestamp) < ($1.key, $1.windowStart, $1.timestamp) }
        return rows
    }

    private func history(for rows: [Row]) -> TargetHistory {
        var batch = TargetBatch()
        var rng = SplitMix64(seed: 99)
        var keys: [SeriesKey] = []
        for row in rows where keys.last != row.key { keys.append(row.key) }
        for key in keys {
            for day in 0..<200 {
                batch.append(series: key, timestamp: F.d(Int64(day)), target: Double(rng.next() % 500))
            }
        }
        var history = TargetHistory()
        history.add(batch)
        return history
    }

    private func accumulate(_ rows: [Row], options: MetricsOptions) throws -> MetricsAccumulator {
        var accumulator = MetricsAccumulator(schema: schema, options: options)
        let batch = F.batch(rows, forecastTypeCount: schema.forecastTypes.count)
        try accumulator.add(batch, rows: 0..<batch.rowCount)
        _ = accumulator.finish()
        return accumulator
    }

    private func expectClose(_ a: PredictorMetrics, _ b: PredictorMetrics) {
        #expect(a.seriesCount == b.seriesCount)
        #expect(a.windows.count == b.windows.count)
        func close(_ x: Double?, _ y: Double?) -> Bool {
            switch (x, y) {
            case (nil, nil): return true
            case (let x?, let y?): return x == y || abs(x - y) <= 1e-12 * max(abs(x), abs(y))
            default: return false
            }
        }
        for (wa, wb) in zip(a.windows, b.windows) {
            #expect(wa.start == wb.start && wa.end == wb.end && wa.itemCount == wb.itemCount)
            for (x, y) in zip(wa.values, wb.values) { #expect(close(x, y), "\(x as Any) vs \(y as Any)") }
        }
        for (x, y) in zip(a.summary, b.summary) { #expect(close(x, y), "\(x as Any) vs \(y as Any)") }
    }

    @Test(arguments: [
        [SeriesKey(itemId: "item4")], [SeriesKey(itemId: "item1", dimensions: ["r2"]), SeriesKey(itemId: "item7")], [],
    ])
    func shardsMergeIntoTheSingleMachineFigures(splitPoints: [SeriesKey]) throws {
        let rows = dataset()
        let options = MetricsOptions(history: history(for: rows))
        let whole = try accumulate(rows, options: options)
        var shards: [[Row]] = Array(repeating: [], count: splitPoints.count + 1)
        for row in rows { shards[splitPoints.filter { !(row.key < $0) }.count].append(row) }
        var merged = PredictorMetricsState(quantileCount: 3)
        var reversed = PredictorMetricsState(quantileCount: 3)
        let states = try shards.map { try accumulate($0, options: options).predictorState }
        for state in states { merged.merge(state) }
        for state in states.reversed() { reversed.merge(state) }
        #expect(merged.seriesCount == 30)
        #expect(whole.predictorMetrics.windows.count == 4)  // the shifted window is its own
        expectClose(merged.metrics(schema: schema), whole.predictorMetrics)
        expectClose(reversed.metrics(schema: schema), whole.predictorMetrics)
        #expect(whole.predictorMetrics.summaryValue("MASE") != nil)
    }

    @Test func plainNumbersReadBackBitForBit() throws {
        let accumulator = try accumulate(dataset(), options: MetricsOptions())
        let state = accumulator.predictorState
        let copy = try PredictorMetricsState(quantileCount: 3, seriesCount: state.seriesCount, windows: state.windows)
        #expect(copy == state)
        #expect(copy.metrics(schema: schema) == accumulator.predictorMetrics)
        // Sums, not averages: the window holds counts and (high, low) pairs.
        let window = state.windows[0]
        #expect(window.counts.count == 1 + 3 + 1 + 1)
        #expect(window.sums.count == 3 * 6 + 8 + 2)
    }

    @Test func numbersOfAnotherSchemaAreRefused() throws {
        let state = try accumulate(dataset(), options: MetricsOptions()).predictorState
        #expect(throws: ExportError.self) {
            try PredictorMetricsState(quantileCount: 2, seriesCount: 1, windows: state.windows)
        }
    }
}
