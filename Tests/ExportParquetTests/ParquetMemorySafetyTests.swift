import ExportCore
import Testing

@testable import ExportParquet

/// The column writers' raw-memory paths, at page sizes that put values at every alignment.
@Suite struct ParquetMemorySafetyTests {
    let schema = try! ExportSchema(forecastTypes: [.mean])

    /// Page row limits whose level headroom (`32 + pageRows / 4`) is each residue mod 8, so the
    /// doubles after it start at every alignment.
    let pageRowLimits = [32, 36, 40, 44, 48, 52, 56, 60, 61, 100]

    func batch(rows: Int) -> ForecastBatch {
        var batch = ForecastBatch(forecastTypeCount: 1)
        for r in 0..<rows {
            batch.append(
                series: SeriesKey(itemId: "item\(r / 50)"),
                timestamp: Int64(r % 50) * 86_400_000 + Int64(r / 50),
                target: r % 3 == 0 ? nil : Double(r) + 0.25,
                windowStart: 0,
                windowEnd: 1,
                forecasts: [r % 5 == 1 ? nil : -Double(r) / 3]
            )
        }
        return batch
    }

    func expectedDoubles(_ column: DoubleColumn) -> [DecodedValue] {
        (0..<column.count).map { column[$0].map { .double($0.bitPattern) } ?? .null }
    }

    @Test func doublesWithNullsRoundTripAtEveryValueAlignment() throws {
        let rows = batch(rows: 700)
        #expect(Set(pageRowLimits.map { (32 + $0 / 4) % 8 }).count == 8)
        for pageRows in pageRowLimits {
            for codec in [ParquetFormat.Codec.none, .snappy] {
                let limits = ParquetFormat.Limits(rowGroupRows: 300, pageRows: pageRows)
                let file = try InspectedFile(
                    try TestData.encode(
                        rows,
                        context: TestData.context(schema),
                        format: ParquetFormat(codec: codec, limits: limits)
                    )
                )
                #expect(try file.values(ofColumn: 2) == expectedDoubles(rows.target), "page rows \(pageRows)")
                #expect(try file.values(ofColumn: 5) == expectedDoubles(rows.forecasts[0]), "page rows \(pageRows)")
            }
        }
    }

    @Test func dictionaryIdsSurviveTheFallBackToPlain() throws {
        let rows = batch(rows: 2000)
        // Dictionaries of 64 bytes: the string and timestamp chunks fall back to PLAIN from their ids.
        let limits = ParquetFormat.Limits(rowGroupRows: 1500, pageRows: 97, dictionaryPageBytes: 64)
        let file = try InspectedFile(
            try TestData.encode(rows, context: TestData.context(schema), format: ParquetFormat(limits: limits))
        )
        #expect(try file.values(ofColumn: 0) == (0..<2000).map { .string(Array("item\($0 / 50)".utf8)) })
        #expect(try file.values(ofColumn: 1) == rows.timestamp.map { .int($0) })
    }

    @Test func limitsOutOfRangeAreValidationErrors() throws {
        for limits in [
            ParquetFormat.Limits(rowGroupRows: 0),
            ParquetFormat.Limits(pageRows: -1),
            ParquetFormat.Limits(pageRows: Int.max),
            ParquetFormat.Limits(pageBytes: 0),
            ParquetFormat.Limits(dictionaryPageBytes: 1 << 40),
        ] {
            let format = ParquetFormat(limits: limits)
            #expect(throws: ExportError.self) { try format.validate() }
            var encoder = format.makeEncoder(for: TestData.context(schema))
            do {
                try encoder.append(batch(rows: 10), rows: 0..<10)
                Issue.record("append accepted limits \(limits)")
            } catch {
                #expect(error.code == .validation)
            }
            do {
                _ = try encoder.finish()
                Issue.record("finish accepted limits \(limits)")
            } catch {
                #expect(error.code == .validation)
            }
        }
        try ParquetFormat().validate()
    }
}
