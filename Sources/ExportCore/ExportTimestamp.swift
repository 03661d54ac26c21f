/// The instant an export job was created, in whole seconds, UTC.
///
/// One timestamp per job: every part of both folders carries it in its name as
/// `yyyy-MM-dd'T'HH-mm-ss'Z'` (e.g. `2024-03-07T09-05-00Z`). Rendering is done by hand, without
/// Foundation formatters, so that it is exact and locale-free.
public struct ExportTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var epochSeconds: Int64

    public init(epochSeconds: Int64) { self.epochSeconds = epochSeconds }

    /// Parses `yyyy-MM-ddTHH:mm:ssZ` (the `Z` is optional, `T` may be a space) or the file-name
    /// form `yyyy-MM-ddTHH-mm-ssZ`.
    public init(parsing text: String) throws(ExportError) {
        let b = Array(text.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        let valid =
            (b.count == 19 || (b.count == 20 && b[19] == UInt8(ascii: "Z")))
            && b[4] == UInt8(ascii: "-") && b[7] == UInt8(ascii: "-")
            && (b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: " "))
            && ((b[13] == UInt8(ascii: ":") && b[16] == UInt8(ascii: ":"))
                || (b[13] == UInt8(ascii: "-") && b[16] == UInt8(ascii: "-")))
        guard valid, let y = digits(0..<4), let mo = digits(5..<7), let d = digits(8..<10),
            let h = digits(11..<13), let mi = digits(14..<16), let s = digits(17..<19)
        else {
            throw .validation("Invalid export timestamp '\(text)': expected yyyy-MM-ddTHH:mm:ssZ (UTC)")
        }
        let civil = CivilTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
        guard civil.isValid else {
            throw .validation("Invalid export timestamp '\(text)': not a real date and time")
        }
        self.epochSeconds = civil.epochSeconds
    }

    /// The file-name form, `yyyy-MM-dd'T'HH-mm-ss'Z'`.
    public var fileNameForm: String { render(timeSeparator: UInt8(ascii: "-")) }

    /// The ISO 8601 form, `yyyy-MM-dd'T'HH:mm:ss'Z'`.
    public var iso8601: String { render(timeSeparator: UInt8(ascii: ":")) }

    /// A window bound as the tables print it, `yyyy-MM-dd'T'HH:mm:ss` without a zone, from epoch
    /// milliseconds (floor to the second): `2017-06-19T00:00:00`.
    public static func windowBoundText(millis: Int64) -> String {
        let seconds = millis / 1000 - (millis % 1000 < 0 ? 1 : 0)
        return String(ExportTimestamp(epochSeconds: seconds).iso8601.dropLast())
    }

    public var description: String { iso8601 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.epochSeconds < rhs.epochSeconds }

    private func render(timeSeparator: UInt8) -> String {
        let c = CivilTime(epochSeconds: epochSeconds)
        return String(unsafeUninitializedCapacity: 20) { buffer in
            func put2(_ value: Int, at i: Int) {
                buffer[i] = UInt8(0x30 + value / 10)
                buffer[i + 1] = UInt8(0x30 + value % 10)
            }
            put2(c.year / 100 % 100, at: 0)
            put2(c.year % 100, at: 2)
            buffer[4] = UInt8(ascii: "-")
            put2(c.month, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put2(c.day, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put2(c.hour, at: 11)
            buffer[13] = timeSeparator
            put2(c.minute, at: 14)
            buffer[16] = timeSeparator
            put2(c.second, at: 17)
            buffer[19] = UInt8(ascii: "Z")
            return 20
        }
    }
}
