import ExportCSV
import ExportCore
import NIOCore
import Testing

private let day: Int64 = 86_400_000

private func forecastSchema() throws -> ExportSchema {
    try ExportSchema(
        dimensions: ["store"],
        forecastTypes: [.quantile(hundredths: 10), .quantile(hundredths: 50), .mean]
    )
}

/// The small forecasted-values batch whose CSV is written out by hand below.
private func smallForecastBatch() -> ForecastBatch {
    var batch = ForecastBatch(forecastTypeCount: 3)
    let item1 = SeriesKey(itemId: "item_1", dimensions: ["north"])
    batch.append(
        series: item1,
        timestamp: millis(2019, 7, 14, 12) + 250,
        target: 12.5,
        windowStart: millis(2019, 7, 1),
        windowEnd: millis(2019, 7, 31),
        forecasts: [0.08422470160000001, 100.0, 2.295408381527212E-4]
    )
    batch.append(
        series: item1,
        timestamp: millis(2019, 7, 15, 12),
        target: nil,
        windowStart: millis(2019, 7, 1),
        windowEnd: millis(2019, 7, 31),
        forecasts: [-0.0, 1.0E7, .nan]
    )
    batch.append(
        series: SeriesKey(itemId: "a,\"b\"", dimensions: ["东京\n"]),
        timestamp: -1,
        target: 0.001,
        windowStart: -day,
        windowEnd: 0,
        forecasts: [nil, .infinity, -.infinity]
    )
    batch.append(
        series: SeriesKey(itemId: "item_2", dimensions: [""]),
        timestamp: millis(2020, 2, 29),
        target: 266.93973921876204,
        windowStart: millis(2020, 2, 1),
        windowEnd: millis(2020, 3, 1),
        forecasts: [1.0E-5, .leastNonzeroMagnitude, 1.7976931348623157E308]
    )
    return batch
}

private let smallForecastCSV = #"""
    item_id,store,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean,p10,p50
    item_1,north,2019-07-14T12:00:00.250Z,12.5,2019-07-01T00:00:00,2019-07-31T00:00:00,2.295408381527212E-4,0.08422470160000001,100.0
    item_1,north,2019-07-15T12:00:00.000Z,,2019-07-01T00:00:00,2019-07-31T00:00:00,NaN,-0.0,1.0E7
    "a,""b""","东京
    ",1969-12-31T23:59:59.999Z,0.001,1969-12-31T00:00:00,1970-01-01T00:00:00,-Infinity,,Infinity
    item_2,,2020-02-29T00:00:00.000Z,266.93973921876204,2020-02-01T00:00:00,2020-03-01T00:00:00,1.7976931348623157E308,1.0E-5,4.9E-324

    """#

private func smallMetricsBatch() -> MetricsBatch {
    var batch = MetricsBatch(metricCount: 7)
    let key = SeriesKey(itemId: "item_1", dimensions: ["north"])
    batch.append(
        series: key,
        window: .computed,
        windowStart: millis(2019, 7, 1),
        windowEnd: millis(2019, 7, 31),
        metrics: [0.23839701095470914, 0.2530613732269832, 0.2, 77.96916289552655, 0.3337082810048642, nil, nil]
    )
    batch.append(
        series: key,
        window: .computed,
        windowStart: millis(2019, 7, 31),
        windowEnd: millis(2019, 8, 30),
        metrics: [0.1, 0.2, 0.1 + 0.2, 1, 0.5, 0.25, 1.5]
    )
    batch.append(
        series: key,
        window: .summary,
        windowStart: millis(2019, 7, 1),
        windowEnd: millis(2019, 8, 30),
        metrics: [0.5, 1.25, 3.0E-4, 12345.678, 0.75, 0.25, nil]
    )
    return batch
}

private let smallMetricsCSV = #"""
    item_id,store,backtest_window,backtestwindow_start_time,backtestwindow_end_time,wQL[0.1],wQL[0.5],Average wQL,RMSE,WAPE,MAPE,MASE
    item_1,north,Computed,2019-07-01T00:00:00,2019-07-31T00:00:00,0.23839701095470914,0.2530613732269832,0.2,77.96916289552655,0.3337082810048642,not defined,not defined
    item_1,north,Computed,2019-07-31T00:00:00,2019-08-30T00:00:00,0.1,0.2,0.30000000000000004,1.0,0.5,0.25,1.5
    item_1,north,Summary,2019-07-01T00:00:00,2019-08-30T00:00:00,0.5,1.25,3.0E-4,12345.678,0.75,0.25,not defined

    """#

/// A larger forecasted-values batch shaped like the benchmark data (several series and windows).
func syntheticForecastBatch(items: Int, windows: Int, days: Int, seed: UInt64) -> ForecastBatch {
    var rng = SplitMix64(seed: seed)
    var batch = ForecastBatch(forecastTypeCount: 3)
    let start = millis(2023, 1, 1)
    for item in 0..<items {
        let key = SeriesKey(itemId: "item_\(item)", dimensions: [item % 3 == 0 ? "x,y" : "plain"])
        for w in 0..<windows {
            let ws = start + Int64(w * days) * day
            for d in 0..<days {
                let y = Double.random(in: 10...1000, using: &rng)
                batch.append(
                    series: key,
                    timestamp: ws + Int64(d) * day,
                    target: d % 7 == 3 ? nil : y,
                    windowStart: ws,
                    windowEnd: ws + Int64(days) * day,
                    forecasts: [y * 0.8, y, d % 11 == 5 ? nil : y * 1.2]
                )
            }
        }
    }
    return batch
}

@Suite("CSVEncoder")
struct EncodingCSVEncoderTests {
    @Test("forecasted-values: exact bytes of a small batch")
    func forecastExact() throws {
        var encoder = CSVEncoder(schema: try forecastSchema().forecastedValues)
        let batch = smallForecastBatch()
        let (bytes, _) = try encodeAll(&encoder, [(batch, 0..<batch.rowCount)])
        #expect(String(decoding: bytes, as: UTF8.self) == smallForecastCSV)
        #expect(bytes.first != 0xEF)  // no BOM
    }

    @Test("accuracy-metrics-values: exact bytes, `not defined` for missing metrics")
    func metricsExact() throws {
        let schema = try ExportSchema(
            dimensions: ["store"],
            forecastTypes: [.quantile(hundredths: 10), .quantile(hundredths: 50)]
        )
        var encoder = CSVEncoder(schema: schema.accuracyMetrics)
        let batch = smallMetricsBatch()
        let (bytes, _) = try encodeAll(&encoder, [(batch, 0..<batch.rowCount)])
        #expect(String(decoding: bytes, as: UTF8.self) == smallMetricsCSV)
    }

    @Test("a table with no rows is the header alone")
    func headerOnly() throws {
        let schema = try ExportSchema(forecastTypes: [.mean])
        var encoder = CSVEncoder(schema: schema.forecastedValues)
        let header = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean\n"
        #expect(encoder.byteCount == header.utf8.count)
        #expect(encoder.takeReadyBytes() == nil)
        let bytes = try encoder.finish()
        #expect(bytes.text == header)
    }

    @Test("row ranges and several appends give the same bytes as one append")
    func rowRanges() throws {
        let schema = try forecastSchema().forecastedValues
        let batch = syntheticForecastBatch(items: 7, windows: 2, days: 9, seed: 1)
        var whole = CSVEncoder(schema: schema)
        let expected = try encodeAll(&whole, [(batch, 0..<batch.rowCount)]).bytes
        var pieces = CSVEncoder(schema: schema)
        let cuts = [0, 1, 5, 5, 60, 61, 100, batch.rowCount]
        let appends = zip(cuts, cuts.dropFirst()).map { (batch, $0..<$1) }
        #expect(try encodeAll(&pieces, appends).bytes == expected)
        // Each line of the whole output is header + one per row.
        #expect(expected.filter { $0 == 0x0A }.count == batch.rowCount + 1)
    }

    @Test("two threads: slices taken in turn give the bytes of one thread, byteCount included")
    func slicedPieces() throws {
        let schema = try forecastSchema().forecastedValues
        // 2 items × 2 windows × 9,000 days: pieces of 18,000 rows, so slices split a piece.
        let batch = syntheticForecastBatch(items: 2, windows: 2, days: 9_000, seed: 3)
        var one = CSVEncoder(schema: schema, chunkSize: 50_000)
        let expected = try encodeAll(&one, [(batch, 0..<batch.rowCount)]).bytes
        let cuts: [[Int]] = [
            [0, batch.rowCount],  // one piece of 36,000 rows
            [0, 3, 18_000, 18_001, batch.rowCount],  // uneven pieces
            [0, 100, 9_000, batch.rowCount - 1, batch.rowCount],
        ]
        for cut in cuts {
            var two = CSVEncoder(schema: schema, chunkSize: 50_000, threads: 2)
            var bytes: [UInt8] = []
            // Appended twice over, so that the kept helper encoders start from no bytes again.
            for _ in 0..<2 {
                try two.append(pieces: zip(cut, cut.dropFirst()).map { (batch: batch, rows: $0..<$1) })
                while let chunk = two.takeReadyBytes() { bytes.append(contentsOf: chunk.readableBytesView) }
            }
            #expect(two.byteCount == 2 * expected.count - expected.firstIndex(of: 0x0A)! - 1)
            bytes.append(contentsOf: try two.finish().readableBytesView)
            let header = expected[...expected.firstIndex(of: 0x0A)!]
            #expect(bytes == expected + expected.dropFirst(header.count), "cuts \(cut)")
        }
    }

    @Test("chunks of about chunkSize are handed out; byteCount counts every byte")
    func chunking() throws {
        let schema = try forecastSchema().forecastedValues
        let batch = syntheticForecastBatch(items: 20, windows: 3, days: 30, seed: 2)
        var reference = CSVEncoder(schema: schema)
        let expected = try encodeAll(&reference, [(batch, 0..<batch.rowCount)]).bytes

        var encoder = CSVEncoder(schema: schema, chunkSize: 4096)
        var produced: [UInt8] = []
        var chunkSizes: [Int] = []
        var row = 0
        while row < batch.rowCount {
            let end = min(row + 97, batch.rowCount)
            try encoder.append(batch, rows: row..<end)
            row = end
            while let chunk = encoder.takeReadyBytes() {
                chunkSizes.append(chunk.readableBytes)
                produced.append(contentsOf: chunk.readableBytesView)
            }
            // byteCount = bytes handed out + bytes still buffered = the reference's prefix so far.
            let lines = expected.split(separator: 0x0A, omittingEmptySubsequences: false).prefix(end + 1)
            #expect(encoder.byteCount == lines.reduce(0) { $0 + $1.count + 1 })
        }
        #expect(encoder.takeReadyBytes() == nil)
        let rest = try encoder.finish()
        produced.append(contentsOf: rest.readableBytesView)
        #expect(produced == expected)
        #expect(chunkSizes.count >= expected.count / 4096 - 1)
        for size in chunkSizes {
            #expect(size >= 4096 && size < 4096 + 400, "chunk of \(size) bytes")
        }
        #expect(rest.readableBytes < 4096)
    }

    @Test("chunks left untaken are returned by finish")
    func untakenChunks() throws {
        let schema = try forecastSchema().forecastedValues
        let batch = syntheticForecastBatch(items: 5, windows: 2, days: 30, seed: 3)
        var reference = CSVEncoder(schema: schema)
        let expected = try encodeAll(&reference, [(batch, 0..<batch.rowCount)]).bytes
        var encoder = CSVEncoder(schema: schema, chunkSize: 1000)
        try encoder.append(batch, rows: 0..<batch.rowCount)
        #expect(Array(try encoder.finish().readableBytesView) == expected)
    }

    @Test("a batch that does not match the schema is an error, not garbage")
    func mismatchedBatch() throws {
        let schema = try forecastSchema()
        var encoder = CSVEncoder(schema: schema.accuracyMetrics)
        let batch = smallForecastBatch()
        #expect(throws: ExportError.self) { try encoder.append(batch, rows: 0..<batch.rowCount) }
        var forecastEncoder = CSVEncoder(schema: schema.forecastedValues)
        #expect(throws: ExportError.self) { try forecastEncoder.append(batch, rows: 0..<(batch.rowCount + 1)) }
        _ = try forecastEncoder.finish()
        #expect(throws: ExportError.self) { try forecastEncoder.append(batch, rows: 0..<1) }
    }

    @Test("CSVFormat names and encoders")
    func format() throws {
        let plain = CSVFormat()
        #expect(plain.fileExtension == "csv")
        #expect(plain.formatName == "CSV")
        #expect(plain.codecName == "none")
        let gzip = CSVFormat(compression: .gzip)
        #expect(gzip.fileExtension == "csv.gz")
        #expect(gzip.codecName == "gzip")
        let context = PartContext(
            jobName: try JobName("job"),
            timestamp: ExportTimestamp(epochSeconds: 0),
            schema: try forecastSchema(),
            table: .accuracyMetricsValues
        )
        var encoder = plain.makeEncoder(for: context)
        #expect(try encoder.finish().text.hasPrefix("item_id,store,backtest_window,"))
    }
}
