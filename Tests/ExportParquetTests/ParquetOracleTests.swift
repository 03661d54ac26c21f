import ExportCore
import Foundation
import NIOCore
import Testing

@testable import ExportParquet

/// Writes Parquet files (every codec × sample-like and adversarial data) with their exact expected
/// values next to them, and has `tests/python/parquet_oracle.py` check them with pyarrow, DuckDB,
/// polars and fastparquet. An integration test: `scripts/test` runs it (BACKTEST_EXPORT_INTEGRATION=1,
/// its virtual environment first on PATH); there it fails, never skips, when python or a reader
/// module is missing.
@Suite(
    .serialized,
    .tags(.integration),
    .enabled(
        if: ProcessInfo.processInfo.environment["BACKTEST_EXPORT_INTEGRATION"] == "1",
        "integration test with the Python readers: run by scripts/test (BACKTEST_EXPORT_INTEGRATION=1)"
    )
)
struct ParquetOracleTests {
    /// One file's content: the batch, its table and the limits to write it with.
    struct DataSet {
        var name: String
        var schema: ExportSchema
        var table: ExportTable
        var limits = ParquetFormat.Limits()
        /// Whether every string chunk fits its dictionary (otherwise chunks fall back to PLAIN).
        var dictionaryStrings = true
        var forecast: ForecastBatch?
        var metrics: MetricsBatch?
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func dataSets() throws -> [DataSet] {
        var sets: [DataSet] = []
        let dims = try ExportSchema(
            dimensions: ["store", "region"],
            forecastTypes: [.quantile(hundredths: 10), .quantile(hundredths: 50), .quantile(hundredths: 90), .mean]
        )
        sets.append(
            DataSet(
                name: "sample_forecast",
                schema: dims,
                table: .forecastedValues,
                forecast: TestData.forecastBatch(
                    items: 40,
                    windows: 2,
                    days: 10,
                    schema: dims,
                    dimensionValues: { ["store_\($0 % 3)", $0 % 2 == 0 ? "north" : "south"] }
                )
            )
        )
        sets.append(
            DataSet(
                name: "sample_multi_rowgroup",
                schema: TestData.quantileSchema,
                table: .forecastedValues,
                limits: .init(rowGroupRows: 1000, pageRows: 100, pageBytes: 512, dictionaryPageBytes: 200),
                dictionaryStrings: false,
                forecast: TestData.forecastBatch(items: 100, windows: 1, days: 25)
            )
        )
        // 60 distinct timestamps per chunk pass the 200-byte dictionary limit (the chunk falls back to
        // PLAIN as a whole); window starts and ends stay dictionary-encoded.
        sets.append(
            DataSet(
                name: "timestamp_plain_fallback",
                schema: TestData.quantileSchema,
                table: .forecastedValues,
                limits: .init(rowGroupRows: 400, pageRows: 100, pageBytes: 512, dictionaryPageBytes: 200),
                forecast: TestData.forecastBatch(items: 10, windows: 2, days: 30)
            )
        )
        sets.append(sampleMetrics())
        sets.append(adversarial())
        var single = ForecastBatch(forecastTypeCount: 1)
        single.append(
            series: SeriesKey(itemId: "only"),
            timestamp: 0,
            target: 1.5,
            windowStart: 0,
            windowEnd: TestData.day,
            forecasts: [2.5]
        )
        let meanOnly = try ExportSchema(forecastTypes: [.mean])
        sets.append(DataSet(name: "single_row", schema: meanOnly, table: .forecastedValues, forecast: single))
        sets.append(
            DataSet(
                name: "zero_rows",
                schema: meanOnly,
                table: .forecastedValues,
                forecast: ForecastBatch(forecastTypeCount: 1)
            )
        )
        sets.append(
            DataSet(
                name: "distinct_200k",
                schema: meanOnly,
                table: .forecastedValues,
                dictionaryStrings: false,
                forecast: TestData.forecastBatch(
                    items: 200_000,
                    windows: 1,
                    days: 1,
                    schema: meanOnly,
                    itemID: { "id_\($0 * 7919 % 1_000_003)" }
                )
            )
        )
        return sets
    }

    static func sampleMetrics() -> DataSet {
        let schema = TestData.quantileSchema
        var batch = MetricsBatch(metricCount: schema.metricNames.count)
        var generator = SplitMix64(seed: 5)
        for item in 0..<25 {
            let key = SeriesKey(itemId: "item_\(item)")
            for w in 0..<3 {
                batch.append(
                    series: key,
                    window: .computed,
                    windowStart: TestData.start + Int64(w * 30) * TestData.day,
                    windowEnd: TestData.start + Int64(w * 30 + 30) * TestData.day,
                    metrics: schema.metricNames.indices.map { m in
                        m == 7 && item % 4 == 0 ? nil : Double(generator.next() >> 11) / Double(1 << 40)
                    }
                )
            }
            batch.append(
                series: key,
                window: .summary,
                windowStart: TestData.start,
                windowEnd: TestData.start + 90 * TestData.day,
                metrics: schema.metricNames.indices.map { m in m == 8 ? nil : Double(m) * 0.125 }
            )
        }
        return DataSet(name: "sample_metrics", schema: schema, table: .accuracyMetricsValues, metrics: batch)
    }

    static func adversarial() -> DataSet {
        let schema = try! ExportSchema(
            dimensions: ["dim"],
            forecastTypes: [.quantile(hundredths: 50), .quantile(hundredths: 90), .mean]
        )
        let ids = [
            "", "a\"b\"", "line\nbreak", "comma,separated", "tab\tand\r\ncrlf", "ünïcödé 日本語 🎉", "\u{e9}", "e\u{301}",
            "back\\slash", "'single'", String(repeating: "long", count: 400),
        ]
        let specials: [Double?] = [
            .nan, -0.0, 0.0, .infinity, -.infinity, nil, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .leastNonzeroMagnitude, Double(bitPattern: 0xFFF8_0000_0000_0000), 1e-300, 0.1, nil,
        ]
        var batch = ForecastBatch(forecastTypeCount: 3)
        var row = 0
        for (i, id) in ids.enumerated() {
            let key = SeriesKey(itemId: id, dimensions: [ids[(i + 3) % ids.count]])
            for d in 0..<4 {
                let ts = Int64(-3 + row) * 400 * TestData.day + Int64(d)  // crosses 1970, goes past 2000
                batch.append(
                    series: key,
                    timestamp: ts,
                    target: specials[row % specials.count],
                    windowStart: ts - TestData.day,
                    windowEnd: ts + TestData.day,
                    forecasts: [
                        specials[(row * 5 + 1) % specials.count],
                        nil,  // an all-null column
                        .nan,  // an all-NaN column
                    ]
                )
                row += 1
            }
        }
        return DataSet(name: "adversarial", schema: schema, table: .forecastedValues, forecast: batch)
    }

    static func hex(_ v: Double?) -> Any {
        guard let v else { return NSNull() }
        let s = String(v.bitPattern, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// The exact values of every column, as the oracle expects them.
    static func expectation(_ set: DataSet, codec: ParquetFormat.Codec) -> [String: Any] {
        let tableSchema = set.schema.tableSchema(for: set.table)
        let series: [SeriesKey]
        let index: [Int32]
        let valueColumns: [BatchColumn]
        if let f = set.forecast {
            (series, index, valueColumns) = (f.series, f.seriesIndex, tableSchema.outputColumns(of: f))
        } else {
            let m = set.metrics!
            (series, index, valueColumns) = (m.series, m.seriesIndex, m.valueColumns)
        }
        var columns: [[String: Any]] = []
        for (k, name) in tableSchema.keyColumns.enumerated() {
            let values = index.map { k == 0 ? series[Int($0)].itemId : series[Int($0)].dimensions[k - 1] }
            columns.append(["name": name, "type": "string", "values": values])
        }
        for (spec, column) in zip(tableSchema.valueColumns, valueColumns) {
            switch column {
            case .times(let v): columns.append(["name": spec.name, "type": "timestamp_ms", "values": v])
            case .backtestWindows(let v):
                columns.append(["name": spec.name, "type": "string", "values": v.map(\.label)])
            case .doubles(let v):
                columns.append(["name": spec.name, "type": "double", "values": (0..<v.count).map { hex(v[$0]) }])
            }
        }
        let codecName: String =
            switch codec {
            case .none: "UNCOMPRESSED"
            case .snappy: "SNAPPY"
            case .gzip: "GZIP"
            case .zstd: "ZSTD"
            }
        return [
            "rows": index.count,
            "codec": codecName,
            "created_by": ParquetEncoder.createdBy,
            "dictionary_strings": set.dictionaryStrings,
            "key_value_metadata": [
                "backtest-export.job": TestData.jobName.rawValue,
                "backtest-export.timestamp": TestData.timestamp.iso8601,
                "backtest-export.forecast_types": set.schema.outputForecastTypes.map(\.columnName).joined(
                    separator: ","
                ),
            ],
            "columns": columns,
        ]
    }

    static func write(_ set: DataSet, codec: ParquetFormat.Codec, to directory: URL) throws {
        let format = ParquetFormat(codec: codec, limits: set.limits)
        let context = TestData.context(set.schema, set.table)
        let bytes: [UInt8]
        if let f = set.forecast {
            bytes = try TestData.encode(f, context: context, format: format)
        } else {
            bytes = try TestData.encode(set.metrics!, context: context, format: format)
        }
        let base = directory.appendingPathComponent("\(set.name)_\(codec.rawValue)")
        try Data(bytes).write(to: base.appendingPathExtension("parquet"))
        let json = try JSONSerialization.data(withJSONObject: expectation(set, codec: codec), options: [.sortedKeys])
        try json.write(to: URL(fileURLWithPath: base.path + ".expected.json"))
    }

    @Test func pyarrowDuckDBPolarsAndFastparquetReadExactlyWhatWasWritten() throws {
        let directory: URL
        if let keep = ProcessInfo.processInfo.environment["PARQUET_ORACLE_DIR"] {
            directory = URL(fileURLWithPath: keep)
        } else {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "parquet-oracle-\(UUID().uuidString)"
            )
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer {
            if ProcessInfo.processInfo.environment["PARQUET_ORACLE_DIR"] == nil {
                try? FileManager.default.removeItem(at: directory)
            }
        }
        for set in try Self.dataSets() {
            for codec in ParquetFormat.Codec.allCases { try Self.write(set, codec: codec, to: directory) }
        }
        let script = Self.packageRoot.appendingPathComponent("tests/python/parquet_oracle.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, directory.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            Issue.record(
                "could not start python3 (\(error)); run scripts/test, which installs the readers into .build/venv"
            )
            return
        }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let hint =
            process.terminationStatus == 127
            ? "python3 was not found; install Python 3 and run scripts/test, which installs the readers into .build/venv"
            : "if a module is missing, run scripts/test, which installs the readers into .build/venv"
        #expect(
            process.terminationStatus == 0,
            "parquet_oracle.py exited with \(process.terminationStatus) (\(hint)):\n\(output)"
        )
    }
}
