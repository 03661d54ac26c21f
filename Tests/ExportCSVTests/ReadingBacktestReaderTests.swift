import ExportCore
import Foundation
import Testing

@testable import ExportCSV

@Suite("BacktestCSVReader")
struct ReadingBacktestReaderTests {
    static let standardHeader =
        "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p10,p50,p90"

    @Test("reads the AWS fixture row in the forecasted-values layout")
    func awsFixture() throws {
        let path = try writeReadingInput(
            Self.standardHeader + "\n"
                + "item_01,2019-07-14T12:38:26Z,0.0,2019-07-14T12:38:26,2020-06-14T12:38:26,1.0,2.0,3.0\n"
        )
        var reader = try BacktestCSVReader(path: path)
        #expect(reader.schema.dimensions == [])
        #expect(
            reader.schema.forecastTypes == [
                .quantile(hundredths: 10), .quantile(hundredths: 50), .quantile(hundredths: 90),
            ]
        )
        let (rows, sizes) = try readAllRows(&reader)
        #expect(sizes == [1])
        #expect(
            rows == [
                ReadRow(
                    key: SeriesKey(itemId: "item_01"),
                    timestamp: 1_563_107_906_000,
                    target: 0.0,
                    windowStart: 1_563_107_906_000,
                    windowEnd: utcMillis(2020, 6, 14, 12, 38, 26),
                    forecasts: [1.0, 2.0, 3.0]
                )
            ]
        )
    }

    /// The same logical rows written with the columns in every order give the same rows.
    @Test("every column order gives the same rows and schema")
    func everyColumnOrder() throws {
        let names = [
            "item_id", "region", "timestamp", "target_value", "backtestwindow_start_time",
            "backtestwindow_end_time", "mean", "p90",
        ]
        let records: [[String]] = [
            ["a", "eu", "2020-01-01 00:00:00", "1.5", "2020-01-01", "2020-01-02 23:00:00", "1.25", "3"],
            ["a", "us", "2020-01-01 01:00:00", "", "2020-01-01", "2020-01-02 23:00:00", "-0.5", "NaN"],
            ["b", "eu", "2020-01-02T00:00:00Z", "7", "2020-01-01", "2020-01-02 23:00:00", "", "1e3"],
        ]
        let expected = [
            ReadRow(
                key: SeriesKey(itemId: "a", dimensions: ["eu"]),
                timestamp: utcMillis(2020, 1, 1),
                target: 1.5,
                windowStart: utcMillis(2020, 1, 1),
                windowEnd: utcMillis(2020, 1, 2, 23),
                forecasts: [1.25, 3]
            ),
            ReadRow(
                key: SeriesKey(itemId: "a", dimensions: ["us"]),
                timestamp: utcMillis(2020, 1, 1, 1),
                target: nil,
                windowStart: utcMillis(2020, 1, 1),
                windowEnd: utcMillis(2020, 1, 2, 23),
                forecasts: [-0.5, .nan]
            ),
            ReadRow(
                key: SeriesKey(itemId: "b", dimensions: ["eu"]),
                timestamp: utcMillis(2020, 1, 2),
                target: 7,
                windowStart: utcMillis(2020, 1, 1),
                windowEnd: utcMillis(2020, 1, 2, 23),
                forecasts: [nil, 1000]
            ),
        ]
        // The forecast columns keep their relative order (mean before p90) in most permutations;
        // when p90 comes first the schema order flips, and so does each row's forecast list.
        var permutationCount = 0
        for order in permutations(Array(0..<names.count)) {
            permutationCount += 1
            // 40 320 permutations is too many files; take every 97th plus the identity and reverse.
            guard permutationCount % 97 == 1 || order == Array((0..<names.count).reversed()) else { continue }
            var text = order.map { names[$0] }.joined(separator: ",") + "\n"
            for record in records { text += order.map { record[$0] }.joined(separator: ",") + "\n" }
            let path = try writeReadingInput(text)
            var reader = try BacktestCSVReader(path: path)
            let meanFirst = order.firstIndex(of: 6)! < order.firstIndex(of: 7)!
            #expect(reader.schema.dimensions == ["region"])
            #expect(
                reader.schema.forecastTypes
                    == (meanFirst ? [.mean, .quantile(hundredths: 90)] : [.quantile(hundredths: 90), .mean])
            )
            #expect(reader.columns.itemId == order.firstIndex(of: 0)!)
            #expect(reader.columns.windowEnd == order.firstIndex(of: 5)!)
            let rows = try readAllRows(&reader).rows
            let want =
                meanFirst
                ? expected
                : expected.map { row in
                    var r = row
                    r.forecasts.reverse()
                    return r
                }
            #expect(rows == want, "order \(order)")
        }
        #expect(permutationCount == 40_320)
    }

    @Test("dimensions are every other column, in input order, and part of the series key")
    func dimensions() throws {
        let path = try writeReadingInput(
            "store,item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean,color\n"
                + "s1,i1,2020-01-01,1,2020-01-01,2020-01-03,1,red\n"
                + "s1,i1,2020-01-02,2,2020-01-01,2020-01-03,2,red\n"
                + "s2,i1,2020-01-01,3,2020-01-01,2020-01-03,3,red\n"
                + "s1,i1,2020-01-03,4,2020-01-01,2020-01-03,4,red\n"
                + ",,2020-01-01,5,2020-01-01,2020-01-03,5,\n"
        )
        var reader = try BacktestCSVReader(path: path)
        #expect(reader.schema.dimensions == ["store", "color"])
        #expect(reader.columns.dimensions == [0, 7])
        let batch = try #require(try reader.nextBatch())
        #expect(
            batch.series == [
                SeriesKey(itemId: "i1", dimensions: ["s1", "red"]),
                SeriesKey(itemId: "i1", dimensions: ["s2", "red"]),
                SeriesKey(itemId: "", dimensions: ["", ""]),
            ]
        )
        #expect(batch.seriesIndex == [0, 0, 1, 0, 2])
        #expect(try reader.nextBatch() == nil)
    }

    @Test("a UTF-8 byte order mark is skipped, CRLF and LF line ends both work")
    func bomAndLineEnds() throws {
        let body =
            Self.standardHeader + "\r\n"
            + "x,2020-01-01,1,2020-01-01,2020-01-02,1,2,3\r\n"
            + "x,2020-01-02,2,2020-01-01,2020-01-02,4,5,6\n"
            + "y,2020-01-01,,2020-01-01,2020-01-02,7,8,\r\n"
        let path = try writeReadingInput([0xEF, 0xBB, 0xBF] + Array(body.utf8))
        var reader = try BacktestCSVReader(path: path)
        #expect(reader.columns.itemId == 0, "the BOM is not part of the first name")
        let rows = try readAllRows(&reader).rows
        #expect(rows.map(\.key.itemId) == ["x", "x", "y"])
        #expect(rows.map(\.target) == [Double(1.0).bitPattern, Double(2.0).bitPattern, nil])
        #expect(
            rows[2].forecasts == [Double(7.0).bitPattern, Double(8.0).bitPattern, nil],
            "the CR is not part of the last field"
        )
    }

    @Test("quoted fields hold commas, doubled quotes and line breaks; lines are counted through them")
    func quotedFields() throws {
        let path = try writeReadingInput(
            "\"item_id\",region,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,\"p50\"\n"
                + "\"a,b\",\"say \"\"hi\"\"\",2020-01-01,\"1.5\",2020-01-01,2020-01-02,2\n"
                + "\"multi\nline\r\nitem\",\"\",2020-01-01,1,2020-01-01,2020-01-02,2\r\n"
                + "\"\"\"\",plain\"quote,2020-01-01,1,2020-01-01,2020-01-02,\"\"\n"
                + "last,r,2020-01-01,1,2020-01-01,2020-01-02,oops\n"
        )
        var reader = try BacktestCSVReader(path: path, batchSize: 3)
        let batch = try #require(try reader.nextBatch())
        #expect(
            batch.series == [
                SeriesKey(itemId: "a,b", dimensions: ["say \"hi\""]),
                SeriesKey(itemId: "multi\nline\r\nitem", dimensions: [""]),
                SeriesKey(itemId: "\"", dimensions: ["plain\"quote"]),
            ]
        )
        #expect(batch.target[0] == 1.5)
        #expect(batch.forecasts[0][2] == nil, "a quoted empty field is missing too")
        // The second data record spans lines 3-5, the third is line 6, the bad one line 7.
        let error = readingError { () throws(ExportError) in _ = try reader.nextBatch() }
        #expect(error?.location == .init(file: path, line: 7, column: 7, columnName: "p50"))
    }

    @Test("the last record may lack a line end; empty lines are skipped but counted")
    func lastLineAndEmptyLines() throws {
        let path = try writeReadingInput(
            "\n" + Self.standardHeader + "\n\n"
                + "x,2020-01-01,1,2020-01-01,2020-01-02,1,2,3\n\r\n"
                + "x,2020-01-02,bad,2020-01-01,2020-01-02,1,2,3"
        )
        var reader = try BacktestCSVReader(path: path, batchSize: 1)
        #expect(try reader.nextBatch()?.rowCount == 1)
        let error = readingError { () throws(ExportError) in _ = try reader.nextBatch() }
        #expect(error?.location == .init(file: path, line: 6, column: 3, columnName: "target_value"))

        let good = try writeReadingInput(
            Self.standardHeader + "\nx,2020-01-01,1,2020-01-01,2020-01-02,1,2,3\ny,2020-01-02,,2020-01-01,2020-01-02,,,"
        )
        var goodReader = try BacktestCSVReader(path: good)
        let rows = try readAllRows(&goodReader).rows
        #expect(rows.count == 2)
        #expect(rows[1].forecasts == [nil, nil, nil], "trailing empty fields at end of file")
    }

    @Test("every timestamp form, with and without Z and fraction")
    func timestampForms() throws {
        let forms: [(String, Int64)] = [
            ("2019-07-14", utcMillis(2019, 7, 14)),
            ("2019-07-14Z", utcMillis(2019, 7, 14)),
            ("2019-07-14 12:38:26", 1_563_107_906_000),
            ("2019-07-14 12:38:26Z", 1_563_107_906_000),
            ("2019-07-14T12:38:26", 1_563_107_906_000),
            ("2019-07-14T12:38:26Z", 1_563_107_906_000),
            ("2019-07-14T12:38:26.123", 1_563_107_906_123),
            ("2019-07-14 12:38:26.123Z", 1_563_107_906_123),
            ("2019-07-14T12:38:26.5Z", 1_563_107_906_500),
            ("2019-07-14T12:38:26.123456", 1_563_107_906_123),
            ("1969-12-31T23:59:59", -1000),
        ]
        var text = Self.standardHeader + "\n"
        // Window bounds are whole seconds (a fraction is an error); they take every other form.
        let whole = forms.filter { $0.1 % 1000 == 0 }
        for (form, _) in forms { text += "i,\(form),1,1969-01-01,2019-07-15,1,2,3\n" }
        for (form, _) in whole { text += "j,\(form),1,\(form),\(form),1,2,3\n" }
        var reader = try BacktestCSVReader(path: try writeReadingInput(text))
        let rows = try readAllRows(&reader).rows
        #expect(rows.map(\.timestamp) == (forms + whole).map(\.1))
        #expect(rows.suffix(whole.count).map(\.windowStart) == whole.map(\.1))
        #expect(rows.suffix(whole.count).map(\.windowEnd) == whole.map(\.1))
    }

    @Test("NaN and infinities in every spelling; missing target and forecasts")
    func specialValues() throws {
        let spellings: [(String, Double)] = [
            ("NaN", .nan), ("nan", .nan), ("NAN", .nan), ("Infinity", .infinity), ("-Infinity", -.infinity),
            ("+Infinity", .infinity), ("inf", .infinity), ("-INF", -.infinity), ("infinity", .infinity),
        ]
        var text = Self.standardHeader + "\n"
        for (s, _) in spellings { text += "i,2020-01-01,\(s),2020-01-01,2020-01-02,\(s),,\(s)\n" }
        var reader = try BacktestCSVReader(path: try writeReadingInput(text))
        let rows = try readAllRows(&reader).rows
        #expect(rows.count == spellings.count)
        for (row, (_, value)) in zip(rows, spellings) {
            #expect(row.target == value.bitPattern)
            #expect(row.forecasts == [value.bitPattern, nil, value.bitPattern])
        }
    }

    @Test("a header without rows: zero batches, schema known")
    func headerOnly() throws {
        for text in [Self.standardHeader, Self.standardHeader + "\n", Self.standardHeader + "\r\n\n"] {
            var reader = try BacktestCSVReader(path: try writeReadingInput(text))
            #expect(reader.schema.forecastTypes.count == 3)
            #expect(try reader.nextBatch() == nil)
        }
    }

    /// A file many read blocks long, with quoted fields, CRLF, missing values and long records
    /// straddling block boundaries, read with several batch sizes and block sizes.
    @Test("batch size and block size do not change the rows", arguments: [1, 7, 4096])
    func batchSizesAgree(batchSize: Int) throws {
        let (text, expected) = Self.largeInput(rowCount: 3000)
        let path = try writeReadingInput(text)
        #expect(text.utf8.count > 40 * 4096, "spans many 4 KiB blocks")
        for blockSize in [4096, 1000, 37] {
            var reader = try BacktestCSVReader(path: path, batchSize: batchSize, blockSize: blockSize)
            let (rows, sizes) = try readAllRows(&reader)
            #expect(rows == expected, "block size \(blockSize)")
            #expect(sizes.dropLast().allSatisfy { $0 == batchSize })
            #expect(sizes.reduce(0, +) == expected.count)
        }
        var defaultReader = try BacktestCSVReader(path: path, batchSize: batchSize)
        #expect(try readAllRows(&defaultReader).rows == expected)
    }

    /// A deterministic pseudo-random input and the rows it holds.
    static func largeInput(rowCount: Int) -> (String, [ReadRow]) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        func randomDouble() -> Double {
            switch next() % 6 {
            case 0: return Double(next() % 1000) / 4
            case 1: return Double(bitPattern: 0x3FF0_0000_0000_0000 | (next() & 0xF_FFFF_FFFF_FFFF)) - 1
            case 2: return -Double(next() % 100_000) * 1e-7
            case 3: return Double(next()) * 1e290
            default: return Double(next() % 1_000_000_007) / 3
            }
        }
        var text =
            "item_id,\"region, zone\",timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean,p5,P95\r\n"
        var rows: [ReadRow] = []
        var item = 0
        let windowStart = utcMillis(2021, 3, 1)
        let windowEnd = utcMillis(2021, 3, 31)
        for i in 0..<rowCount {
            if i % 13 == 0 { item += 1 }
            let itemId: String
            let itemField: String
            switch item % 4 {
            case 0:
                itemId = "item \(item), \"quoted\"\nsecond line"
                itemField = "\"item \(item), \"\"quoted\"\"\nsecond line\""
            case 1:
                itemId = "ïtem-\(item)-" + String(repeating: "long", count: 40)
                itemField = itemId
            default:
                itemId = "item_\(item)"
                itemField = itemId
            }
            let region = i % 3 == 0 ? "north" : "south"
            let ts = windowStart + Int64(i % 30) * 86_400_000
            let target: Double? = i % 11 == 0 ? nil : randomDouble()
            let forecasts: [Double?] = [randomDouble(), i % 17 == 0 ? nil : randomDouble(), randomDouble()]
            func field(_ d: Double?) -> String { d.map { "\($0)" } ?? "" }
            let civil = CivilTime(epochSeconds: ts / 1000)
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let tsText = "\(civil.year)-\(two(civil.month))-\(two(civil.day))T00:00:00Z"
            text +=
                "\(itemField),\(region),\(tsText),\(field(target)),2021-03-01T00:00:00,2021-03-31,"
                + forecasts.map(field).joined(separator: ",") + (i % 2 == 0 ? "\r\n" : "\n")
            rows.append(
                ReadRow(
                    key: SeriesKey(itemId: itemId, dimensions: [region]),
                    timestamp: ts,
                    target: target,
                    windowStart: windowStart,
                    windowEnd: windowEnd,
                    forecasts: forecasts
                )
            )
        }
        return (text, rows)
    }

    @Test("a non-grouped input lists each series once per batch and keeps row order")
    func interleavedSeries() throws {
        var text = Self.standardHeader + "\n"
        for i in 0..<20 { text += "item\(i % 3),2020-01-\(10 + i),\(i),2020-01-01,2020-02-01,1,2,3\n" }
        var reader = try BacktestCSVReader(path: try writeReadingInput(text), batchSize: 8)
        var all: [String] = []
        while let batch = try reader.nextBatch() {
            #expect(batch.series.count == 3)
            all += batch.seriesIndex.map { batch.series[Int($0)].itemId }
        }
        #expect(all == (0..<20).map { "item\($0 % 3)" })
    }
}

/// All permutations of `elements` (Heap's algorithm).
func permutations(_ elements: [Int]) -> [[Int]] {
    var result: [[Int]] = []
    var a = elements
    func generate(_ k: Int) {
        if k <= 1 {
            result.append(a)
            return
        }
        generate(k - 1)
        for i in 0..<(k - 1) {
            a.swapAt(k % 2 == 0 ? i : 0, k - 1)
            generate(k - 1)
        }
    }
    generate(a.count)
    return result
}
