import ExportCore
import Testing

private typealias F = MetricsFixture
private typealias Row = MetricsFixture.Row

/// Hand-computed expectations for every metric of SPEC §6 on small series.
@Suite struct MetricsAccumulatorTests {
    // Types: mean, p10, p90 → wQL[0.1], wQL[0.9], Average wQL, RMSE, WAPE, MAPE, MASE.
    let schema = F.schema([.mean, .quantile(hundredths: 10), .quantile(hundredths: 90)])
    let a = SeriesKey(itemId: "a")

    /// y = 10, 20, 0; mean = 12, 15, 1; p10 = 8, 14, 0; p90 = 13, 25, 2.
    fileprivate func basicRows(start: Int64 = F.d(10), end: Int64 = F.d(12)) -> [Row] {
        [
            Row(key: a, timestamp: start, target: 10, start: start, end: end, forecasts: [12, 8, 13]),
            Row(key: a, timestamp: start + F.day, target: 20, start: start, end: end, forecasts: [15, 14, 25]),
            Row(key: a, timestamp: start + 2 * F.day, target: 0, start: start, end: end, forecasts: [1, 0, 2]),
        ]
    }

    @Test func metricNamesFollowTheSchema() {
        #expect(schema.metricNames == ["wQL[0.1]", "wQL[0.9]", "Average wQL", "RMSE", "WAPE", "MAPE", "MASE"])
    }

    @Test func everyMetricOnOneWindow() throws {
        let (out, _) = try F.metrics(basicRows(), schema: schema)
        #expect(out.rowCount == 2)
        #expect(out.backtestWindow == [.computed, .summary])
        // wQL[0.1]: y−q = 2, 6, 0 (all under) → 2·0.1·8 = 1.6; Σ|y| = 30.
        #expect(F.close(F.value(out, schema, "wQL[0.1]", row: 0), 1.6 / 30))
        // wQL[0.9]: q−y = 3, 5, 2 (all over) → 2·0.1·10 = 2.0.
        #expect(F.close(F.value(out, schema, "wQL[0.9]", row: 0), 2.0 / 30))
        #expect(F.close(F.value(out, schema, "Average wQL", row: 0), 0.06))
        // errors −2, 5, −1 → squares 30, mean 10.
        #expect(F.close(F.value(out, schema, "RMSE", row: 0), 10.0.squareRoot()))
        // WAPE is the absolute error sum by default (Forecast's item-level files).
        #expect(F.close(F.value(out, schema, "WAPE", row: 0), 8))
        // MAPE: y = 0 adds nothing but counts: (0.2 + 0.25 + 0) / 3.
        #expect(F.close(F.value(out, schema, "MAPE", row: 0), 0.15))
        #expect(F.value(out, schema, "MASE", row: 0) == nil)  // no history
        // Summary of one window = that window; its bounds are the window's.
        for name in schema.metricNames {
            #expect(F.value(out, schema, name, row: 1) == F.value(out, schema, name, row: 0), "\(name)")
        }
        #expect(out.windowStart == [F.d(10), F.d(10)])
        #expect(out.windowEnd == [F.d(12), F.d(12)])
    }

    @Test func normalizedWAPEIsTheRatio() throws {
        #expect(MetricsOptions().wapeMode == .absolute)
        let (out, _) = try F.metrics(basicRows(), schema: schema, options: MetricsOptions(wapeMode: .normalized))
        #expect(F.close(F.value(out, schema, "WAPE", row: 0), 8.0 / 30))
        #expect(F.close(F.value(out, schema, "RMSE", row: 0), 10.0.squareRoot()))
    }

    @Test func zeroActualSumGivesTheNumeratorAlone() throws {
        let s = F.schema([.mean, .quantile(hundredths: 50)])
        let rows = [
            Row(key: a, timestamp: F.d(1), target: 0, start: F.d(1), end: F.d(2), forecasts: [1, 0.5]),
            Row(key: a, timestamp: F.d(2), target: 0, start: F.d(1), end: F.d(2), forecasts: [-2, 0]),
        ]
        let (out, _) = try F.metrics(rows, schema: s)
        // wQL[0.5]: over-forecast 0.5 + 0 → 2·0.5·0.5 = 0.5, Σ|y| = 0 → numerator.
        #expect(F.close(F.value(out, s, "wQL[0.5]", row: 0), 0.5))
        #expect(F.close(F.value(out, s, "Average wQL", row: 0), 0.5))
        #expect(F.close(F.value(out, s, "WAPE", row: 0), 3))
        #expect(F.close(F.value(out, s, "RMSE", row: 0), 2.5.squareRoot()))
        #expect(F.value(out, s, "MAPE", row: 0) == 0)  // every y is 0: 0.0, as in real exports
        let (normalized, _) = try F.metrics(rows, schema: s, options: MetricsOptions(wapeMode: .normalized))
        #expect(F.close(F.value(normalized, s, "WAPE", row: 0), 3))  // Σ|y| = 0: the numerator alone
    }

    @Test func windowWithoutActualsIsNotDefinedAndSkippedBySummary() throws {
        var rows = basicRows()
        // A later window whose actuals are missing or NaN.
        rows.append(Row(key: a, timestamp: F.d(20), target: nil, start: F.d(20), end: F.d(21), forecasts: [1, 1, 1]))
        rows.append(
            Row(key: a, timestamp: F.d(21), target: .nan, start: F.d(20), end: F.d(21), forecasts: [1, 1, 1])
        )
        let (out, _) = try F.metrics(rows, schema: schema)
        #expect(out.backtestWindow == [.computed, .computed, .summary])
        for name in schema.metricNames {
            #expect(F.value(out, schema, name, row: 1) == nil, "\(name)")
            #expect(F.value(out, schema, name, row: 2) == F.value(out, schema, name, row: 0), "\(name)")
        }
        #expect(out.windowStart == [F.d(10), F.d(20), F.d(10)])
        #expect(out.windowEnd == [F.d(12), F.d(21), F.d(21)])
    }

    @Test func summaryIsTheMeanOfDefinedComputedValues() throws {
        var rows = basicRows()
        // Window 2: y = 4, 0; mean = 2, 1 → errors 2, −1; MAPE (0.5 + 0) / 2.
        rows.append(Row(key: a, timestamp: F.d(30), target: 4, start: F.d(30), end: F.d(31), forecasts: [2, 4, 4]))
        rows.append(Row(key: a, timestamp: F.d(31), target: 0, start: F.d(30), end: F.d(31), forecasts: [1, 0, 0]))
        let (out, _) = try F.metrics(rows, schema: schema)
        #expect(out.rowCount == 3)
        let rmse2 = 2.5.squareRoot()
        #expect(F.close(F.value(out, schema, "RMSE", row: 1), rmse2))
        #expect(F.close(F.value(out, schema, "WAPE", row: 1), 3))
        #expect(F.close(F.value(out, schema, "MAPE", row: 1), 0.25))
        // wQL[0.1] window 2: y−q = 0, 0 → 0; wQL[0.9]: 0 → 0.
        #expect(F.close(F.value(out, schema, "wQL[0.1]", row: 1), 0))
        #expect(F.close(F.value(out, schema, "RMSE", row: 2), (10.0.squareRoot() + rmse2) / 2))
        #expect(F.close(F.value(out, schema, "MAPE", row: 2), (0.15 + 0.25) / 2))
        #expect(F.close(F.value(out, schema, "Average wQL", row: 2), (0.06 + 0) / 2))
        #expect(F.value(out, schema, "MASE", row: 2) == nil)
    }

    @Test func negativeForecastsAreKept() throws {
        let s = F.schema([.mean, .quantile(hundredths: 50)])
        let rows = [Row(key: a, timestamp: F.d(1), target: 5, start: F.d(1), end: F.d(1), forecasts: [-5, -5])]
        let (out, _) = try F.metrics(rows, schema: s)
        #expect(F.close(F.value(out, s, "RMSE", row: 0), 10))
        #expect(F.close(F.value(out, s, "WAPE", row: 0), 10))
        #expect(F.close(F.value(out, s, "MAPE", row: 0), 2))
        // y − q = 10 → 2·0.5·10 / 5.
        #expect(F.close(F.value(out, s, "wQL[0.5]", row: 0), 2))
    }

    @Test func p50IsThePointForecastWhenThereIsNoMean() throws {
        let s = F.schema([.quantile(hundredths: 90), .quantile(hundredths: 50)])
        // wQL columns ascend whatever the schema's order.
        #expect(s.metricNames == ["wQL[0.5]", "wQL[0.9]", "Average wQL", "RMSE", "WAPE", "MAPE", "MASE"])
        let rows = [
            Row(key: a, timestamp: F.d(1), target: 10, start: F.d(1), end: F.d(2), forecasts: [14, 8]),
            Row(key: a, timestamp: F.d(2), target: 10, start: F.d(1), end: F.d(2), forecasts: [12, 13]),
        ]
        let (out, _) = try F.metrics(rows, schema: s)
        // ŷ = p50: errors 2, −3.
        #expect(F.close(F.value(out, s, "RMSE", row: 0), 6.5.squareRoot()))
        #expect(F.close(F.value(out, s, "WAPE", row: 0), 5))
        #expect(F.close(F.value(out, s, "MAPE", row: 0), 0.25))
        // wQL[0.9]: over 4 + 2 → 2·0.1·6 = 1.2; wQL[0.5]: under 2, over 3 → 2·(0.5·2 + 0.5·3) = 5.
        #expect(F.close(F.value(out, s, "wQL[0.9]", row: 0), 1.2 / 20))
        #expect(F.close(F.value(out, s, "wQL[0.5]", row: 0), 5.0 / 20))
        #expect(F.close(F.value(out, s, "Average wQL", row: 0), (0.06 + 0.25) / 2))
    }

    @Test func meanOnlyHasNoWQLColumns() throws {
        let s = F.schema([.mean])
        #expect(s.metricNames == ["RMSE", "WAPE", "MAPE", "MASE"])
        let rows = [Row(key: a, timestamp: F.d(1), target: 4, start: F.d(1), end: F.d(1), forecasts: [3])]
        let (out, _) = try F.metrics(rows, schema: s)
        #expect(out.metrics.count == 4)
        #expect(F.close(F.value(out, s, "RMSE", row: 0), 1))
        #expect(F.close(F.value(out, s, "WAPE", row: 0), 1))
    }

    @Test func withoutAPointForecastOnlyWQLIsDefined() throws {
        let s = F.schema([.quantile(hundredths: 10), .quantile(hundredths: 90)])
        let rows = [Row(key: a, timestamp: F.d(1), target: 4, start: F.d(1), end: F.d(1), forecasts: [3, 5])]
        let (out, _) = try F.metrics(rows, schema: s)
        // wQL[0.1]: under 1 → 0.2/4; wQL[0.9]: over 1 → 0.2/4.
        #expect(F.close(F.value(out, s, "wQL[0.1]", row: 0), 0.05))
        #expect(F.close(F.value(out, s, "wQL[0.9]", row: 0), 0.05))
        for name in ["RMSE", "WAPE", "MAPE", "MASE"] {
            #expect(F.value(out, s, name, row: 0) == nil, "\(name)")
            #expect(F.value(out, s, name, row: 1) == nil, "\(name)")
        }
    }

    @Test func aMissingForecastSkipsThePointForThatMetricOnly() throws {
        var rows = basicRows()
        // A fourth point: y = 100; mean missing, p10 = NaN, p90 = 100.
        rows.append(
            Row(key: a, timestamp: F.d(13), target: 100, start: F.d(10), end: F.d(12), forecasts: [nil, .nan, 100])
        )
        let (out, _) = try F.metrics(rows, schema: schema)
        // Point metrics and wQL[0.1] as before; wQL[0.9] gains |y| = 100 but no loss.
        #expect(F.close(F.value(out, schema, "RMSE", row: 0), 10.0.squareRoot()))
        #expect(F.close(F.value(out, schema, "WAPE", row: 0), 8))
        #expect(F.close(F.value(out, schema, "wQL[0.1]", row: 0), 1.6 / 30))
        #expect(F.close(F.value(out, schema, "wQL[0.9]", row: 0), 2.0 / 130))
    }

    @Test func aQuantileMissingEverywhereIsNotDefinedAndLeftOutOfTheAverage() throws {
        let s = F.schema([.mean, .quantile(hundredths: 10), .quantile(hundredths: 90)])
        let rows = [Row(key: a, timestamp: F.d(1), target: 4, start: F.d(1), end: F.d(1), forecasts: [4, 3, nil])]
        let (out, _) = try F.metrics(rows, schema: s)
        #expect(F.value(out, s, "wQL[0.9]", row: 0) == nil)
        #expect(F.close(F.value(out, s, "Average wQL", row: 0), 0.05))
    }

    @Test func rowsAreOrderedBySeriesBytesThenWindow() throws {
        let s = F.schema([.mean], dimensions: ["region"])
        let keys = [
            SeriesKey(itemId: "b", dimensions: ["x"]), SeriesKey(itemId: "a", dimensions: ["y"]),
            SeriesKey(itemId: "B", dimensions: ["x"]), SeriesKey(itemId: "a", dimensions: ["x"]),
            SeriesKey(itemId: "\u{e9}", dimensions: ["x"]),
        ]
        var rows: [Row] = []
        for key in keys {
            for (start, end) in [(F.d(5), F.d(6)), (F.d(1), F.d(3)), (F.d(1), F.d(2))] {
                rows.append(Row(key: key, timestamp: start, target: 1, start: start, end: end, forecasts: [1]))
            }
        }
        let (out, _) = try F.metrics(rows, schema: s)
        #expect(out.series.map(\.description) == ["B [x]", "a [x]", "a [y]", "b [x]", "\u{e9} [x]"])
        let perSeries = Array(out.windowStart.prefix(4))
        #expect(perSeries == [F.d(1), F.d(1), F.d(5), F.d(1)])
        #expect(Array(out.windowEnd.prefix(4)) == [F.d(2), F.d(3), F.d(6), F.d(6)])
        #expect(Array(out.backtestWindow.prefix(4)) == [.computed, .computed, .computed, .summary])
        #expect(out.rowCount == 20)
    }

    @Test func predictorMetricsPoolSeriesPerWindow() throws {
        let s = F.schema([.mean, .quantile(hundredths: 50)])
        let b = SeriesKey(itemId: "b")
        let w1 = (F.d(1), F.d(2))
        let rows = [
            // Series a, window 1: y 10, 20; mean 12, 15 (p50 same).
            Row(key: a, timestamp: F.d(1), target: 10, start: w1.0, end: w1.1, forecasts: [12, 12]),
            Row(key: a, timestamp: F.d(2), target: 20, start: w1.0, end: w1.1, forecasts: [15, 15]),
            // Series b, window 1: y 0, 4; mean 1, 4.
            Row(key: b, timestamp: F.d(1), target: 0, start: w1.0, end: w1.1, forecasts: [1, 1]),
            Row(key: b, timestamp: F.d(2), target: 4, start: w1.0, end: w1.1, forecasts: [4, 4]),
            // Series b, window 2: y 2; mean 3.
            Row(key: b, timestamp: F.d(8), target: 2, start: F.d(8), end: F.d(9), forecasts: [3, 3]),
        ]
        let (_, acc) = try F.metrics(rows, schema: s, options: MetricsOptions(wapeMode: .absolute))
        let p = acc.predictorMetrics
        #expect(p.seriesCount == 2)
        #expect(p.windows.count == 2)
        #expect(p.windows[0].itemCount == 2)
        #expect(p.windows[1].itemCount == 1)
        let rmse = p.metricNames.firstIndex(of: "RMSE")!
        let wape = p.metricNames.firstIndex(of: "WAPE")!
        let mape = p.metricNames.firstIndex(of: "MAPE")!
        let wql = p.metricNames.firstIndex(of: "wQL[0.5]")!
        // Pooled: errors −2, 5, −1, 0 → squares 30 / 4; |e| 8 over Σ|y| 34 (normalized even in absolute mode).
        #expect(F.close(p.windows[0].values[rmse], 7.5.squareRoot()))
        #expect(F.close(p.windows[0].values[wape], 8.0 / 34))
        // Pooled MAPE: Σ over y ≠ 0 (0.2 + 0.25 + 0) over all four points.
        #expect(F.close(p.windows[0].values[mape], (0.2 + 0.25 + 0) / 4))
        // wQL[0.5] = 2·0.5·Σ|e| / Σ|y| = 8/34.
        #expect(F.close(p.windows[0].values[wql], 8.0 / 34))
        #expect(F.close(p.windows[1].values[rmse], 1))
        #expect(F.close(p.windows[1].values[wape], 0.5))
        #expect(F.close(p.summary[rmse], (7.5.squareRoot() + 1) / 2))
        #expect(F.close(p.summaryValue("WAPE"), (8.0 / 34 + 0.5) / 2))
        #expect(p.summaryValue("MASE") == nil)
    }
}
