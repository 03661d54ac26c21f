import ExportCore
import NIOCore

@testable import ExportParquet

/// Builders for the Parquet tests: schemas, batches and an encode helper.
enum TestData {
    static let jobName = try! JobName("parquet_test_job")
    static let timestamp = ExportTimestamp(epochSeconds: 1_709_802_300)
    static let day: Int64 = 86_400_000
    static let start: Int64 = 1_672_531_200_000  // 2023-01-01

    static func context(_ schema: ExportSchema, _ table: ExportTable = .forecastedValues) -> PartContext {
        PartContext(jobName: jobName, timestamp: timestamp, schema: schema, table: table)
    }

    static let quantileSchema = try! ExportSchema(
        forecastTypes: [.quantile(hundredths: 10), .quantile(hundredths: 50), .quantile(hundredths: 90), .mean]
    )

    /// Forecast rows like the exporter's: `items` series × `windows` windows × `days` days, sorted by
    /// series, window, timestamp. Every 7th target is missing; doubles are full-precision.
    static func forecastBatch(
        items: Int,
        windows: Int,
        days: Int,
        schema: ExportSchema = quantileSchema,
        dimensionValues: (Int) -> [String] = { _ in [] },
        itemID: (Int) -> String = { "item_\(String(1_000_000 + $0).dropFirst())" }
    ) -> ForecastBatch {
        var batch = ForecastBatch(forecastTypeCount: schema.forecastTypes.count)
        var generator = SplitMix64(seed: 42)
        var row = 0
        for item in 0..<items {
            batch.series.append(SeriesKey(itemId: itemID(item), dimensions: dimensionValues(item)))
            let level = 10 + Double(generator.next() % 990)
            for w in 0..<windows {
                let windowStart = start + Int64(w * days) * day
                for d in 0..<days {
                    batch.seriesIndex.append(Int32(item))
                    batch.timestamp.append(windowStart + Int64(d) * day)
                    batch.windowStart.append(windowStart)
                    batch.windowEnd.append(windowStart + Int64(days) * day)
                    let noise = Double(generator.next() >> 11) / Double(1 << 53)
                    batch.target.append(row % 7 == 3 ? nil : level * (0.5 + noise))
                    for f in 0..<schema.forecastTypes.count {
                        let u = Double(generator.next() >> 11) / Double(1 << 53)
                        batch.forecasts[f].append(level * (0.4 + Double(f) * 0.3 + u))
                    }
                    row += 1
                }
            }
        }
        return batch
    }

    /// Encodes `batch` in appends of the given row ranges (default: one per series run) and returns
    /// the file, checking that `byteCount` never shrinks and that ready bytes come out as they fill.
    static func encode<Batch: ColumnarBatch>(
        _ batch: Batch,
        context: PartContext,
        format: ParquetFormat,
        appends: [Range<Int>]? = nil
    ) throws -> [UInt8] {
        var encoder = format.makeEncoder(for: context)
        var file: [UInt8] = []
        var lastCount = encoder.byteCount
        for range in appends ?? batch.seriesRuns() {
            try encoder.append(batch, rows: range)
            let count = encoder.byteCount
            guard count >= lastCount else {
                throw InspectError(description: "byteCount went down from \(lastCount) to \(count)")
            }
            lastCount = count
            while var chunk = encoder.takeReadyBytes() {
                file += chunk.readBytes(length: chunk.readableBytes)!
            }
        }
        var tail = try encoder.finish()
        file += tail.readBytes(length: tail.readableBytes)!
        return file
    }
}
