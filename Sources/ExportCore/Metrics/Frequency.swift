/// The time step of a target series, as Amazon Forecast names it, and the seasonal lag `m` that
/// MASE's naive forecast uses for it.
///
/// `m` follows the only frequency→period table Amazon Forecast documents (its ARIMA/ETS recipes):
/// Y 1, M 12, W 52, D 7, H 24, 30min 2, 15min 4, 10min 6, 5min 12, 1min 60. Seconds-based steps
/// (W and finer) are fixed lengths; M and Y step by the calendar (see ``instant(_:periodsBefore:)``).
public enum Frequency: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case yearly = "Y"
    case monthly = "M"
    case weekly = "W"
    case daily = "D"
    case hourly = "H"
    case minutes30 = "30min"
    case minutes15 = "15min"
    case minutes10 = "10min"
    case minutes5 = "5min"
    case minute1 = "1min"

    /// The seasonal lag `m` in periods: the naive forecast of `y_t` is `y_{t−m}`.
    public var seasonality: Int {
        switch self {
        case .yearly: 1
        case .monthly: 12
        case .weekly: 52
        case .daily: 7
        case .hourly: 24
        case .minutes30: 2
        case .minutes15: 4
        case .minutes10: 6
        case .minutes5: 12
        case .minute1: 60
        }
    }

    /// The length of one period in milliseconds for W and finer; nil for M and Y, whose length
    /// depends on the calendar.
    public var fixedPeriodMilliseconds: Int64? {
        switch self {
        case .yearly, .monthly: nil
        case .weekly: 604_800_000
        case .daily: 86_400_000
        case .hourly: 3_600_000
        case .minutes30: 1_800_000
        case .minutes15: 900_000
        case .minutes10: 600_000
        case .minutes5: 300_000
        case .minute1: 60_000
        }
    }

    /// Calendar months in one period: 12 for Y, 1 for M, nil for the fixed-length ones.
    var calendarMonths: Int? {
        switch self {
        case .yearly: 12
        case .monthly: 1
        default: nil
        }
    }

    public var description: String { rawValue }

    /// Parses a frequency string: `Y`, `M`, `W`, `D`, `H`, `30min`, `15min`, `10min`, `5min`,
    /// `1min`, each optionally with a leading count of 1 (`1D`, `1H`, `1W`). `y`, `w`, `d`, `h`
    /// are accepted too; `M` (month) and `min` (minute) are case-sensitive. Nil for anything else.
    public init?(parsing text: String) {
        var digits = Substring(text).drop(while: { $0 == " " })
        while digits.last == " " { digits = digits.dropLast() }
        let countText = digits.prefix(while: { $0.isASCII && $0.isNumber })
        let unit = digits.dropFirst(countText.count)
        let count = countText.isEmpty ? 1 : Int(countText)
        guard let count else { return nil }
        switch unit {
        case "min", "T":
            switch count {
            case 1: self = .minute1
            case 5: self = .minutes5
            case 10: self = .minutes10
            case 15: self = .minutes15
            case 30: self = .minutes30
            default: return nil
            }
            return
        default: break
        }
        guard count == 1 else { return nil }
        switch unit {
        case "Y", "y": self = .yearly
        case "M": self = .monthly
        case "W", "w": self = .weekly
        case "D", "d": self = .daily
        case "H", "h": self = .hourly
        default: return nil
        }
    }

    /// The instant `periods` periods before `t` (milliseconds since the epoch, UTC); a negative
    /// `periods` steps forward.
    ///
    /// Fixed-length frequencies subtract `periods` × their length. M and Y step back whole
    /// calendar months (12 per year) keeping the day and the time of day; a day the target month
    /// does not have is clamped to its last day (2024-02-29 minus one year is 2023-02-28,
    /// 2024-03-31 minus one month is 2024-02-29). O(1), no allocation.
    public func instant(_ periods: Int, periodsBefore t: Int64) -> Int64 {
        if let length = fixedPeriodMilliseconds { return t - Int64(periods) * length }
        let months = periods * (calendarMonths ?? 1)
        let seconds = t >= 0 ? t / 1000 : (t - 999) / 1000
        let milliseconds = t - seconds * 1000
        var civil = CivilTime(epochSeconds: seconds)
        let monthIndex = civil.year * 12 + (civil.month - 1) - months
        let year = monthIndex >= 0 ? monthIndex / 12 : (monthIndex - 11) / 12
        civil.year = year
        civil.month = monthIndex - year * 12 + 1
        civil.day = min(civil.day, CivilTime.daysInMonth(year: civil.year, month: civil.month))
        return civil.epochSeconds * 1000 + milliseconds
    }

    /// The instant `m` (``seasonality``) periods before `t`: where MASE's naive forecast of `y_t` comes from.
    public func seasonalLagInstant(before t: Int64) -> Int64 {
        instant(seasonality, periodsBefore: t)
    }

    /// Infers the frequency of a series from its timestamps (milliseconds, ascending).
    ///
    /// Takes the smallest positive gap between neighbours. A gap of exactly 1, 5, 10, 15 or 30
    /// minutes, an hour, a day or a week names that frequency. A gap of 28–31 days is monthly
    /// and one of 365–366 days yearly, when the two points are exactly one calendar month (year)
    /// apart by ``instant(_:periodsBefore:)`` counted from either end. Anything else, or fewer than two distinct timestamps: nil.
    /// O(n), no allocation.
    public static func infer(fromSortedTimestamps timestamps: some Sequence<Int64>) -> Frequency? {
        var previous: Int64?
        var smallest: (gap: Int64, later: Int64)?
        for t in timestamps {
            if let p = previous, t > p, smallest == nil || t - p < smallest!.gap { smallest = (t - p, t) }
            previous = t
        }
        guard let smallest else { return nil }
        for candidate in allCases where candidate.fixedPeriodMilliseconds == smallest.gap { return candidate }
        let day: Int64 = 86_400_000
        let earlier = smallest.later - smallest.gap
        for candidate in [Frequency.monthly, .yearly] {
            let range = candidate == .monthly ? 28 * day...31 * day : 365 * day...366 * day
            guard range.contains(smallest.gap) else { continue }
            // One calendar step apart, counted back from the later point or forward from the
            // earlier one (month ends: Jan 31 → Feb 28 is one month forward, clamped).
            if candidate.instant(1, periodsBefore: smallest.later) == earlier
                || candidate.instant(-1, periodsBefore: earlier) == smallest.later
            {
                return candidate
            }
        }
        return nil
    }

    /// A rough length of one period in milliseconds, to compare frequencies (a month is 30 days,
    /// a year 365).
    var approximateMilliseconds: Int64 {
        switch self {
        case .yearly: 365 * 86_400_000
        case .monthly: 30 * 86_400_000
        default: fixedPeriodMilliseconds!
        }
    }
}
