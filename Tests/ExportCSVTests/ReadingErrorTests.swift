import ExportCore
import Testing

@testable import ExportCSV

/// Every kind of bad input ends in an ExportError naming the file, line, column and rule.
@Suite("Reading errors")
struct ReadingErrorTests {
    static let header =
        "item_id,region,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean,p10,p50,p90,p99"
    static let goodRow = "i1,eu,2020-01-01,1,2020-01-01,2020-01-07,1,2,3,4,5"

    /// Reads a file holding `lines` (LF-joined) and returns the error.
    func error(_ lines: [String], batchSize: Int = 65_536) throws -> (ExportError?, String) {
        let path = try writeReadingInput(lines.joined(separator: "\n") + "\n")
        return (readingError { () throws(ExportError) in try readToEnd(path, batchSize: batchSize) }, path)
    }

    @Test("missing required column: the message lists what was found")
    func missingColumn() throws {
        let (e, path) = try error(["item_id,timestamp,target_value,backtestwindow_start_time,p50", "a,b,c,d,e"])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 1))
        #expect(e?.message.contains("Missing required column 'backtestwindow_end_time'") == true)
        #expect(
            e?.message.contains("the header has: item_id, timestamp, target_value, backtestwindow_start_time, p50")
                == true
        )
    }

    @Test("no forecast-type column")
    func noForecastType() throws {
        let (e, path) = try error([
            "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,region"
        ])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 1))
        #expect(e?.message.contains("mean, p<N> (p1…p99) or a quantile") == true)
    }

    @Test("duplicate column name, and the same quantile twice")
    func duplicates() throws {
        let (e, path) = try error([
            "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50,timestamp"
        ])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 1, column: 7, columnName: "timestamp"))
        #expect(e?.message.contains("Duplicate column name 'timestamp'") == true)

        let (e2, path2) = try error([
            "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50,P50"
        ])
        #expect(e2?.code == .input)
        #expect(e2?.location == .init(file: path2, line: 1, column: 7, columnName: "P50"))
        #expect(e2?.message.contains("appears twice") == true)
    }

    @Test(
        "a quantile out of (0, 1) or finer than Forecast allows is an input error at its column, never a dimension",
        arguments: ["p0", "p100", "P250", "p00", "p50.5", "p-5", "0.005", "1.5", "0"]
    )
    func quantileOutOfRange(name: String) throws {
        let (e, path) = try error([
            "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50,\(name)"
        ])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 1, column: 7, columnName: name))
        #expect(e?.message.contains("Forecast type '\(name)'") == true)
    }

    @Test("two spellings of one forecast type are a duplicate", arguments: ["0.5", "0.50", "P50", ".5"])
    func sameTypeTwice(name: String) throws {
        let (e, path) = try error([
            "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50,\(name)"
        ])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 1, column: 7, columnName: name))
        #expect(e?.message.contains("appears twice") == true)
    }

    @Test("a header name with surrounding spaces is an error at its column", arguments: [" p50", "p50 ", " region"])
    func spacesAroundName(name: String) throws {
        let (e, path) = try error([
            "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean,\(name)"
        ])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 1, column: 7, columnName: name))
        #expect(e?.message.contains("leading or trailing spaces") == true)
    }

    @Test("wrong field count: expected 11 fields, found 5, at the first missing column")
    func fieldCount() throws {
        let (e, path) = try error([Self.header, Self.goodRow, Self.goodRow, "i1,eu,2020-01-01,1,2020-01-01"])
        #expect(e?.code == .input)
        #expect(
            e?.location == .init(file: path, line: 4, column: 6, columnName: "backtestwindow_end_time")
        )
        #expect(e?.message.contains("expected 11 fields, found 5") == true)

        let (e2, path2) = try error([Self.header, Self.goodRow + ",extra"])
        #expect(e2?.message.contains("expected 11 fields, found 12") == true)
        #expect(e2?.location == .init(file: path2, line: 2, column: 12))
        #expect(e2?.message.contains("column 12 is beyond the header") == true)
    }

    @Test(
        "a timestamp outside its row's window",
        arguments: ["2019-12-31T23:59:59", "2020-01-07T00:00:01", "2021-01-01"]
    )
    func timestampOutsideWindow(text: String) throws {
        let (e, path) = try error([Self.header, Self.goodRow, "i1,eu,\(text),1,2020-01-01,2020-01-07,1,2,3,4,5"])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 3, column: 3, columnName: "timestamp"))
        #expect(e?.message.contains("outside its row's backtest window") == true)
    }

    @Test("window bounds are inclusive")
    func timestampOnTheWindowBounds() throws {
        let path = try writeReadingInput(
            [
                Self.header, "i1,eu,2020-01-01,1,2020-01-01,2020-01-07,1,2,3,4,5",
                "i1,eu,2020-01-07,1,2020-01-01,2020-01-07,1,2,3,4,5",
            ].joined(separator: "\n") + "\n"
        )
        try readToEnd(path)
    }

    @Test("a year outside 1000…9999", arguments: ["0999-01-01", "0000-01-01", "0001-01-01T00:00:00"])
    func yearOutOfRange(text: String) throws {
        let (e, path) = try error([Self.header, "i1,eu,2020-01-01,1,\(text),2020-01-07,1,2,3,4,5"])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 2, column: 5, columnName: "backtestwindow_start_time"))
        #expect(e?.message.contains("out of range 1000...9999") == true)
    }

    @Test(
        "a number that overflows to infinity",
        arguments: ["1e400", "-1e400", "1" + String(repeating: "0", count: 400)]
    )
    func overflow(text: String) throws {
        let (e, path) = try error([Self.header, "i1,eu,2020-01-01,\(text),2020-01-01,2020-01-07,1,2,3,4,5"])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 2, column: 4, columnName: "target_value"))
        #expect(e?.message.contains("overflows to infinity") == true)
    }

    @Test("Infinity, -Infinity and NaN stay accepted as Java writes them")
    func literalSpecials() throws {
        let path = try writeReadingInput(
            Self.header + "\ni1,eu,2020-01-01,Infinity,2020-01-01,2020-01-07,-Infinity,NaN,inf,1e308,-0.0\n"
        )
        var reader = try BacktestCSVReader(path: path)
        let (rows, _) = try readAllRows(&reader)
        #expect(rows.count == 1)
        #expect(rows[0].target == Double.infinity.bitPattern)
        #expect(rows[0].forecasts[0] == (-Double.infinity).bitPattern)
        #expect(rows[0].forecasts[2] == Double.infinity.bitPattern)
    }

    @Test(
        "unparseable number names the column",
        arguments: [("abc", 8), ("1.2.3", 9), ("1e", 10), ("--1", 11), (" 1", 7), ("0x10", 8), ("1,5", 4)]
    )
    func badNumber(text: String, column: Int) throws {
        var fields = Self.goodRow.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[column - 1] = text.contains(",") ? "\"\(text)\"" : text
        let (e, path) = try error([Self.header, Self.goodRow, fields.joined(separator: ",")], batchSize: 1)
        let names = Self.header.split(separator: ",").map(String.init)
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 3, column: column, columnName: names[column - 1]))
        #expect(e?.message.contains("Cannot parse '\(text)' as a number") == true)
    }

    @Test(
        "invalid timestamps name the rule",
        arguments: [
            ("2020-13-01", "month 13 is out of range"),
            ("2021-02-29", "day 29 is out of range for 2021-02"),
            ("2020-04-31T00:00:00", "day 31 is out of range"),
            ("2020-01-01T24:00:00", "time of day is out of range"),
            ("2020-01-01T12:60:00", "time of day is out of range"),
            ("2020/01/01", "expected yyyy-MM-dd"),
            ("2020-01-01T10:00", "expected yyyy-MM-dd"),
            ("2020-01-01T10:00:00+01:00", "expected yyyy-MM-dd"),
            ("2020-01-01T10:00:00.", "expected yyyy-MM-dd"),
            ("", "expected yyyy-MM-dd"),
        ]
    )
    func badTimestamp(text: String, rule: String) throws {
        let row = "i1,eu,\(text),1,2020-01-01,2020-01-07,1,2,3,4,5"
        let (e, path) = try error([Self.header, row])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 2, column: 3, columnName: "timestamp"))
        #expect(e?.message.contains("Invalid timestamp '\(text)'") == true)
        #expect(e?.message.contains(rule) == true, "\(e?.message ?? "")")
    }

    @Test("invalid UTF-8 is reported with its column, in keys, numbers, timestamps and the header")
    func invalidUTF8() throws {
        let cases: [(prefix: String, bad: [UInt8], suffix: String, line: Int, column: Int, name: String?)] = [
            (
                Self.header + "\n" + Self.goodRow + "\ni1,", [0x65, 0xFF, 0x75],
                ",2020-01-01,1,2020-01-01,2020-01-07,1,2,3,4,5\n", 3, 2, "region"
            ),
            (Self.header + "\n", [0xC3, 0x28], ",eu,2020-01-01,1,2020-01-01,2020-01-07,1,2,3,4,5\n", 2, 1, "item_id"),
            (
                Self.header + "\ni1,eu,2020-01-01,1,2020-01-01,2020-01-07,1,", [0x32, 0xED, 0xA0, 0x80], ",3,4,5\n", 2,
                8, "p10"
            ),
            (
                Self.header + "\ni1,eu,", [0x32, 0x30, 0xE2, 0x82], ",1,2020-01-01,2020-01-07,1,2,3,4,5\n", 2, 3,
                "timestamp"
            ),
            ("item_id,", [0xC0, 0x80], ",timestamp,target_value\n", 1, 2, nil),
        ]
        for c in cases {
            let path = try writeReadingInput(Array(c.prefix.utf8) + c.bad + Array(c.suffix.utf8))
            let e = readingError { () throws(ExportError) in try readToEnd(path) }
            #expect(e?.code == .input)
            #expect(e?.location == .init(file: path, line: c.line, column: c.column, columnName: c.name))
            #expect(e?.message.contains("UTF-8") == true)
        }
    }

    @Test("unterminated quoted field at end of file: the line where it starts")
    func unterminatedQuote() throws {
        let path = try writeReadingInput(
            Self.header + "\n" + Self.goodRow + "\n" + "i1,\"eu\nmore\nlines,2020-01-01,1\n"
        )
        let e = readingError { () throws(ExportError) in try readToEnd(path) }
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 3, column: 2))
        #expect(e?.message.contains("Unterminated quoted field") == true)
    }

    @Test("text after a closing quote")
    func junkAfterQuote() throws {
        let (e, path) = try error([Self.header, "\"i1\"x,eu,2020-01-01,1,2020-01-01,2020-01-07,1,2,3,4,5"])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 2, column: 1))
        #expect(e?.message.contains("closing '\"' must be followed by ','") == true)
    }

    @Test("a window that ends before it starts")
    func windowOrder() throws {
        let (e, path) = try error([Self.header, "i1,eu,2020-01-01,1,2020-01-07,2020-01-01,1,2,3,4,5"])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 2, column: 6, columnName: "backtestwindow_end_time"))
        #expect(e?.message.contains("is before backtestwindow_start_time") == true)
    }

    @Test("a window bound with a fraction of a second (written to the second, two windows would look alike)")
    func windowBoundFraction() throws {
        let (e, path) = try error([Self.header, "i1,eu,2020-01-02,1,2020-01-01T00:00:00.2,2020-01-07,1,2,3,4,5"])
        #expect(e?.code == .input)
        #expect(e?.location == .init(file: path, line: 2, column: 5, columnName: "backtestwindow_start_time"))
        #expect(e?.message.contains("has a fraction of a second") == true)
        let (end, _) = try error([Self.header, "i1,eu,2020-01-02,1,2020-01-01,2020-01-07T00:00:00.500Z,1,2,3,4,5"])
        #expect(end?.location?.columnName == "backtestwindow_end_time")
        // A timestamp may have milliseconds (it is written with them), and .000 is a whole second.
        try readToEnd(
            try writeReadingInput(
                [Self.header, "i1,eu,2020-01-02T00:00:00.250,1,2020-01-01T00:00:00.000,2020-01-07,1,2,3,4,5"]
                    .joined(separator: "\n") + "\n"
            )
        )
    }

    @Test("CR-only line endings, or a bare CR in an unquoted field, are errors; a quoted CR is data")
    func bareCarriageReturns() throws {
        // An old-Mac file reads as one header line: refused at the header, not read as 0 rows.
        let path = try writeReadingInput([Self.header, Self.goodRow].joined(separator: "\r") + "\r")
        let e = readingError { () throws(ExportError) in try readToEnd(path) }
        #expect(e?.code == .input)
        #expect(e?.location?.line == 1)
        #expect(e?.message.contains("holds a line break") == true)
        #expect(e?.message.contains("\\r") == true)
        #expect(e?.message.contains("\r") == false)
        // A CR inside an unquoted key or value field.
        let (key, keyPath) = try error([Self.header, "i\r1,eu,2020-01-01,1,2020-01-01,2020-01-07,1,2,3,4,5"])
        #expect(key?.location == .init(file: keyPath, line: 2, column: 1, columnName: "item_id"))
        #expect(key?.message.contains("carriage return (CR) inside an unquoted field") == true)
        let (value, _) = try error([Self.header, "i1,eu,2020-01-01,1\r,2020-01-01,2020-01-07,1,2,3,4,5"])
        #expect(value?.message.contains("carriage return (CR) inside an unquoted field") == true)
        // Quoted, it is the item's name; CRLF line endings are line endings.
        try readToEnd(
            try writeReadingInput(
                [Self.header, "\"i\r1\",eu,2020-01-01,1,2020-01-01,2020-01-07,1,2,3,4,5"].joined(separator: "\r\n")
                    + "\r\n"
            )
        )
    }

    @Test("an empty file, or one with only empty lines, has no header")
    func emptyFile() throws {
        for text in ["", "\n\n", "\r\n"] {
            let path = try writeReadingInput(text)
            let e = readingError { () throws(ExportError) in try readToEnd(path) }
            #expect(e?.code == .input)
            #expect(e?.location == .init(file: path, line: 1))
            #expect(e?.message.contains("The file is empty") == true)
        }
    }

    @Test("a file that does not exist, and an empty column name")
    func openAndEmptyName() throws {
        let missing = try makeReadingTempDirectory().appendingPathComponent("nope.csv").path
        let e = readingError { () throws(ExportError) in try readToEnd(missing) }
        #expect(e?.code == .input)
        #expect(e?.message.contains("Cannot open input file '\(missing)'") == true)

        let (e2, path) = try error([
            "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p50,"
        ])
        #expect(e2?.location == .init(file: path, line: 1, column: 7))
        #expect(e2?.message.contains("Empty column name") == true)
    }

    @Test("the error description reads file:line:column (column 'name'): message")
    func description() throws {
        let (e, path) = try error([Self.header, "i1,eu,2020-01-01,x,2020-01-01,2020-01-07,1,2,3,4,5"])
        #expect(e?.description.hasPrefix("\(path):2:4 (column 'target_value'): Cannot parse 'x' as a number") == true)
    }
}
