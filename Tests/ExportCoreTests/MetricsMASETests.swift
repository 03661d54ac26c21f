import ExportCore
import Testing

private typealias F = MetricsFixture
private typealias Row = MetricsFixture.Row

/// MASE, the target history and the frequency rules.
@Suite struct MetricsMASETests {
    let schema = F.schema([.mean])
    let a = SeriesKey(itemId: "a")

    /// Daily history of `a` for days 0…15; day 3 is missing; days 14, 15 lie inside the windows.
    fileprivate func history(_ key: SeriesKey? = nil) -> TargetHistory {
        let values: [Double?] = [1, 3, 2, nil, 4, 6, 8, 2, 2, 9, 5, 4, 10, 7, 100, 3]
        var batch = TargetBatch()
        for (day, v) in values.enumerated() { batch.append(series: key ?? a, timestamp: F.d(Int64(day)), target: v) }
        var history = TargetHistory()
        history.add(batch)
        return history
    }

    /// Window 1 starts on day 14: y 10, 20 against mean 12, 15 → mean|e| 3.5.
    /// Window 2 starts on day 16: y 4 against mean 5 → mean|e| 1.
    fileprivate var rows: [Row] {
        [
            Row(key: a, timestamp: F.d(14), target: 10, start: F.d(14), end: F.d(15), forecasts: [12]),
            Row(key: a, timestamp: F.d(15), target: 20, start: F.d(14), end: F.d(15), forecasts: [15]),
            Row(key: a, timestamp: F.d(16), target: 4, start: F.d(16), end: F.d(16), forecasts: [5]),
        ]
    }

    @Test func maseUsesSeasonalPairsBeforeTheWindowStart() throws {
        let options = MetricsOptions(frequency: .daily, history: history())
        let (out, _) = try F.metrics(rows, schema: schema, options: options)
        // Window 1 (t < day 14), pairs (t, t−7): t = 7…13 except t = 10 (day 3 missing):
        // |2−1| + |2−3| + |9−2| + |4−4| + |10−6| + |7−8| = 14 over 6 pairs.
        #expect(F.close(F.value(out, schema, "MASE", row: 0), 3.5 / (14.0 / 6)))
        // Window 2 (t < day 16) adds t = 14 (|100 − 2| = 98) and t = 15 (|3 − 2| = 1): 113 over 8.
        #expect(F.close(F.value(out, schema, "MASE", row: 1), 1 / (113.0 / 8)))
        let window1: Double = 3.5 / (14.0 / 6)
        let window2: Double = 8.0 / 113
        #expect(F.close(F.value(out, schema, "MASE", row: 2), (window1 + window2) / 2))
    }

    @Test func frequencyIsInferredFromTheHistoryWhenNotGiven() throws {
        let inferred = try F.metrics(rows, schema: schema, options: MetricsOptions(history: history())).0
        let given = try F.metrics(rows, schema: schema, options: MetricsOptions(frequency: .daily, history: history()))
            .0
        #expect(MetricsAccumulator(schema: schema, options: MetricsOptions(history: history())).frequency == .daily)
        #expect(F.flatten([inferred]) == F.flatten([given]))
        #expect(F.value(inferred, schema, "MASE", row: 0) != nil)
    }

    /// SPEC §6: a zero scale gives `0.0`, as in real exports.
    @Test func zeroScaleGivesZero() throws {
        var batch = TargetBatch()
        for day in 0..<14 { batch.append(series: a, timestamp: F.d(Int64(day)), target: 5) }
        var history = TargetHistory()
        history.add(batch)
        let (out, _) = try F.metrics(rows, schema: schema, options: MetricsOptions(frequency: .daily, history: history))
        #expect(F.value(out, schema, "MASE", row: 0) == 0)
        #expect(F.value(out, schema, "RMSE", row: 0) != nil)
        #expect(history.seasonalScales(of: a, windowStarts: [F.d(14)], frequency: .daily) == [0])
    }

    @Test func noSeasonalPairIsNotDefined() throws {
        var batch = TargetBatch()
        for day in 8..<14 { batch.append(series: a, timestamp: F.d(Int64(day)), target: Double(day)) }
        var history = TargetHistory()
        history.add(batch)
        let (out, _) = try F.metrics(rows, schema: schema, options: MetricsOptions(frequency: .daily, history: history))
        #expect(F.value(out, schema, "MASE", row: 0) == nil)
        #expect(F.value(out, schema, "MASE", row: 2) == nil)
    }

    @Test func noHistoryForTheSeriesOrNoFrequencyIsNotDefined() throws {
        let other = history(SeriesKey(itemId: "other"))
        let (out, _) = try F.metrics(rows, schema: schema, options: MetricsOptions(frequency: .daily, history: other))
        #expect(F.value(out, schema, "MASE", row: 0) == nil)
        // Irregular history (gaps of 3 days) cannot be inferred and no frequency is given.
        var batch = TargetBatch()
        for day in stride(from: 0, to: 14, by: 3) { batch.append(series: a, timestamp: F.d(Int64(day)), target: 1) }
        var irregular = TargetHistory()
        irregular.add(batch)
        let accumulator = MetricsAccumulator(schema: schema, options: MetricsOptions(history: irregular))
        #expect(accumulator.frequency == nil)
    }

    @Test func historyInAnyOrderWithRepeatedEqualPoints() throws {
        var first = TargetBatch()
        var second = TargetBatch()
        // Days 6…0 reversed, then day 7 twice with the same value (overlapping files), day 5 again
        // with its value, and an out-of-order day 3 with NaN (dropped: day 3 stays 3).
        for day in (0..<7).reversed() { first.append(series: a, timestamp: F.d(Int64(day)), target: Double(day)) }
        second.append(series: a, timestamp: F.d(7), target: 70)
        second.append(series: a, timestamp: F.d(7), target: 70)
        second.append(series: a, timestamp: F.d(5), target: 5)
        second.append(series: a, timestamp: F.d(3), target: .nan)
        var history = TargetHistory()
        history.add(first)
        history.add(second)
        try history.validate(source: "'h.csv'")
        let points = history.points(of: a)!
        #expect(points.timestamps == (0...7).map { F.d(Int64($0)) })
        #expect(points.values == [0, 1, 2, 3, 4, 5, 6, 70])
        #expect(history.pointCount == 8)
        // One pair (7, 0): |70 − 0|.
        #expect(history.seasonalScales(of: a, windowStarts: [F.d(8), F.d(7)], frequency: .daily) == [70, nil])
    }

    @Test func aTimestampWithTwoDifferentValuesIsRefusedInEitherOrder() {
        // Which value MASE would use must not depend on the rows' order: refused, both values named.
        for values in [[1000.0, 64], [64, 1000.0]] {
            var batch = TargetBatch()
            batch.append(series: a, timestamp: F.d(0), target: 1)
            for v in values { batch.append(series: a, timestamp: F.d(7), target: v) }
            var history = TargetHistory()
            history.add(batch)
            #expect(history.conflict != nil)
            #expect {
                try history.validate(source: "'h.csv'")
            } throws: { error in
                let e = error as? ExportError
                return e?.code == .input && e?.message.contains("'h.csv'") == true
                    && e?.message.contains("two different target values at 1970-01-08T00:00:00 (64.0 and 1000.0)")
                        == true
            }
        }
    }

    @Test func monthlyPairsStepByTheCalendar() {
        // 2022-01-31 … 2023-12-31 month ends; m = 12 months.
        var batch = TargetBatch()
        var expectedSum = 0.0
        var values: [Int64: Double] = [:]
        for i in 0..<24 {
            let year = 2022 + i / 12
            let month = i % 12 + 1
            let day = CivilTime.daysInMonth(year: year, month: month)
            let t = CivilTime(year: year, month: month, day: day).epochSeconds * 1000
            let v = Double(i * i % 7)
            values[Int64(i)] = v
            batch.append(series: a, timestamp: t, target: v)
        }
        for i in 12..<24 { expectedSum += abs(values[Int64(i)]! - values[Int64(i - 12)]!) }
        var history = TargetHistory()
        history.add(batch)
        #expect(history.inferredFrequency() == .monthly)
        let start = CivilTime(year: 2024, month: 1, day: 1).epochSeconds * 1000
        let scale = history.seasonalScales(of: a, windowStarts: [start], frequency: .monthly)[0]
        #expect(F.close(scale, expectedSum / 12))
    }

    @Test func frequencyParsing() {
        let cases: [(String, Frequency?)] = [
            ("Y", .yearly), ("1Y", .yearly), ("M", .monthly), ("1M", .monthly), ("W", .weekly), ("D", .daily),
            ("1D", .daily), ("d", .daily), ("H", .hourly), ("1h", .hourly), ("30min", .minutes30),
            ("15min", .minutes15), ("10min", .minutes10), ("5min", .minutes5), ("1min", .minute1), ("min", .minute1),
            ("2D", nil), ("m", nil), ("7min", nil), ("", nil), ("Q", nil), ("D1", nil),
        ]
        for (text, expected) in cases { #expect(Frequency(parsing: text) == expected, "\(text)") }
        let m = Frequency.allCases.map(\.seasonality)
        #expect(m == [1, 12, 52, 7, 24, 2, 4, 6, 12, 60])
    }

    @Test func frequencyInference() {
        let hour: Int64 = 3_600_000
        #expect(Frequency.infer(fromSortedTimestamps: [0, 2 * hour, 3 * hour, 5 * hour]) == .hourly)
        #expect(Frequency.infer(fromSortedTimestamps: [0, F.day, F.day, 3 * F.day]) == .daily)
        #expect(Frequency.infer(fromSortedTimestamps: [0, 7 * F.day, 21 * F.day]) == .weekly)
        #expect(Frequency.infer(fromSortedTimestamps: [0, 30 * 60_000]) == .minutes30)
        #expect(Frequency.infer(fromSortedTimestamps: [0, 2 * F.day]) == nil)
        #expect(Frequency.infer(fromSortedTimestamps: [5]) == nil)
        let jan = CivilTime(year: 2023, month: 1, day: 1).epochSeconds * 1000
        let feb = CivilTime(year: 2023, month: 2, day: 1).epochSeconds * 1000
        let mar = CivilTime(year: 2023, month: 3, day: 1).epochSeconds * 1000
        #expect(Frequency.infer(fromSortedTimestamps: [jan, feb, mar]) == .monthly)
        let febMid = CivilTime(year: 2023, month: 2, day: 15).epochSeconds * 1000
        #expect(Frequency.infer(fromSortedTimestamps: [jan, febMid + 14 * F.day]) == nil)  // 59 days
        let y2024 = CivilTime(year: 2024, month: 1, day: 1).epochSeconds * 1000
        let y2025 = CivilTime(year: 2025, month: 1, day: 1).epochSeconds * 1000
        #expect(Frequency.infer(fromSortedTimestamps: [jan, y2024, y2025]) == .yearly)
    }

    @Test func calendarStepsClampTheDay() {
        func ms(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0) -> Int64 {
            CivilTime(year: y, month: m, day: d, hour: h).epochSeconds * 1000
        }
        #expect(Frequency.monthly.instant(1, periodsBefore: ms(2024, 3, 31)) == ms(2024, 2, 29))
        #expect(Frequency.yearly.instant(1, periodsBefore: ms(2024, 2, 29, 5)) == ms(2023, 2, 28, 5))
        #expect(Frequency.monthly.seasonalLagInstant(before: ms(2024, 1, 15)) == ms(2023, 1, 15))
        #expect(Frequency.monthly.instant(13, periodsBefore: ms(1970, 1, 1)) == ms(1968, 12, 1))
        #expect(Frequency.daily.seasonalLagInstant(before: F.d(10)) == F.d(3))
        #expect(Frequency.hourly.seasonalLagInstant(before: F.d(1)) == 0)
    }
}
