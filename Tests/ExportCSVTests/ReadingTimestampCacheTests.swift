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
}
