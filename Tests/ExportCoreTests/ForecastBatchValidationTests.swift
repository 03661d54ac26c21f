import ExportCore
import Testing

@Suite struct ForecastBatchValidationTests {
    let schema = try! ExportSchema(dimensions: ["store"], forecastTypes: [.quantile(hundredths: 50), .mean])

    func batch(rows: Int = 3) -> ForecastBatch {
        var batch = ForecastBatch(forecastTypeCount: 2)
        for r in 0..<rows {
            batch.append(
                series: SeriesKey(itemId: "item\(r / 2)", dimensions: ["s"]),
                timestamp: Int64(r),
                target: r == 1 ? nil : 1,
                windowStart: 0,
                windowEnd: 10_000,
                forecasts: [1, r == 2 ? nil : 2]
            )
        }
        return batch
    }

    func validationMessage(_ batch: ForecastBatch) -> String? {
        do {
            try batch.validate(schema: schema)
            return nil
        } catch {
            #expect(error.code == .validation)
            return error.message
        }
    }

    @Test func aConsistentBatchPasses() throws {
        try batch().validate(schema: schema)
        try ForecastBatch(forecastTypeCount: 2).validate(schema: schema)
    }

    @Test func aWindowBoundWithAFractionOfASecondIsAValidationError() {
        for column in [\ForecastBatch.windowStart, \ForecastBatch.windowEnd] {
            var fraction = batch()
            fraction[keyPath: column][1] += 250
            #expect(validationMessage(fraction)?.contains("fraction of a second") == true)
        }
    }

    @Test func theWrongNumberOfForecastColumnsIsAValidationError() {
        var wrong = ForecastBatch(forecastTypeCount: 3)
        wrong.seriesIndex = []
        #expect(validationMessage(wrong)?.contains("3 forecast columns, the schema 2") == true)
    }

    @Test func columnsOfAnotherLengthAreValidationErrors() {
        var short = batch()
        short.windowEnd.removeLast()
        #expect(validationMessage(short)?.contains("'backtestwindow_end_time' has 2 values for 3 rows") == true)
        var forecast = batch()
        forecast.forecasts[1].values.append(9)
        #expect(validationMessage(forecast)?.contains("'mean'") == true)
        var presence = batch()
        presence.target.isPresent = [true]
        #expect(validationMessage(presence)?.contains("presence flags") == true)
    }

    @Test func seriesIndexesOutsideTheSeriesAndWrongDimensionsAreValidationErrors() {
        var index = batch()
        index.seriesIndex[2] = 7
        #expect(validationMessage(index)?.contains("refers to series 7") == true)
        var negative = batch()
        negative.seriesIndex[0] = -1
        #expect(validationMessage(negative)?.contains("refers to series -1") == true)
        var dimensions = batch()
        dimensions.series[0] = SeriesKey(itemId: "x", dimensions: [])
        #expect(validationMessage(dimensions)?.contains("0 dimensions, the schema 1") == true)
    }

    @Test func theMetricsAccumulatorThrowsInsteadOfTrapping() {
        var metrics = MetricsAccumulator(schema: schema)
        let wrong = ForecastBatch(forecastTypeCount: 1)
        do {
            try metrics.add(wrong, rows: 0..<0)
            Issue.record("a batch with 1 forecast column was accepted for 2 forecast types")
        } catch {
            #expect(error.code == .validation)
        }
        do {
            try metrics.add(batch(), rows: 0..<4)
            Issue.record("rows past the batch were accepted")
        } catch {
            #expect(error.code == .validation)
        }
    }
}
