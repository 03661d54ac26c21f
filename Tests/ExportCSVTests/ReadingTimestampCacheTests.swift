import Testing

@testable import ExportCSV

/// Found by the `timestamp` fuzz target (Tests/Fuzz/regressions/timestamp): an empty date cache
/// matched a field of ten zero bytes and returned 1970-01-01.
@Suite struct ReadingTimestampCacheTests {
    func parse(_ bytes: [UInt8], cache: inout CSVTimestampParser.DateCache) -> Int64? {
        bytes.withUnsafeBufferPointer { CSVTimestampParser.parse($0, cache: &cache) }
    }

    @Test func anEmptyCacheMatchesNoField() {
        var cache = CSVTimestampParser.DateCache()
        #expect(parse(Array(repeating: 0, count: 10), cache: &cache) == nil)
        #expect(parse(Array(repeating: 0, count: 10) + Array("Z".utf8), cache: &cache) == nil)
        #expect(Array(repeating: UInt8(0), count: 10).withUnsafeBufferPointer { CSVTimestampParser.parse($0) } == nil)
    }

    @Test func aFilledCacheStillServesItsDate() {
        var cache = CSVTimestampParser.DateCache()
        #expect(parse(Array("1970-01-02".utf8), cache: &cache) == 86_400_000)
        #expect(parse(Array("1970-01-02T00:00:01Z".utf8), cache: &cache) == 86_401_000)
        #expect(parse(Array(repeating: 0, count: 10), cache: &cache) == nil)
    }

    /// A date in the cached date's month is read from its day digits alone: every day of months
    /// of 28, 29, 30 and 31 days, one after another, then days past the month's end and days
    /// that are not two digits, each through one cache, against the parse without a cache.
    @Test func datesInTheCachedMonthMatchAFreshParse() {
        var cache = CSVTimestampParser.DateCache()
        for month in ["2023-02", "2024-02", "2023-04", "2023-12", "1999-07"] {
            for day in ["01", "02", "15", "28", "29", "30", "31", "32", "00", "1a", "9", "-1", "15"] {
                for suffix in ["", "T13:05:59Z"] {
                    let text = Array("\(month)-\(day)\(suffix)".utf8)
                    let expected = text.withUnsafeBufferPointer { CSVTimestampParser.parse($0) }
                    #expect(parse(text, cache: &cache) == expected, "\(String(decoding: text, as: UTF8.self))")
                }
            }
        }
    }

    /// Dates in random order over 16 years (every month has its own slot), each with and without
    /// a time, valid and not, through one cache against a fresh parse.
    @Test func datesInRandomOrderMatchAFreshParse() {
        var cache = CSVTimestampParser.DateCache()
        var state: UInt64 = 3
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let year = 1996 + Int(state >> 60)
            let month = 1 + Int((state >> 50) % 12)
            let day = 1 + Int((state >> 40) % 31)
            let time = (state >> 39) & 1 == 0 ? "" : "T01:02:03Z"
            let two = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
            let text = Array("\(year)-\(two(month))-\(two(day))\(time)".utf8)
            let expected = text.withUnsafeBufferPointer { CSVTimestampParser.parse($0) }
            #expect(parse(text, cache: &cache) == expected, "\(String(decoding: text, as: UTF8.self))")
        }
    }

    /// Months 16 years apart share a slot; text that is not a date can share a known month's slot
    /// (the slot reads the digits' low bits unchecked). Each must be told apart from the month
    /// in the slot, in either order, against a fresh parse.
    @Test func monthsThatShareASlotAreToldApart() {
        let texts = [
            "2000-01-31", "2016-01-31", "1984-01-15", "2000-01-31T05:00:00Z", "2016-01-01",
            "20`0-01-05", "2000-01-32", "2000-!1-05", "2000/01/05", "2000-11-05", "2000-01-05",
            "2016-02-29", "2000-02-29", "2016-02-30", "3600-02-29", "2100-02-29",
        ]
        for order in [texts, texts.reversed()] {
            var cache = CSVTimestampParser.DateCache()
            for text in order + order {
                let bytes = Array(text.utf8)
                let expected = bytes.withUnsafeBufferPointer { CSVTimestampParser.parse($0) }
                #expect(parse(bytes, cache: &cache) == expected, "\(text)")
            }
        }
    }
}
