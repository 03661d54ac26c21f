@testable import ExportCSV

/// The input as up to four fields separated by `|`, parsed in turn with one date cache (so that
/// cache hits and misses follow each other) and each with a fresh cache: every result must be
/// the reference parser's.
enum TimestampFuzz {
    static func run(_ data: UnsafeBufferPointer<UInt8>) {
        var cache = CSVTimestampParser.DateCache()
        for field in data.split(separator: UInt8(ascii: "|"), maxSplits: 3, omittingEmptySubsequences: false) {
            let bytes = Array(field)
            let expected = reference(bytes)
            let cached = bytes.withUnsafeBufferPointer { CSVTimestampParser.parse($0, cache: &cache) }
            let fresh = bytes.withUnsafeBufferPointer { CSVTimestampParser.parse($0) }
            guard cached == expected, fresh == expected else {
                fuzzFailure(
                    "'\(String(decoding: bytes, as: UTF8.self))' \(bytes): cached \(String(describing: cached)), fresh \(String(describing: fresh)), reference \(String(describing: expected))"
                )
            }
            if expected == nil {
                _ = bytes.withUnsafeBufferPointer { CSVTimestampParser.diagnose($0) }
            }
        }
    }

    /// `yyyy-MM-dd`, `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-ddTHH:mm:ss`, the latter two with an optional
    /// `.S`…`.SSSSSSSSS` fraction (milliseconds kept), each with an optional trailing `Z`; UTC.
    static func reference(_ b: [UInt8]) -> Int64? {
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        let n = b.count
        guard n >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            (1000...9999).contains(year), (1...12).contains(month), day >= 1, day <= daysIn(year, month)
        else { return nil }
        var millis = daysSinceEpoch(year, month, day) * 86_400_000
        var i = 10
        if n > 10 && (b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " ")) {
            guard n >= 19, b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
                let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
                hour <= 23, minute <= 59, second <= 59
            else { return nil }
            millis += Int64((hour * 3600 + minute * 60 + second) * 1000)
            i = 19
            if i < n && b[i] == UInt8(ascii: ".") {
                var j = i + 1
                while j < n && b[j] >= 0x30 && b[j] <= 0x39 { j += 1 }
                let digits = j - (i + 1)
                guard (1...9).contains(digits) else { return nil }
                var fraction = 0
                for k in 0..<3 { fraction = fraction * 10 + (k < digits ? Int(b[i + 1 + k] - 0x30) : 0) }
                millis += Int64(fraction)
                i = j
            }
        }
        if i < n && b[i] == UInt8(ascii: "Z") { i += 1 }
        return i == n ? millis : nil
    }

    static func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysIn(_ year: Int, _ month: Int) -> Int {
        [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Counted from 0000-01-01 by whole years and months (a different route from `CivilTime`).
    static func daysSinceEpoch(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        func daysBefore(year y: Int) -> Int {
            guard y > 0 else { return 0 }
            let leaps = (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400 + 1  // year 0 is a leap year
            return 365 * y + leaps
        }
        var days = daysBefore(year: year)
        for m in 1..<month { days += daysIn(year, m) }
        days += day - 1
        return Int64(days - daysBefore(year: 1970))
    }
}
