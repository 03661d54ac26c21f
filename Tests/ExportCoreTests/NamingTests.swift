import ExportCore
import Foundation
import Testing

@Suite struct JobNameTests {
    @Test(arguments: ["a", "A", "job_1", "MyExport_2024", String(repeating: "x", count: 63), "a_"])
    func acceptsValidNames(_ name: String) throws {
        #expect(try JobName(name).rawValue == name)
    }

    @Test(arguments: [
        "", "1job", "_job", "job-1", "job 1", "jöb", "job.csv", String(repeating: "x", count: 64), "a/b", "job\n",
    ])
    func rejectsInvalidNamesNamingTheRule(_ name: String) {
        do {
            _ = try JobName(name)
            Issue.record("'\(name)' was accepted")
        } catch {
            #expect(error.code == .validation)
            #expect(error.message.contains("^[a-zA-Z][a-zA-Z0-9_]*$"))
            #expect(error.message.contains("1-63"))
        }
    }
}

@Suite struct ExportTimestampTests {
    static let formatter: DateFormatter = {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH-mm-ss'Z'"
        return f
    }()

    @Test func rendersLikeFoundationForRandomInstants() {
        var generator = SystemRandomNumberGenerator()
        // 1900-01-01 … 2200-01-01, plus the edges.
        var instants: [Int64] = [0, -1, 86_399, 86_400, 951_782_400, 4_102_444_800 - 1, -2_208_988_800]
        for _ in 0..<20_000 { instants.append(Int64.random(in: -2_208_988_800...7_258_118_400, using: &generator)) }
        for seconds in instants {
            let expected = Self.formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(ExportTimestamp(epochSeconds: seconds).fileNameForm == expected, "epoch \(seconds)")
        }
    }

    @Test func parsesBothFormsAndRoundTrips() throws {
        let t = try ExportTimestamp(parsing: "2024-03-07T09:05:00Z")
        #expect(t.fileNameForm == "2024-03-07T09-05-00Z")
        #expect(t.iso8601 == "2024-03-07T09:05:00Z")
        #expect(try ExportTimestamp(parsing: t.fileNameForm) == t)
        #expect(try ExportTimestamp(parsing: "2024-03-07 09:05:00") == t)
        #expect(try ExportTimestamp(parsing: "2024-02-29T23:59:59Z").fileNameForm == "2024-02-29T23-59-59Z")
    }

    @Test(arguments: [
        "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01", "yesterday",
    ])
    func rejectsInvalidTimestamps(_ text: String) {
        #expect(throws: ExportError.self) { try ExportTimestamp(parsing: text) }
    }

    @Test func civilTimeRoundTripsEveryDayOverFourCenturies() {
        var day: Int64 = CivilTime.days(fromYear: 1800, month: 1, day: 1)
        let end = CivilTime.days(fromYear: 2200, month: 1, day: 1)
        var previous = CivilTime.civil(fromDays: day - 1)
        while day < end {
            let c = CivilTime.civil(fromDays: day)
            #expect(CivilTime.days(fromYear: c.year, month: c.month, day: c.day) == day)
            let advanced =
                c.day == 1
                ? (c.month == 1 ? c.year == previous.year + 1 : c.month == previous.month + 1)
                : c.day == previous.day + 1
            #expect(advanced)
            previous = c
            day += 1
        }
    }
}

@Suite struct PartNameTests {
    @Test func formatsTheAmazonForecastName() throws {
        let name = PartName(
            jobName: try JobName("MyJob"),
            timestamp: try ExportTimestamp(parsing: "2024-03-07T09:05:00Z"),
            index: 10,
            fileExtension: "csv"
        )
        #expect(name.fileName == "MyJob_2024-03-07T09-05-00Z_part10.csv")
        #expect(name.key(in: .forecastedValues) == "forecasted-values/MyJob_2024-03-07T09-05-00Z_part10.csv")
        #expect(name.key(in: .accuracyMetricsValues).hasPrefix("accuracy-metrics-values/"))
    }

    @Test func roundTripsRandomNames() throws {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let tail = letters + Array("0123456789_")
        for _ in 0..<5_000 {
            let length = Int.random(in: 1...63)
            let job = String(letters.randomElement()!) + String((1..<length).map { _ in tail.randomElement()! })
            let name = PartName(
                jobName: try JobName(job),
                timestamp: ExportTimestamp(epochSeconds: Int64.random(in: 0...7_258_118_400)),
                index: Int.random(in: 0...100_000),
                fileExtension: ["csv", "csv.gz", "parquet"].randomElement()!
            )
            #expect(try PartName(parsing: name.fileName) == name)
        }
    }

    @Test(arguments: [
        "MyJob_2024-03-07T09-05-00Z_part01.csv", "MyJob_2024-03-07T09-05-00Z_part.csv",
        "MyJob_2024-03-07T09:05:00Z_part1.csv", "MyJob_2024-03-07T09-05-00Z_part1", "_2024-03-07T09-05-00Z_part1.csv",
        "1Job_2024-03-07T09-05-00Z_part1.csv", "MyJob2024-03-07T09-05-00Z_part1.csv",
    ])
    func rejectsMalformedNames(_ text: String) {
        #expect(throws: ExportError.self) { try PartName(parsing: text) }
    }
}

@Suite struct ForecastTypeTests {
    @Test func namesColumnsAndQuantilesShortest() throws {
        let cases: [(String, String, String?)] = [
            ("p10", "p10", "0.1"), ("P50", "p50", "0.5"), ("p5", "p5", "0.05"), ("p05", "p5", "0.05"),
            ("p65", "p65", "0.65"), ("p99", "p99", "0.99"), ("mean", "mean", nil),
            // Forecast's API spellings, and harmless variants of them.
            ("0.1", "p10", "0.1"), ("0.10", "p10", "0.1"), ("0.05", "p5", "0.05"), ("0.65", "p65", "0.65"),
            (".5", "p50", "0.5"), ("0.500", "p50", "0.5"), ("p10.0", "p10", "0.1"), ("0.99", "p99", "0.99"),
        ]
        for (input, column, quantile) in cases {
            let type = try #require(try ForecastType(columnName: input))
            #expect(type.columnName == column)
            #expect(type.shortQuantileText == quantile)
        }
        #expect(try ForecastType(columnName: "item_id") == nil)
        // `mean` in other letter case could be the mean forecast or a dimension: refused, not guessed.
        for ambiguous in ["Mean", "MEAN", "mEaN"] {
            let error = #expect(throws: ExportError.self) { try ForecastType(columnName: ambiguous) }
            #expect(error?.message.contains("'\(ambiguous)' is spelled like the forecast type 'mean'") == true)
        }
        for separated in ["p 10", "P_50", "p__5", "p _90.0"] {
            let error = #expect(throws: ExportError.self) { try ForecastType(columnName: separated) }
            #expect(error?.message.contains("'\(separated)' looks like a quantile forecast column") == true)
        }
        #expect(try ForecastType(columnName: "p_store") == nil)
        #expect(try ForecastType(columnName: "means") == nil)
        #expect(try ForecastType(columnName: "p") == nil)
        #expect(try ForecastType(columnName: "store") == nil)
        #expect(try ForecastType(columnName: "p10x") == nil)
        #expect(try ForecastType(columnName: "1.2.3") == nil)
    }

    /// Out of (0, 1), finer than hundredths or with a `+` sign: an input error, never a dimension.
    @Test(arguments: [
        "p0", "p100", "p150", "p000", "p50.5", "p-5", "0.005", "0", "1", "1.0", "1.5", "-0.1", "0.001", "p0.5",
        "p+9", "P+50", "+0.5", "+.1",
    ])
    func rejectsQuantilesOutOfRangeOrTooFine(_ name: String) {
        #expect(throws: ExportError.self) { try ForecastType(columnName: name) }
        do {
            _ = try ForecastType(columnName: name)
        } catch {
            #expect(error.code == .input)
            #expect(error.message.contains(name))
        }
    }

    @Test func typesSortInForecastsOrder() {
        let types: [ForecastType] = [
            .quantile(hundredths: 90), .mean, .quantile(hundredths: 10), .quantile(hundredths: 50),
        ]
        #expect(
            types.sorted() == [.mean, .quantile(hundredths: 10), .quantile(hundredths: 50), .quantile(hundredths: 90)]
        )
    }

    @Test func outputOrderIsMeanThenQuantilesAscendingWhateverTheInputOrder() throws {
        let schema = try ExportSchema(
            forecastTypes: [.quantile(hundredths: 90), .mean, .quantile(hundredths: 10), .quantile(hundredths: 50)]
        )
        #expect(schema.forecastOutputOrder == [1, 2, 3, 0])
        #expect(schema.forecastedValues.columnNames.suffix(4) == ["mean", "p10", "p50", "p90"])
        #expect(schema.forecastedValues.batchColumnIndex == [0, 1, 2, 3, 5, 6, 7, 4])
        #expect(schema.metricNames.prefix(3) == ["wQL[0.1]", "wQL[0.5]", "wQL[0.9]"])
        #expect(schema.pointForecastIndex == 1)
    }

    @Test func schemaBuildsBothHeaders() throws {
        let schema = try ExportSchema(
            dimensions: ["store"],
            forecastTypes: [.mean, .quantile(hundredths: 65), .quantile(hundredths: 5)]
        )
        #expect(
            schema.forecastedValues.columnNames == [
                "item_id", "store", "timestamp", "target_value", "backtestwindow_start_time",
                "backtestwindow_end_time", "mean", "p5", "p65",
            ]
        )
        #expect(
            schema.accuracyMetrics.columnNames == [
                "item_id", "store", "backtest_window", "backtestwindow_start_time", "backtestwindow_end_time",
                "wQL[0.05]", "wQL[0.65]", "Average wQL", "RMSE", "WAPE", "MAPE", "MASE",
            ]
        )
        let meanOnly = try ExportSchema(forecastTypes: [.mean])
        #expect(meanOnly.metricNames == ["RMSE", "WAPE", "MAPE", "MASE"])
        #expect(try ExportSchema(forecastTypes: [.quantile(hundredths: 50)]).pointForecastIndex == 0)
    }
}

@Suite struct SeriesKeyOrderTests {
    @Test func ordersByteWiseItemFirstThenDimensions() {
        // Byte order, not Unicode collation: "Z" (0x5A) < "a" (0x61) < "é" (0xC3 0xA9); "é" composed
        // sorts after "e\u{301}" (0x65 …).
        let keys = [
            SeriesKey(itemId: "a", dimensions: ["2"]), SeriesKey(itemId: "Z"), SeriesKey(itemId: "é"),
            SeriesKey(itemId: "a", dimensions: ["10"]), SeriesKey(itemId: "e\u{301}"), SeriesKey(itemId: ""),
            SeriesKey(itemId: "a,b"), SeriesKey(itemId: "a"),
        ]
        let sorted = keys.sorted()
        let bytes = sorted.map { Array($0.itemId.utf8) + [0] + $0.dimensions.flatMap { Array($0.utf8) + [0] } }
        for (a, b) in zip(bytes, bytes.dropFirst()) { #expect(a.lexicographicallyPrecedes(b) || a == b) }
        #expect(sorted.first == SeriesKey(itemId: ""))
        #expect(sorted.last == SeriesKey(itemId: "é"))
        // Canonically equivalent but different bytes: two series, not one.
        #expect(SeriesKey(itemId: "e\u{301}") != SeriesKey(itemId: "é"))
        #expect(Set([SeriesKey(itemId: "e\u{301}"), SeriesKey(itemId: "é")]).count == 2)
        #expect(SeriesKey(itemId: "a", dimensions: ["10"]) < SeriesKey(itemId: "a", dimensions: ["2"]))
    }
}
