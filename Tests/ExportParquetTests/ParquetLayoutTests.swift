import ExportCore
import NIOCore
import Testing

@testable import ExportParquet

@Suite struct ParquetLayoutTests {
    let smallLimits = ParquetFormat.Limits(
        rowGroupRows: 1000,
        rowGroupBytes: 1 << 30,
        pageRows: 100,
        pageBytes: 512,
        dictionaryPageBytes: 200
    )

    @Test func rowGroupsPagesEncodingsAndOffsetsFollowTheLimits() throws {
        // 100 items × 1 window × 25 days = 2500 rows: row groups of 1000, 1000, 500.
        let batch = TestData.forecastBatch(items: 100, windows: 1, days: 25)
        let bytes = try TestData.encode(
            batch,
            context: TestData.context(TestData.quantileSchema),
            format: ParquetFormat(codec: .snappy, limits: smallLimits)
        )
        let file = try InspectedFile(bytes)
        #expect(file.footer.int(3) == 2500)
        let groups = try #require(file.footer.list(4)).map { $0.structure! }
        #expect(groups.map { $0.int(3) } == [1000, 1000, 500])
        let names = file.schema.dropFirst().map { $0.string(4)! }
        #expect(
            names == [
                "item_id", "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time", "mean",
                "p10", "p50", "p90",
            ]
        )
        var previousEnd = 4
        for (g, group) in groups.enumerated() {
            let rows = Int(group.int(3)!)
            let chunks = file.chunks[g]
            // RowGroup.file_offset is the first page of the first column; sizes are the chunk sums.
            #expect(group.int(5) == Int64(chunks[0].chunkStart))
            #expect(chunks[0].chunkStart == previousEnd)
            #expect(group.int(2) == chunks.reduce(0) { $0 + $1.meta.int(6)! })
            #expect(group.int(6) == chunks.reduce(0) { $0 + $1.meta.int(7)! })
            for chunk in chunks {
                #expect(chunk.meta.int(4) == 1, "SNAPPY")
                #expect(chunk.meta.int(5) == Int64(rows), "\(chunk.name) num_values")
                let dataPages = chunk.pages.filter { $0.type == 0 }
                #expect(dataPages.reduce(0) { $0 + $1.numValues } == rows)
                #expect(dataPages.allSatisfy { $0.numValues <= 100 })
                // Sizes include every page header.
                let headerBytes = chunk.pages.enumerated().map { i, p in
                    (i + 1 < chunk.pages.count
                        ? chunk.pages[i + 1].headerOffset : chunk.chunkStart + Int(chunk.meta.int(7)!))
                        - p.headerOffset - p.compressedSize
                }
                #expect(
                    chunk.meta.int(6)
                        == Int64(zip(chunk.pages, headerBytes).reduce(0) { $0 + $1.0.uncompressedSize + $1.1 })
                )
                let firstData = try #require(chunk.pages.firstIndex { $0.type == 0 })
                #expect(chunk.meta.int(9) == Int64(chunk.pages[firstData].headerOffset))
                previousEnd = chunk.chunkStart + Int(chunk.meta.int(7)!)
            }
            // Timestamps (25 distinct per row group: a 200-byte dictionary, just within the limit):
            // a dictionary page first, then RLE_DICTIONARY data pages of 100 rows.
            for c in [1, 3, 4] {
                let chunk = file.chunks[g][c]
                #expect(chunk.meta.list(2) == [.int(0), .int(3), .int(8)], "\(names[c]): PLAIN, RLE, RLE_DICTIONARY")
                #expect(chunk.meta.int(11) == Int64(chunk.chunkStart), "\(names[c]) dictionary_page_offset")
                #expect(chunk.pages.first?.type == 2)
                #expect(chunk.pages.first?.encoding == 0, "PLAIN dictionary page")
                let dataPages = chunk.pages.dropFirst()
                #expect(dataPages.count == (rows + 99) / 100, "\(names[c]) pages")
                #expect(dataPages.allSatisfy { $0.type == 0 && $0.encoding == 8 })
                let stats = try #require(chunk.meta.list(13)).map { $0.structure! }
                #expect(
                    stats.map { [$0.int(1)!, $0.int(2)!, $0.int(3)!] } == [[2, 0, 1], [0, 8, Int64(dataPages.count)]]
                )
            }
            // Doubles: 64 values (512 bytes) per page; target_value (every 7th row null) stores only
            // its non-null values, so its pages hold more rows.
            for c in [2, 5, 6, 7, 8] {
                let expectedPages = (rows + 63) / 64
                if c == 2 {
                    #expect(file.chunks[g][c].pages.count < expectedPages)
                    #expect(file.chunks[g][c].pages.allSatisfy { $0.uncompressedSize <= 512 + 4 + 40 })
                } else {
                    #expect(file.chunks[g][c].pages.count == expectedPages, "\(names[c]) pages")
                }
                #expect(file.chunks[g][c].meta.list(2) == [.int(0), .int(3)], "PLAIN, RLE")
                #expect(file.chunks[g][c].meta[11] == nil, "no dictionary_page_offset")
            }
            // item_id: 15-byte entries ("item_000042" + length), so the 200-byte dictionary holds 13
            // ids; 40 (or 20) ids per row group overflow it and the whole chunk falls back to PLAIN.
            let ids = file.chunks[g][0]
            #expect(ids.pages.allSatisfy { $0.type == 0 && $0.encoding == 0 }, "only PLAIN data pages")
            #expect(ids.meta[11] == nil, "no dictionary_page_offset")
            #expect(ids.meta.int(9) == Int64(ids.chunkStart))
            #expect(ids.meta.list(2) == [.int(0), .int(3)])
            let stats = try #require(ids.meta.list(13)).map { $0.structure! }
            #expect(stats.map { [$0.int(1)!, $0.int(2)!, $0.int(3)!] } == [[0, 0, Int64(ids.pages.count)]])
            // PLAIN pages: 100 rows or 512 bytes (34 entries of 15 bytes pass 512 bytes).
            #expect(ids.pages.allSatisfy { $0.numValues <= 35 && $0.uncompressedSize <= 512 + 15 })
        }
        #expect(previousEnd == bytes.count - 8 - Int(bytes[bytes.count - 8]) - Int(bytes[bytes.count - 7]) << 8)
    }

    @Test(arguments: [ParquetFormat.Codec.none, .snappy])
    func valuesRoundTripThroughTheTestReader(codec: ParquetFormat.Codec) throws {
        let schema = try ExportSchema(dimensions: ["store"], forecastTypes: [.quantile(hundredths: 50), .mean])
        let batch = TestData.forecastBatch(
            items: 30,
            windows: 2,
            days: 20,
            schema: schema,
            dimensionValues: { ["store_\($0 % 4)"] }
        )
        let bytes = try TestData.encode(
            batch,
            context: TestData.context(schema),
            format: ParquetFormat(codec: codec, limits: smallLimits)
        )
        let file = try InspectedFile(bytes)
        #expect(
            try file.values(ofColumn: 0) == batch.seriesIndex.map { .string(Array(batch.series[Int($0)].itemId.utf8)) }
        )
        #expect(
            try file.values(ofColumn: 1)
                == batch.seriesIndex.map { .string(Array(batch.series[Int($0)].dimensions[0].utf8)) }
        )
        #expect(try file.values(ofColumn: 2) == batch.timestamp.map { .int($0) })
        #expect(
            try file.values(ofColumn: 3)
                == (0..<batch.rowCount).map { batch.target[$0].map { .double($0.bitPattern) } ?? .null }
        )
        #expect(try file.values(ofColumn: 4) == batch.windowStart.map { .int($0) })
        #expect(try file.values(ofColumn: 5) == batch.windowEnd.map { .int($0) })
        // Batch order p50, mean; file order mean, p50 (Forecast's: mean first, quantiles ascending).
        #expect(try file.values(ofColumn: 6) == batch.forecasts[1].values.map { .double($0.bitPattern) })
        #expect(try file.values(ofColumn: 7) == batch.forecasts[0].values.map { .double($0.bitPattern) })
    }

    @Test func timestampIDsGuessedFromThePreviousRowAreChecked() throws {
        // Runs in order (the guess "previous id + 1" holds), a run that skips a value (the guessed
        // entry exists but is another value), runs backwards, repeats, values past the last entry
        // and new values between old ones: every row must read back as written.
        var batch = TestData.forecastBatch(items: 1, windows: 1, days: 40)
        let day: Int64 = 86_400_000
        let pattern: [Int64] = [
            1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 3, 4, 5, 6, 5, 4, 3, 2, 1, 1, 1, 7, 8, 9, 2, 3, 10, 0, 1, 2, 11, 12, 12,
            3, 4, 6, 7, 8, 9,
        ]
        batch.timestamp = pattern.map { 1_700_000_000_000 + $0 * day }
        for codec in [ParquetFormat.Codec.none, .snappy] {
            let file = try InspectedFile(
                try TestData.encode(
                    batch,
                    context: TestData.context(TestData.quantileSchema),
                    format: ParquetFormat(codec: codec),
                    appends: [0..<7, 7..<8, 8..<23, 23..<40]
                )
            )
            #expect(file.chunks[0][1].pages.first?.type == 2, "a dictionary page")
            #expect(try file.values(ofColumn: 1) == batch.timestamp.map { .int($0) })
        }
    }

    @Test(arguments: [ParquetFormat.Codec.none, .snappy])
    func twoThreadsWriteTheBytesOfOne(codec: ParquetFormat.Codec) throws {
        // 60,000 rows in appends of 8,192 (two threads from ParquetEncoder.parallelRows) and row
        // groups of 32,768 rows (over ParquetEncoder.parallelCopyBytes: copied by both threads).
        let batch = TestData.forecastBatch(items: 300, windows: 2, days: 100)
        let limits = ParquetFormat.Limits(rowGroupRows: 32_768, pageRows: 1000)
        let appends = stride(from: 0, to: batch.rowCount, by: 8192).map { $0..<min($0 + 8192, batch.rowCount) }
        let context = TestData.context(TestData.quantileSchema)
        let one = try TestData.encode(
            batch,
            context: context,
            format: ParquetFormat(codec: codec, limits: limits, threads: 1),
            appends: appends
        )
        let two = try TestData.encode(
            batch,
            context: context,
            format: ParquetFormat(codec: codec, limits: limits, threads: 2),
            appends: appends
        )
        #expect(one == two)
        let file = try InspectedFile(two)
        #expect(try #require(file.footer.list(4)).map { $0.structure!.int(3) } == [32_768, 27_232])
        #expect(try file.values(ofColumn: 5) == batch.forecasts[3].values.map { .double($0.bitPattern) }, "mean")
    }

    @Test func timestampChunksFallBackToPlainWholeWhenTheirDictionaryOverflows() throws {
        // 10 items × 2 windows × 30 days = 600 rows in one row group: 60 distinct timestamps (480
        // bytes, past the 200-byte dictionary limit) but 2 window starts and ends.
        let batch = TestData.forecastBatch(items: 10, windows: 2, days: 30)
        let file = try InspectedFile(
            try TestData.encode(
                batch,
                context: TestData.context(TestData.quantileSchema),
                format: ParquetFormat(codec: .snappy, limits: smallLimits)
            )
        )
        func le(_ v: Int64) -> ThriftValue { .binary(withUnsafeBytes(of: v.littleEndian) { Array($0) }) }
        let timestamp = file.chunks[0][1]
        #expect(timestamp.pages.allSatisfy { $0.type == 0 && $0.encoding == 0 }, "only PLAIN data pages")
        #expect(timestamp.meta[11] == nil, "no dictionary_page_offset")
        #expect(timestamp.meta.list(2) == [.int(0), .int(3)])
        #expect(timestamp.pages.count == 600 / 64 + 1, "PLAIN pages cut at 512 bytes")
        #expect(try file.values(ofColumn: 1) == batch.timestamp.map { .int($0) })
        let timestampStats = try #require(timestamp.meta.structure(12))
        #expect(timestampStats[6] == le(batch.timestamp.min()!) && timestampStats[5] == le(batch.timestamp.max()!))
        for (c, values) in [(3, batch.windowStart), (4, batch.windowEnd)] {
            let chunk = file.chunks[0][c]
            #expect(chunk.meta.list(2) == [.int(0), .int(3), .int(8)])
            #expect(chunk.pages.first?.type == 2 && chunk.pages.first?.numValues == 2, "2-entry dictionary")
            #expect(try file.values(ofColumn: c) == values.map { .int($0) })
            let stats = try #require(chunk.meta.structure(12))
            #expect(stats[6] == le(values.min()!) && stats[5] == le(values.max()!))
            #expect(stats[2] == le(values.min()!) && stats[1] == le(values.max()!), "legacy min/max")
        }
    }

    @Test func rowGroupsCloseAtTheByteLimit() throws {
        // 2500 rows of about 70 stored bytes; a 40 kB limit closes a row group every few hundred rows.
        let batch = TestData.forecastBatch(items: 100, windows: 1, days: 25)
        let limits = ParquetFormat.Limits(rowGroupBytes: 40_000, pageRows: 200)
        let file = try InspectedFile(
            try TestData.encode(
                batch,
                context: TestData.context(TestData.quantileSchema),
                format: ParquetFormat(codec: .none, limits: limits)
            )
        )
        let groups = try #require(file.footer.list(4)).map { $0.structure! }
        #expect(groups.count >= 3)
        #expect(groups.reduce(0) { $0 + $1.int(3)! } == 2500)
        for group in groups {
            // The check runs after each append (one 25-row series here), so a group passes the limit
            // by less than one series plus the page headers.
            #expect(group.int(6)! < 40_000 + 25 * 80 + 1000)
            #expect(group.int(3)! % 25 == 0, "row groups end at an append boundary")
        }
    }

    @Test func zeroRowsIsAFileWithSchemaAndNoRowGroups() throws {
        var encoder = ParquetFormat().makeEncoder(for: TestData.context(TestData.quantileSchema))
        #expect(encoder.takeReadyBytes() == nil)
        var buffer = try encoder.finish()
        let bytes = buffer.readBytes(length: buffer.readableBytes)!
        let file = try InspectedFile(bytes)
        #expect(file.footer.int(3) == 0)
        #expect(file.footer.list(4) == [])
        #expect(file.schema.count == 10)
        #expect(file.footer.list(7)?.count == 9)
    }

    @Test func footerCarriesCreatedByAndJobMetadata() throws {
        let batch = TestData.forecastBatch(items: 2, windows: 1, days: 3)
        let bytes = try TestData.encode(
            batch,
            context: TestData.context(TestData.quantileSchema),
            format: ParquetFormat()
        )
        let file = try InspectedFile(bytes)
        #expect(file.footer.string(6) == "backtest-export version 0.1.0")
        let kv = try #require(file.footer.list(5)).map { ($0.structure!.string(1)!, $0.structure!.string(2)!) }
        #expect(kv.map(\.0) == ["backtest-export.job", "backtest-export.timestamp", "backtest-export.forecast_types"])
        #expect(kv.map(\.1) == ["parquet_test_job", "2024-03-07T09:05:00Z", "mean,p10,p50,p90"])
        // Leaves: item_id REQUIRED UTF8/STRING; timestamps REQUIRED INT64 TIMESTAMP_MILLIS/UTC; doubles OPTIONAL.
        let schema = file.schema
        #expect(schema[0].int(5) == 9)
        #expect(schema[1].int(1) == 6 && schema[1].int(3) == 0 && schema[1].int(6) == 0)
        #expect(schema[2].int(1) == 2 && schema[2].int(6) == 9)
        #expect(schema[2].structure(10)?.structure(8)?.fields[1] == .bool(true))
        #expect(schema[3].int(1) == 5 && schema[3].int(3) == 1 && schema[3][6] == nil)
    }

    @Test func metricsTableEncodesTheBacktestWindowLabels() throws {
        let schema = TestData.quantileSchema
        var batch = MetricsBatch(metricCount: schema.metricNames.count)
        for item in 0..<3 {
            let key = SeriesKey(itemId: "item_\(item)")
            for w in 0..<2 {
                batch.append(
                    series: key,
                    window: .computed,
                    windowStart: Int64(w) * TestData.day,
                    windowEnd: Int64(w + 1) * TestData.day,
                    metrics: schema.metricNames.indices.map { $0 == 7 ? nil : Double(item * 10 + w) + Double($0) / 8 }
                )
            }
            batch.append(
                series: key,
                window: .summary,
                windowStart: 0,
                windowEnd: 2 * TestData.day,
                metrics: Array(repeating: nil, count: schema.metricNames.count)
            )
        }
        let bytes = try TestData.encode(
            batch,
            context: TestData.context(schema, .accuracyMetricsValues),
            format: ParquetFormat(codec: .none)
        )
        let file = try InspectedFile(bytes)
        let labels = try file.values(ofColumn: 1)
        #expect(labels == batch.backtestWindow.map { .string(Array($0.label.utf8)) })
        let windowChunk = file.chunks[0][1]
        #expect(windowChunk.pages[0].type == 2 && windowChunk.pages[0].numValues == 2)
        let stats = try #require(windowChunk.meta.structure(12))
        #expect(stats.fields[6] == .binary(Array("Computed".utf8)))
        #expect(stats.fields[5] == .binary(Array("Summary".utf8)))
        #expect(stats.fields[1] == nil, "no legacy min/max for strings")
        let mase = try file.values(ofColumn: 4 + 7)
        #expect(mase == Array(repeating: DecodedValue.null, count: 9))
        let maseStats = try #require(file.chunks[0][11].meta.structure(12))
        #expect(maseStats.int(3) == 9)
        #expect(maseStats.fields[5] == nil && maseStats.fields[6] == nil)
    }

    @Test func doubleStatisticsFollowTheNaNAndZeroRules() throws {
        func stats(_ values: [Double?]) throws -> ThriftStruct {
            let schema = try ExportSchema(forecastTypes: [.mean])
            var batch = ForecastBatch(forecastTypeCount: 1)
            for (i, v) in values.enumerated() {
                batch.append(
                    series: SeriesKey(itemId: "x"),
                    timestamp: Int64(i),
                    target: v,
                    windowStart: 0,
                    windowEnd: 1,
                    forecasts: [0]
                )
            }
            let file = try InspectedFile(
                try TestData.encode(batch, context: TestData.context(schema), format: ParquetFormat(codec: .none))
            )
            return try #require(file.chunks[0][2].meta.structure(12))
        }
        func bits(_ d: Double) -> ThriftValue { .binary(withUnsafeBytes(of: d.bitPattern.littleEndian) { Array($0) }) }

        let a = try stats([.nan, 0.0, 5, nil, -0.0])
        #expect(a.fields[6] == bits(-0.0) && a.fields[5] == bits(5))
        #expect(a.fields[2] == bits(-0.0) && a.fields[1] == bits(5), "legacy min/max for DOUBLE")
        #expect(a.int(3) == 1 && a.int(9) == 1)
        let b = try stats([-0.0, -3])
        #expect(b.fields[6] == bits(-3) && b.fields[5] == bits(0.0), "a zero max is written +0.0")
        let c = try stats([.nan, nil, .nan])
        #expect(c.fields[5] == nil && c.fields[6] == nil && c.int(3) == 1 && c.int(9) == 2)
        let d = try stats([.infinity, -.infinity])
        #expect(d.fields[6] == bits(-.infinity) && d.fields[5] == bits(.infinity))
    }

    @Test func stringDictionaryKeysAndStatisticsAreByteWise() throws {
        let schema = try ExportSchema(forecastTypes: [.mean])
        var batch = ForecastBatch(forecastTypeCount: 1)
        // "\u{e9}" and "e\u{301}" are canonically equal Strings but different bytes.
        let ids = ["b", "\u{e9}", "a", "e\u{301}", "", "b"]
        for (i, id) in ids.enumerated() {
            batch.append(
                series: SeriesKey(itemId: id),
                timestamp: Int64(i),
                target: 1,
                windowStart: 0,
                windowEnd: 1,
                forecasts: [1]
            )
        }
        let file = try InspectedFile(
            try TestData.encode(batch, context: TestData.context(schema), format: ParquetFormat(codec: .snappy))
        )
        let chunk = file.chunks[0][0]
        #expect(chunk.pages[0].type == 2 && chunk.pages[0].numValues == 5)
        #expect(try file.values(ofColumn: 0) == ids.map { .string(Array($0.utf8)) })
        let stats = try #require(chunk.meta.structure(12))
        #expect(stats.fields[6] == .binary([]))
        #expect(stats.fields[5] == .binary(Array("\u{e9}".utf8)))
        #expect(stats.int(3) == 0)
    }

    @Test func readyBytesComeOutPerRowGroupAndStartWithTheMagic() throws {
        let batch = TestData.forecastBatch(items: 50, windows: 1, days: 50)
        var encoder = ParquetFormat(limits: .init(rowGroupRows: 1000)).makeEncoder(
            for: TestData.context(TestData.quantileSchema)
        )
        try encoder.append(batch, rows: 0..<999)
        #expect(encoder.takeReadyBytes() == nil)
        try encoder.append(batch, rows: 999..<1001)
        let firstReady = encoder.takeReadyBytes()
        var first = try #require(firstReady)
        #expect(first.readBytes(length: 4) == Array("PAR1".utf8))
        #expect(encoder.takeReadyBytes() == nil)
        try encoder.append(batch, rows: 1001..<2500)
        let secondReady = encoder.takeReadyBytes()
        let second = try #require(secondReady)
        #expect(second.getBytes(at: second.readerIndex, length: 4) != Array("PAR1".utf8))
        let sizeBefore = encoder.byteCount
        try encoder.append(batch, rows: 0..<100)
        #expect(encoder.byteCount > sizeBefore)
        var tail = try encoder.finish()
        #expect(tail.getBytes(at: tail.writerIndex - 4, length: 4) == Array("PAR1".utf8))
        _ = tail.readBytes(length: tail.readableBytes)
        #expect(throws: ExportError.self) { try encoder.append(batch, rows: 0..<1) }
    }

    @Test func mismatchedBatchesAreRejected() throws {
        let schema = try ExportSchema(forecastTypes: [.mean, .quantile(hundredths: 50)])
        let batch = TestData.forecastBatch(items: 1, windows: 1, days: 2)  // four forecast columns
        var encoder = ParquetFormat().makeEncoder(for: TestData.context(schema))
        #expect(throws: ExportError.self) { try encoder.append(batch, rows: 0..<2) }
        var other = ParquetFormat().makeEncoder(for: TestData.context(TestData.quantileSchema))
        #expect(throws: ExportError.self) { try other.append(batch, rows: 0..<3) }
    }
}
