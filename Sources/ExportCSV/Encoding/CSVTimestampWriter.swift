import ExportCore

/// Writes epoch milliseconds as `yyyy-MM-dd'T'HH:mm:ss` (window bounds: milliseconds dropped,
/// floor to the second, also before 1970) or `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (instants, the
/// `timestamp` column of a real Forecast export: `2017-06-19T15:00:00.000Z`), UTC, straight into
/// bytes.
///
/// Backtest timestamps repeat heavily (a few hundred distinct days, window bounds constant for a
/// whole series-window), so the writer keeps, per column slot, the last second it rendered (hit:
/// three 8-byte stores), and, shared by all slots, a direct-mapped cache of 1,024 rendered dates
/// keyed by day (hit: the time of day is composed from its last value or three divisions). A miss
/// costs one ``CivilTime/civil(fromDays:)``.
///
/// Years 0…9999 use the fixed 19/20-byte form; other years (never seen in a forecast) are written
/// uncached with a `-` sign for years before 0 and as many year digits as needed (at most 29 bytes).
///
/// A value type holding pointers into a ``CSVTimestampCache``, which owns the memory and must
/// outlive it; its methods do not mutate `self`, so the hot loop needs no exclusivity checks.
public struct CSVTimestampWriter {
    /// Bytes a call may touch: the longest text plus the store overshoot.
    public static let maxLength = 40

    @usableFromInline let lastSeconds: UnsafeMutablePointer<Int64>
    @usableFromInline let lastText: UnsafeMutablePointer<UInt64>
    @usableFromInline let dayKeys: UnsafeMutablePointer<Int64>
    @usableFromInline let dayText: UnsafeMutablePointer<UInt64>

    @usableFromInline static let daySlots = 1024

    init(cache: CSVTimestampCache) {
        lastSeconds = cache.lastSeconds
        lastText = cache.lastText
        dayKeys = cache.dayKeys
        dayText = cache.dayText
    }

    /// Writes `millis` at `p` using column slot `slot` (0..<``CSVTimestampCache/slotCount``) and
    /// returns the byte count: 24 with `zulu` (`.SSSZ` after the seconds), 19 without (other
    /// lengths only outside years 0…9999). May touch up to ``maxLength`` bytes at `p` (without
    /// `zulu`, a `Z` lands after the text).
    @inlinable @inline(__always)
    public func write(millis: Int64, slot: Int, zulu: Bool, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var seconds = millis / 1000
        if millis % 1000 < 0 { seconds -= 1 }
        let raw = UnsafeMutableRawPointer(p)
        var n: Int
        if lastSeconds[slot] == seconds {
            let words = lastText + 3 &* slot
            raw.storeBytes(of: words[0], as: UInt64.self)
            raw.storeBytes(of: words[1], toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: words[2], toByteOffset: 16, as: UInt64.self)
            n = 19
        } else {
            n = writeMiss(seconds: seconds, slot: slot, to: p)
        }
        if zulu {
            UnsafeMutableRawPointer(p + n).storeBytes(
                of: Self.millisWord(Int(millis &- seconds &* 1000)),
                as: UInt64.self
            )
            n &+= 5
        }
        return n
    }

    /// `.SSSZ` as a little-endian word (3 bytes of overshoot).
    @usableFromInline
    static func millisWord(_ ms: Int) -> UInt64 {
        let m = UInt64(ms)
        return UInt64(UInt8(ascii: ".")) | (0x30 + m / 100) << 8 | (0x30 + m / 10 % 10) << 16 | (0x30 + m % 10) << 24
            | UInt64(UInt8(ascii: "Z")) << 32
    }

    @usableFromInline
    func writeMiss(seconds: Int64, slot: Int, to p: UnsafeMutablePointer<UInt8>) -> Int {
        var days = seconds / 86_400
        if seconds % 86_400 < 0 { days -= 1 }
        let secondOfDay = Int(seconds &- days &* 86_400)
        let daySlot = Int(truncatingIfNeeded: days) & (Self.daySlots - 1)
        if dayKeys[daySlot] != days {
            guard let words = Self.dateWords(days: days) else {
                return Self.writeWide(seconds: seconds, to: p)
            }
            dayKeys[daySlot] = days
            dayText[2 &* daySlot] = words.0
            dayText[2 &* daySlot &+ 1] = words.1
        }
        let time = Self.timeWord(secondOfDay: secondOfDay)
        let w0 = dayText[2 &* daySlot]
        let w1 = dayText[2 &* daySlot &+ 1] | (time << 24)
        // The `Z` is always there: without `zulu` the caller's next byte (a separator) overwrites it.
        let w2 = (time >> 40) | UInt64(UInt8(ascii: "Z")) << 24
        let words = lastText + 3 &* slot
        words[0] = w0
        words[1] = w1
        words[2] = w2
        lastSeconds[slot] = seconds
        let raw = UnsafeMutableRawPointer(p)
        raw.storeBytes(of: w0, as: UInt64.self)
        raw.storeBytes(of: w1, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: w2, toByteOffset: 16, as: UInt64.self)
        return 19
    }

    /// `yyyy-MM-` and `ddT` (little-endian words), or nil outside years 0…9999.
    static func dateWords(days: Int64) -> (UInt64, UInt64)? {
        let (year, month, day) = CivilTime.civil(fromDays: days)
        guard year >= 0 && year <= 9999 else { return nil }
        let y = UInt64(year)
        let m = UInt64(month)
        let d = UInt64(day)
        let dash = UInt64(UInt8(ascii: "-"))
        let w0 =
            (0x30 + y / 1000) | (0x30 + y / 100 % 10) << 8 | (0x30 + y / 10 % 10) << 16 | (0x30 + y % 10) << 24
            | dash << 32 | (0x30 + m / 10) << 40 | (0x30 + m % 10) << 48 | dash << 56
        let w1 = (0x30 + d / 10) | (0x30 + d % 10) << 8 | UInt64(UInt8(ascii: "T")) << 16
        return (w0, w1)
    }

    /// `HH:mm:ss` as a little-endian word.
    @usableFromInline
    static func timeWord(secondOfDay: Int) -> UInt64 {
        let s = UInt64(secondOfDay)
        let h = s / 3600
        let mi = s / 60 % 60
        let se = s % 60
        let colon = UInt64(UInt8(ascii: ":"))
        return (0x30 + h / 10) | (0x30 + h % 10) << 8 | colon << 16 | (0x30 + mi / 10) << 24
            | (0x30 + mi % 10) << 32 | colon << 40 | (0x30 + se / 10) << 48 | (0x30 + se % 10) << 56
    }

    /// The uncached form for years outside 0…9999.
    static func writeWide(seconds: Int64, to p: UnsafeMutablePointer<UInt8>) -> Int {
        let days = seconds / 86_400 - (seconds % 86_400 < 0 ? 1 : 0)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = CivilTime.civil(fromDays: days)
        var n = 0
        if year < 0 {
            p[n] = UInt8(ascii: "-")
            n += 1
        }
        var digits: [UInt8] = Array(String(year.magnitude).utf8)
        while digits.count < 4 { digits.insert(UInt8(ascii: "0"), at: 0) }
        for b in digits {
            p[n] = b
            n += 1
        }
        let rest = [
            UInt8(ascii: "-"), UInt8(0x30 + month / 10), UInt8(0x30 + month % 10), UInt8(ascii: "-"),
            UInt8(0x30 + day / 10), UInt8(0x30 + day % 10), UInt8(ascii: "T"),
        ]
        for b in rest {
            p[n] = b
            n += 1
        }
        var time = timeWord(secondOfDay: secondOfDay)
        for _ in 0..<8 {
            p[n] = UInt8(truncatingIfNeeded: time)
            time >>= 8
            n += 1
        }
        return n
    }
}

/// The memory behind ``CSVTimestampWriter``: per-slot last rendered second and text, and the
/// shared cache of rendered dates. About 24 KiB plus 32 bytes per slot, allocated once per encoder.
public final class CSVTimestampCache {
    /// Number of column slots.
    public let slotCount: Int
    let lastSeconds: UnsafeMutablePointer<Int64>
    let lastText: UnsafeMutablePointer<UInt64>
    let dayKeys: UnsafeMutablePointer<Int64>
    let dayText: UnsafeMutablePointer<UInt64>

    /// A cache with `slotCount` column slots (one per time column).
    public init(slotCount: Int) {
        self.slotCount = max(slotCount, 1)
        lastSeconds = .allocate(capacity: self.slotCount)
        lastSeconds.initialize(repeating: Int64.min, count: self.slotCount)
        lastText = .allocate(capacity: 3 * self.slotCount)
        lastText.initialize(repeating: 0, count: 3 * self.slotCount)
        dayKeys = .allocate(capacity: CSVTimestampWriter.daySlots)
        dayKeys.initialize(repeating: Int64.min, count: CSVTimestampWriter.daySlots)
        dayText = .allocate(capacity: 2 * CSVTimestampWriter.daySlots)
        dayText.initialize(repeating: 0, count: 2 * CSVTimestampWriter.daySlots)
    }

    deinit {
        lastSeconds.deallocate()
        lastText.deallocate()
        dayKeys.deallocate()
        dayText.deallocate()
    }

    /// The writer over this memory; valid while `self` is alive.
    public var writer: CSVTimestampWriter { CSVTimestampWriter(cache: self) }

    /// `millis` as text; allocates: for tests and cold paths.
    public func string(millis: Int64, zulu: Bool) -> String {
        var bytes = [UInt8](repeating: 0, count: CSVTimestampWriter.maxLength)
        let n = bytes.withUnsafeMutableBufferPointer {
            writer.write(millis: millis, slot: 0, zulu: zulu, to: $0.baseAddress!)
        }
        return String(decoding: bytes[..<n], as: UTF8.self)
    }
}
