import ExportCSV
import ExportCore
import Testing

/// An independent rendering from CivilTime's fields, with plain string padding.
private func reference(_ ms: Int64, zulu: Bool) -> String {
    let seconds = Int64((Double(ms) / 1000).rounded(.down))
    let t = CivilTime(epochSeconds: seconds)
    func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    let text =
        "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2))"
    return zulu ? text + "." + pad(Int(ms - seconds * 1000), 3) + "Z" : text
}

@Suite("CSV timestamps")
struct EncodingTimestampTests {
    @Test("known instants and window times")
    func known() {
        let cache = CSVTimestampCache(slotCount: 1)
        let cases: [(Int64, String)] = [
            (0, "1970-01-01T00:00:00"),
            (1_563_105_600_000, "2019-07-14T12:00:00"),
            (1_497_830_400_000, "2017-06-19T00:00:00"),
            (951_782_400_000, "2000-02-29T00:00:00"),  // leap year divisible by 400
            (1_583_020_799_000, "2020-02-29T23:59:59"),
            (1_583_020_800_000, "2020-03-01T00:00:00"),
            (-2_203_891_200_000, "1900-03-01T00:00:00"),  // 1900 is not a leap year
            (-1, "1969-12-31T23:59:59"),  // milliseconds floor, also before 1970
            (-86_400_000, "1969-12-31T00:00:00"),
            (-14_182_940_000, "1969-07-20T20:17:40"),
            (1999, "1970-01-01T00:00:01"),
            (-62_135_596_800_000, "0001-01-01T00:00:00"),
            (253_402_300_799_000, "9999-12-31T23:59:59"),
        ]
        for (ms, text) in cases {
            #expect(cache.string(millis: ms, zulu: false) == text)
            #expect(cache.string(millis: ms, zulu: true) == reference(ms, zulu: true))
        }
        // The `timestamp` column as a raw Forecast export writes it.
        #expect(cache.string(millis: 1_497_884_400_000, zulu: true) == "2017-06-19T15:00:00.000Z")
        #expect(cache.string(millis: 1_497_884_400_123, zulu: true) == "2017-06-19T15:00:00.123Z")
        #expect(cache.string(millis: -1, zulu: true) == "1969-12-31T23:59:59.999Z")
        #expect(cache.string(millis: 1999, zulu: false) == "1970-01-01T00:00:01")
    }

    @Test("years outside 0…9999 use a wider form")
    func wideYears() {
        let cache = CSVTimestampCache(slotCount: 1)
        #expect(cache.string(millis: 253_402_300_800_000, zulu: true) == "10000-01-01T00:00:00.000Z")
        #expect(cache.string(millis: millis(-1, 3, 4, 5, 6, 7), zulu: false) == "-0001-03-04T05:06:07")
    }

    @Test("random times agree with CivilTime, through the caches")
    func randomAgainstCivilTime() {
        let cache = CSVTimestampCache(slotCount: 2)
        let writer = cache.writer
        var rng = SplitMix64(seed: 0x7135)
        var buffer = [UInt8](repeating: 0, count: 64)
        // A few distinct days and seconds, revisited often, so hits and misses interleave.
        let days = (0..<40).map { _ in Int64.random(in: -700_000...2_900_000, using: &rng) }
        for i in 0..<50_000 {
            let ms =
                days.randomElement(using: &rng)! * 86_400_000
                + (i % 3 == 0 ? 0 : Int64.random(in: 0..<86_400_000, using: &rng))
            let slot = i & 1
            let zulu = slot == 0
            let n = buffer.withUnsafeMutableBufferPointer {
                writer.write(millis: ms, slot: slot, zulu: zulu, to: $0.baseAddress!)
            }
            let text = String(decoding: buffer[..<n], as: UTF8.self)
            if text != reference(ms, zulu: zulu) {
                Issue.record("\(ms): \(text) != \(reference(ms, zulu: zulu))")
                return
            }
        }
    }
}
