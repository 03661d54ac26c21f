import ExportCore
import Testing

@testable import ExportCSV

@Suite("Reading timestamps")
struct ReadingTimestampTests {
    func parse(_ text: String) -> Int64? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { CSVTimestampParser.parse(UnsafeBufferPointer($0)) }
    }

    /// Epochs computed independently with Python's datetime (UTC).
    @Test(
        "known instants",
        arguments: [
            ("2019-07-14T12:38:26Z", Int64(1_563_107_906_000)),
            ("2017-06-19T00:00:00", 1_497_830_400_000),
            ("2017-06-21 23:00:00", 1_498_086_000_000),
            ("2020-02-29", 1_582_934_400_000),
            ("1969-12-31T23:59:59", -1000),
            ("2024-03-07T09:05:00.250Z", 1_709_802_300_250),
            ("1970-01-01", 0),
        ]
    )
    func knownInstants(text: String, millis: Int64) {
        #expect(parse(text) == millis)
    }

    @Test("utcMillis helper agrees with the Python-computed epochs")
    func helper() {
        #expect(utcMillis(2019, 7, 14, 12, 38, 26) == 1_563_107_906_000)
        #expect(utcMillis(2020, 2, 29) == 1_582_934_400_000)
    }

    @Test("every day of four years parses to consecutive days")
    func consecutiveDays() {
        var expected = parse("2019-01-01")!
        for year in 2019...2022 {
            for month in 1...12 {
                for day in 1...CivilTime.daysInMonth(year: year, month: month) {
                    let text = "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
                    #expect(parse(text) == expected, "\(text)")
                    #expect(parse(text + " 23:59:59.999") == expected + 86_399_999)
                    expected += 86_400_000
                }
            }
        }
    }

    @Test(
        "rejects malformed and out-of-range values",
        arguments: [
            "2019-02-29", "2020-02-30", "2019-00-10", "2019-13-10", "2019-01-00", "2019-01-32", "2019-04-31",
            "2019-01-01T24:00:00", "2019-01-01T00:60:00", "2019-01-01T00:00:60", "2019-01-01T00:00", "2019-1-01",
            "2019-01-01X00:00:00", "2019-01-01T00:00:00ZZ", "2019-01-01T00:00:00.", "2019-01-01T00:00:00.1234567890",
            "2019-01-01T00:00:00+00:00", " 2019-01-01", "2019-01-01 ", "", "20190101", "2019-01-01.5",
        ]
    )
    func rejects(text: String) {
        #expect(parse(text) == nil)
    }
}
