#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Parses a CSV field as a double, correctly rounded (the nearest double, ties to even).
///
/// Accepts `[+-]digits[.digits][(e|E)[+-]digits]` (also `1.` and `.5`), and, case-insensitively,
/// `nan`, `inf` and `infinity` with an optional sign (Java's `NaN`, `Infinity`, `-Infinity`).
/// No whitespace, no hexadecimal, no thousands separators.
///
/// Cost: the common case (at most 19 significant digits, exponent within ±347) is one pass over
/// the bytes, eight and four digits at a time, then either one exact floating-point operation (Clinger's
/// fast path) or the Eisel–Lemire algorithm; no allocation. Longer or extreme inputs fall back to
/// the C library's `strtod` on a stack copy (rewritten without a decimal point, so that the
/// locale does not matter).
package enum CSVNumberParser {
    /// The value of `field`, or nil when it is not a number by the rules above.
    @inline(__always)
    package static func parseDouble(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
        guard let p = field.baseAddress, field.count > 0 else { return nil }
        return parseDouble(p, field.count)
    }

    @inline(__always)
    static func parseDouble(_ p: UnsafePointer<UInt8>, _ n: Int) -> Double? {
        var i = 0
        var negative = false
        let first = p[0]
        if first == UInt8(ascii: "-") {
            negative = true
            i = 1
        } else if first == UInt8(ascii: "+") {
            i = 1
        }
        guard i < n else { return nil }
        let c = p[i]
        guard c &- 0x30 < 10 || c == UInt8(ascii: ".") else { return parseSpecial(p + i, n - i, negative: negative) }

        var mantissa: UInt64 = 0
        let integerStart = i
        consumeDigits(p, n, &i, &mantissa)
        var digitCount = i &- integerStart
        var exponent = 0
        if i < n && p[i] == UInt8(ascii: ".") {
            i &+= 1
            let fractionStart = i
            consumeDigits(p, n, &i, &mantissa)
            let fractionDigits = i &- fractionStart
            digitCount &+= fractionDigits
            exponent = -fractionDigits
        }
        guard digitCount > 0 else { return nil }
        if i < n && p[i] | 0x20 == UInt8(ascii: "e") {
            i &+= 1
            var exponentNegative = false
            if i < n && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
                exponentNegative = p[i] == UInt8(ascii: "-")
                i &+= 1
            }
            guard i < n && p[i] &- 0x30 < 10 else { return nil }
            var written = 0
            while i < n {
                let d = p[i] &- 0x30
                guard d < 10 else { break }
                if written < 100_000 { written = written &* 10 &+ Int(d) }
                i &+= 1
            }
            exponent &+= exponentNegative ? -written : written
        }
        guard i == n else { return nil }

        if digitCount > 19 && significantDigitCount(p, n) > 19 { return parseExactly(p, n, exponent: exponent) }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        // Clinger: both operands exact, so one IEEE operation rounds correctly.
        if mantissa <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            var value = Double(mantissa)
            let power = exactPowerOfTen(exponent < 0 ? -exponent : exponent)
            value = exponent < 0 ? value / power : value * power
            return negative ? -value : value
        }
        if let value = eiselLemire(mantissa: mantissa, exponent10: exponent, negative: negative) { return value }
        return parseExactly(p, n, exponent: exponent)
    }

    /// Accumulates the digits from `p[i]` into `mantissa` (wrapping past 19 digits) and advances
    /// `i` past them: eight at a time, then four, then one by one.
    @inline(__always)
    private static func consumeDigits(
        _ p: UnsafePointer<UInt8>,
        _ n: Int,
        _ i: inout Int,
        _ mantissa: inout UInt64
    ) {
        while i &+ 8 <= n {
            let chunk = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self).littleEndian
            guard isEightDigits(chunk) else { break }
            mantissa = mantissa &* 100_000_000 &+ eightDigitsValue(chunk)
            i &+= 8
        }
        if i &+ 4 <= n {
            let chunk = UnsafeRawPointer(p + i).loadUnaligned(as: UInt32.self).littleEndian
            if isFourDigits(chunk) {
                mantissa = mantissa &* 10_000 &+ UInt64(fourDigitsValue(chunk))
                i &+= 4
            }
        }
        while i < n {
            let d = p[i] &- 0x30
            guard d < 10 else { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i &+= 1
        }
    }

    /// Whether the four bytes of `chunk` (little-endian) are all ASCII digits.
    @inline(__always)
    private static func isFourDigits(_ chunk: UInt32) -> Bool {
        (chunk & 0xF0F0_F0F0) | (((chunk &+ 0x0606_0606) & 0xF0F0_F0F0) >> 4) == 0x3333_3333
    }

    /// The value of four ASCII digits, the first in the lowest byte.
    @inline(__always)
    private static func fourDigitsValue(_ chunk: UInt32) -> UInt32 {
        var v = chunk &- 0x3030_3030
        v = (v &* 10) &+ (v >> 8)
        return (v & 0xFF) &* 100 &+ ((v >> 16) & 0xFF)
    }

    /// 10^k for 0 ≤ k ≤ 22, all exact doubles.
    @inline(__always)
    private static func exactPowerOfTen(_ k: Int) -> Double {
        return powersOfTen.withUnsafeBufferPointer { $0[k] }
    }

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
        1e19, 1e20, 1e21, 1e22,
    ]

    /// Whether the eight bytes of `chunk` (little-endian) are all ASCII digits.
    @inline(__always)
    private static func isEightDigits(_ chunk: UInt64) -> Bool {
        (chunk & 0xF0F0_F0F0_F0F0_F0F0) | (((chunk &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
            == 0x3333_3333_3333_3333
    }

    /// The value of eight ASCII digits, the first in the lowest byte (SWAR, as in fast_float).
    @inline(__always)
    private static func eightDigitsValue(_ chunk: UInt64) -> UInt64 {
        var v = chunk &- 0x3030_3030_3030_3030
        v = (v &* 10) &+ (v >> 8)
        let mask: UInt64 = 0x0000_00FF_0000_00FF
        let multiplier1: UInt64 = 0x000F_4240_0000_0064  // 100 + (1_000_000 << 32)
        let multiplier2: UInt64 = 0x0000_2710_0000_0001  // 1 + (10_000 << 32)
        return ((v & mask) &* multiplier1 &+ ((v >> 16) & mask) &* multiplier2) >> 32
    }

    /// Digits of the mantissa after leading zeros (the decimal point skipped).
    private static func significantDigitCount(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var i = 0
        var count = 0
        var leading = true
        while i < n {
            let c = p[i]
            if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
            if c &- 0x30 < 10 {
                if c != UInt8(ascii: "0") { leading = false }
                if !leading { count += 1 }
            }
            i += 1
        }
        return count
    }

    /// Whether `field` spells infinity literally (`Infinity`, `-inf`, any case), as opposed to a
    /// decimal that overflows (`1e400`). For the cold path after a parse gave ±infinity.
    static func isInfinityLiteral(_ field: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = field.baseAddress, field.count > 0 else { return false }
        let skip = p[0] == UInt8(ascii: "-") || p[0] == UInt8(ascii: "+") ? 1 : 0
        return field.count > skip && p[skip] | 0x20 == UInt8(ascii: "i")
    }

    /// `nan`, `inf`, `infinity`, any case, after an optional sign.
    private static func parseSpecial(_ p: UnsafePointer<UInt8>, _ n: Int, negative: Bool) -> Double? {
        func matches(_ word: StaticString) -> Bool {
            guard word.utf8CodeUnitCount == n else { return false }
            let w = word.utf8Start
            for k in 0..<n where p[k] | 0x20 != w[k] { return false }
            return true
        }
        if matches("nan") { return .nan }
        if matches("inf") || matches("infinity") { return negative ? -.infinity : .infinity }
        return nil
    }

    /// The C library's correctly rounded `strtod`, for inputs the fast paths leave undecided.
    /// `p[0..<n]` has already been checked to be a decimal number whose value is
    /// `digits · 10^exponent` (`exponent` already counts the fraction digits). The stack copy is
    /// rewritten as `[-]digitsE<exponent>`, without a decimal point, so that the current C locale's
    /// decimal separator does not matter.
    @inline(never)
    private static func parseExactly(_ p: UnsafePointer<UInt8>, _ n: Int, exponent: Int) -> Double? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 24) { copy -> Double? in
            let base = copy.baseAddress!
            var length = 0
            for i in 0..<n {
                let c = p[i]
                if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
                if c == UInt8(ascii: ".") || c == UInt8(ascii: "+") { continue }
                base[length] = CChar(bitPattern: c)
                length += 1
            }
            base[length] = CChar(bitPattern: UInt8(ascii: "e"))
            length += 1
            var magnitude = exponent.magnitude
            if exponent < 0 {
                base[length] = CChar(bitPattern: UInt8(ascii: "-"))
                length += 1
            }
            var digits: [CChar] = []
            repeat {
                digits.append(CChar(bitPattern: UInt8(ascii: "0") + UInt8(magnitude % 10)))
                magnitude /= 10
            } while magnitude > 0
            for d in digits.reversed() {
                base[length] = d
                length += 1
            }
            base[length] = 0
            var endPointer: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(base, &endPointer)
            guard endPointer == base + length else { return nil }
            return value
        }
    }
}
