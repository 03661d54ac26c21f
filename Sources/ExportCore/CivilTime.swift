/// A UTC calendar date and time of day, converted to and from epoch seconds without Foundation.
///
/// Uses Howard Hinnant's days-from-civil algorithm: exact for every proleptic Gregorian date,
/// O(1), no tables, no allocation.
public struct CivilTime: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// The civil time of `epochSeconds` seconds after 1970-01-01T00:00:00Z (floor for negatives).
    public init(epochSeconds: Int64) {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondOfDay = Int(epochSeconds - days * 86_400)
        let (y, m, d) = Self.civil(fromDays: days)
        self.init(
            year: y,
            month: m,
            day: d,
            hour: secondOfDay / 3600,
            minute: secondOfDay / 60 % 60,
            second: secondOfDay % 60
        )
    }

    /// The civil time of `epochMilliseconds` after the epoch, to the second (floor for negatives).
    public init(epochMilliseconds: Int64) {
        self.init(epochSeconds: epochMilliseconds >= 0 ? epochMilliseconds / 1000 : (epochMilliseconds - 999) / 1000)
    }

    /// `yyyy-MM-ddTHH:mm:ss`, with `.SSS` when the instant has milliseconds: an instant for a
    /// message.
    public static func text(ofMilliseconds milliseconds: Int64) -> String {
        let time = CivilTime(epochMilliseconds: milliseconds)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text =
            "\(time.year)-\(two(time.month))-\(two(time.day))T\(two(time.hour)):\(two(time.minute)):\(two(time.second))"
        let millis = Int(milliseconds - time.epochSeconds * 1000)
        if millis != 0 { text += ".\(millis < 10 ? "00" : millis < 100 ? "0" : "")\(millis)" }
        return text
    }

    /// Seconds since the epoch.
    public var epochSeconds: Int64 {
        Self.days(fromYear: year, month: month, day: day) * 86_400
            + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Whether the fields name a real date and time (month 1–12, day within the month, 24-hour clock).
    public var isValid: Bool {
        guard (1...12).contains(month), day >= 1, day <= Self.daysInMonth(year: year, month: month) else {
            return false
        }
        return (0...23).contains(hour) && (0...59).contains(minute) && (0...59).contains(second)
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    public static func days(fromYear year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date of a day count since 1970-01-01.
    public static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}
