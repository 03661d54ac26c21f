internal import ExportCore

/// Parses the input's timestamps to milliseconds since the epoch, UTC.
///
/// Accepted forms, each with an optional trailing `Z`: `yyyy-MM-dd`, `yyyy-MM-dd HH:mm:ss`,
/// `yyyy-MM-ddTHH:mm:ss`; the two with a time may carry a fraction of a second `.S` … `.SSSSSSSSS`
/// (milliseconds are kept, finer digits truncated). Every time is UTC; the year (1000…9999), the
/// month, the day within the month (leap years included), the hour, minute and second are
/// range-checked.
///
/// Cost: fixed-position digit reads and ``CivilTime/days(fromYear:month:day:)`` (skipped for a
/// month the ``DateCache`` knows); no allocation but the cache's table, once.
package enum CSVTimestampParser {
    /// The months a column held, so that a date in a month met before skips the date's
    /// validation and day arithmetic: it costs its two day digits and an addition, whatever the
    /// order of the rows. The last date's month is checked first (one comparison: rows in order,
    /// and window columns, stay in one month for many rows), then the table of every month met
    /// (rows in random order change date on almost every row, and a cache of recent dates would
    /// miss on most of them).
    ///
    /// Keep one cache per column for as long as the column is read (a reader's, not a batch's):
    /// it fills once. Memory: 256 months of 24 bytes, allocated at the first date.
    package struct DateCache {
        /// The last date's month (empty until a date is read).
        var last = CachedMonth()
        /// Valid months met before (see ``monthSlot(_:)``).
        var months: [CachedMonth] = []

        /// A valid month: bytes 0–7 (`yyyy-MM-`) of a date in it, its number of days and the
        /// instant of its day 0.
        struct CachedMonth {
            var head: UInt64 = 0
            /// 0 for an empty entry (no month has 0 days).
            var days = 0
            var dayZeroMillis: Int64 = 0
        }

        static let monthCount = 256

        package init() {}

        /// The slot of the month whose text starts at `p` (`yyyy-MM-`): the year's last two
        /// digits modulo 16, then the month, read from the digits' low bits without checking them
        /// (the slot's `head` is compared whole), so that the months of any 16 consecutive years
        /// never share a slot.
        @inline(__always)
        static func monthSlot(_ p: UnsafePointer<UInt8>) -> Int {
            let year = Int(p[2] & 0x0F) &* 10 &+ Int(p[3] & 0x0F)
            let month = Int(p[5] & 0x01) &* 10 &+ Int(p[6] & 0x0F)
            return (year & 0x0F) << 4 | (month & 0x0F)
        }
    }

    /// The instant in `field`, or nil when it is not a valid timestamp (see ``diagnose(_:)``).
    package static func parse(_ field: UnsafeBufferPointer<UInt8>) -> Int64? {
        var cache = DateCache()
        return parse(field, cache: &cache)
    }

    /// As ``parse(_:)``, reusing the months `cache` has met.
    @inline(__always)
    package static func parse(_ field: UnsafeBufferPointer<UInt8>, cache: inout DateCache) -> Int64? {
        guard let p = field.baseAddress else { return nil }
        let n = field.count
        guard n >= 10 else { return nil }
        let head = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
        let month: DateCache.CachedMonth
        if head == cache.last.head && cache.last.days != 0 {
            month = cache.last
        } else if let known = knownMonth(p, head: head, cache: cache) {
            month = known
            cache.last = known
        } else {
            guard let new = newMonth(p, head: head) else { return nil }
            month = new
            remember(new, at: p, in: &cache)
        }
        let day = twoDigits(p + 8)
        guard day >= 1 && day <= month.days else { return nil }
        var millis = month.dayZeroMillis &+ Int64(day) &* 86_400_000
        var i = 10
        if n > 10 && (p[10] == UInt8(ascii: "T") || p[10] == UInt8(ascii: " ")) {
            guard n >= 19, p[13] == UInt8(ascii: ":"), p[16] == UInt8(ascii: ":") else { return nil }
            let hour = twoDigits(p + 11)
            let minute = twoDigits(p + 14)
            let second = twoDigits(p + 17)
            guard hour >= 0, hour <= 23, minute >= 0, minute <= 59, second >= 0, second <= 59 else { return nil }
            millis += Int64(((hour * 60 + minute) * 60 + second) * 1000)
            i = 19
            if i < n && p[i] == UInt8(ascii: ".") {
                i += 1
                let fractionStart = i
                var fraction = 0
                while i < n {
                    let d = Int(p[i] &- 0x30)
                    guard d < 10 else { break }
                    if i - fractionStart < 3 { fraction = fraction * 10 + d }
                    i += 1
                }
                let digits = i - fractionStart
                guard digits >= 1 && digits <= 9 else { return nil }
                for _ in digits..<max(digits, 3) { fraction *= 10 }
                millis += Int64(fraction)
            }
        }
        if i < n && p[i] == UInt8(ascii: "Z") { i += 1 }
        guard i == n else { return nil }
        return millis
    }

    /// Why `field` is not a valid timestamp, for the error message.
    package static func diagnose(_ field: UnsafeBufferPointer<UInt8>) -> String {
        let text = quotedForMessage(field)
        let rule =
            "expected yyyy-MM-dd, yyyy-MM-dd HH:mm:ss or yyyy-MM-ddTHH:mm:ss (optional .SSS fraction and trailing Z, UTC)"
        let bytes = Array(field)
        guard bytes.count >= 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else {
            return "Invalid timestamp \(text): \(rule)"
        }
        let month = bytes.withUnsafeBufferPointer { twoDigits($0.baseAddress! + 5) }
        let day = bytes.withUnsafeBufferPointer { twoDigits($0.baseAddress! + 8) }
        let year = bytes.withUnsafeBufferPointer { fourDigits($0.baseAddress!) }
        if year >= 0 && year < 1000 {
            return "Invalid timestamp \(text): year \(year) is out of range 1000...9999"
        }
        if year >= 0 && month >= 0 && !(1...12).contains(month) {
            return "Invalid timestamp \(text): month \(month) is out of range 1...12"
        }
        if year >= 0 && (1...12).contains(month) && day >= 0
            && !(1...CivilTime.daysInMonth(year: year, month: month)).contains(day)
        {
            return
                "Invalid timestamp \(text): day \(day) is out of range for \(year)-\(month < 10 ? "0" : "")\(month)"
        }
        if bytes.count >= 19 {
            let clock = bytes.withUnsafeBufferPointer { b in
                (twoDigits(b.baseAddress! + 11), twoDigits(b.baseAddress! + 14), twoDigits(b.baseAddress! + 17))
            }
            if clock.0 > 23 || clock.1 > 59 || clock.2 > 59 {
                return "Invalid timestamp \(text): the time of day is out of range (00:00:00...23:59:59)"
            }
        }
        return "Invalid timestamp \(text): \(rule)"
    }

    /// The month of the date at `p` (whose first eight bytes are `head`) when it was met before.
    @inline(__always)
    private static func knownMonth(
        _ p: UnsafePointer<UInt8>,
        head: UInt64,
        cache: borrowing DateCache
    ) -> DateCache.CachedMonth? {
        guard !cache.months.isEmpty else { return nil }
        let month = cache.months.withUnsafeBufferPointer { $0[DateCache.monthSlot(p)] }
        guard month.days != 0 && month.head == head else { return nil }
        return month
    }

    /// The month of the date at `p` (`yyyy-MM-`, whose bytes are `head`), validated and worked
    /// out; nil when the text is not a year 1000...9999 and a month 01...12 so separated.
    private static func newMonth(_ p: UnsafePointer<UInt8>, head: UInt64) -> DateCache.CachedMonth? {
        guard p[4] == UInt8(ascii: "-"), p[7] == UInt8(ascii: "-") else { return nil }
        let year = fourDigits(p)
        let month = twoDigits(p + 5)
        guard year >= 1000, month >= 1, month <= 12 else { return nil }
        return DateCache.CachedMonth(
            head: head,
            days: CivilTime.daysInMonth(year: year, month: month),
            dayZeroMillis: (CivilTime.days(fromYear: year, month: month, day: 1) - 1) * 86_400_000
        )
    }

    /// Keeps `month`, the month of the date at `p`, as the last one and among the known months.
    private static func remember(_ month: DateCache.CachedMonth, at p: UnsafePointer<UInt8>, in cache: inout DateCache)
    {
        if cache.months.isEmpty {
            cache.months = Array(repeating: DateCache.CachedMonth(), count: DateCache.monthCount)
        }
        cache.months[DateCache.monthSlot(p)] = month
        cache.last = month
    }

    /// Two ASCII digits as a number, or -1.
    @inline(__always)
    private static func twoDigits(_ p: UnsafePointer<UInt8>) -> Int {
        let a = p[0] &- 0x30
        let b = p[1] &- 0x30
        guard a < 10 && b < 10 else { return -1 }
        return Int(a) * 10 + Int(b)
    }

    /// Four ASCII digits as a number, or -1.
    @inline(__always)
    private static func fourDigits(_ p: UnsafePointer<UInt8>) -> Int {
        let high = twoDigits(p)
        let low = twoDigits(p + 2)
        guard high >= 0 && low >= 0 else { return -1 }
        return high * 100 + low
    }
}

/// A field's text for an error message: quoted, at most 40 characters, invalid UTF-8 replaced.
func quotedForMessage(_ field: UnsafeBufferPointer<UInt8>) -> String {
    quotedForMessage(String(decoding: field, as: UTF8.self))
}

/// `text` in single quotes for a message: at most 40 characters, control characters escaped
/// (`\r`, `\n`, `\t`, `\u{1}`) so that a stray CR does not rewrite the terminal line.
func quotedForMessage(_ text: String) -> String {
    var shown = ""
    for (i, scalar) in text.unicodeScalars.enumerated() {
        if i == 40 { return "'\(shown)…'" }
        switch scalar {
        case "\r": shown += "\\r"
        case "\n": shown += "\\n"
        case "\t": shown += "\\t"
        case _ where scalar.value < 0x20 || scalar.value == 0x7F: shown += "\\u{\(String(scalar.value, radix: 16))}"
        default: shown.unicodeScalars.append(scalar)
        }
    }
    return "'\(shown)'"
}
