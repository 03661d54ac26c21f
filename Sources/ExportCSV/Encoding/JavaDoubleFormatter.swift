/// Writes a `Double` as Java's `Double.toString` (JDK 19 and later) spells it, straight into bytes.
///
/// The digits are the shortest decimal that reads back as the same double; among several of that
/// length the one closest to the exact value (ties: even last digit). The decimal is found with
/// Raffaello Giulietti's Schubfach method: the value and both ends of its rounding interval are
/// scaled by a 128-bit power of ten (``javaDoublePow10Table``) with round-to-odd, which makes the
/// few comparisons that pick the digits exact. Like the JDK, the two smallest subnormals get two
/// digits (`4.9E-324`, `9.9E-324`), and a result of one digit is never chosen over a closer one of
/// two digits.
///
/// Layout: plain notation for 10^-3 ≤ |x| < 10^7 with at least one fractional digit (`0.0`, `-0.0`,
/// `12.5`, `100.0`, `0.001`), otherwise `d.ddd…E<exp>` with at least one digit after the point
/// (`1.0E7`, `2.295408381527212E-4`, `4.9E-324`); `NaN`, `Infinity`, `-Infinity`.
///
/// Cost: no allocation, no `String`, no Foundation, no data-dependent branch in the digit search;
/// three 64×128-bit multiplications, two divisions by 10^8 (multiplications by a reciprocal) and a
/// SWAR digit conversion: ~24 ns per full-precision value on the project machine (Swift's
/// `description` ~70 ns, libstdc++ `to_chars` ~40 ns).
public enum JavaDoubleFormatter {
    /// The longest text this formatter writes (`-2.2250738585072014E-308` is 24 bytes).
    public static let maxLength = 24

    /// Writes `value` at `p` and returns the number of bytes written.
    ///
    /// The caller provides at least ``maxLength`` writable bytes at `p`; no byte beyond the ones
    /// returned plus that window is touched.
    @inlinable
    public static func write(_ value: Double, to p: UnsafeMutablePointer<UInt8>) -> Int {
        let bits = value.bitPattern
        var p = p
        var sign = 0
        if bits >> 63 != 0 {
            p.pointee = UInt8(ascii: "-")
            p += 1
            sign = 1
        }
        let biased = Int(truncatingIfNeeded: (bits >> 52) & 0x7FF)
        let fraction = bits & 0x000F_FFFF_FFFF_FFFF
        if biased == 0x7FF {
            if fraction != 0 {
                // Java prints NaN without a sign, whatever the sign bit.
                UnsafeMutableRawPointer(p - sign).storeBytes(of: 0x004E_614E, as: UInt32.self)  // "NaN"
                return 3
            }
            // "Infinity"
            UnsafeMutableRawPointer(p).storeBytes(of: 0x7974_696E_6966_6E49, as: UInt64.self)
            return sign + 8
        }
        if biased == 0 && fraction == 0 {
            p[0] = UInt8(ascii: "0")
            p[1] = UInt8(ascii: ".")
            p[2] = UInt8(ascii: "0")
            return sign + 3
        }
        let decimal = shortestDecimal(biasedExponent: biased, fraction: fraction)
        return sign + writeDecimal(significand: decimal.significand, exponent: decimal.exponent, to: p)
    }

    /// Writes `value` at the end of `bytes`; a convenience for tests and cold paths.
    @inlinable
    public static func append(_ value: Double, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: maxLength))
        let n = bytes.withUnsafeMutableBufferPointer { write(value, to: $0.baseAddress! + start) }
        bytes.removeLast(maxLength - n)
    }

    /// `value` as Java prints it. Allocates a `String`: for tests and cold paths only.
    public static func string(_ value: Double) -> String {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: - The shortest decimal (Schubfach)

    /// The decimal `significand · 10^exponent` that Java's `Double.toString` prints for a finite,
    /// nonzero, positive double given by its biased exponent and fraction bits. The significand
    /// has at most 17 digits and may end in zeros.
    @inlinable @inline(__always)
    static func shortestDecimal(biasedExponent: Int, fraction: UInt64) -> (significand: UInt64, exponent: Int) {
        var c: UInt64
        var q: Int
        var dk = 0
        var irregular = false
        if biasedExponent != 0 {
            c = fraction | (1 << 52)
            q = biasedExponent - 1075
            // Integers below 2^53 print exactly (and shortest): no scaling needed.
            if q < 0 && q >= -52 && c & ((1 << UInt64(-q)) &- 1) == 0 {
                return (c >> UInt64(-q), 0)
            }
            irregular = fraction == 0 && biasedExponent > 1
        } else {
            c = fraction
            q = -1074
            if c < 3 {
                // The two smallest subnormals: look for two digits in a ten times narrower interval.
                c &*= 10
                dk = -1
            }
        }
        let out: UInt64 = c & 1
        let cb = c << 2
        let cbr = cb + 2
        let cbl: UInt64
        let k: Int
        if irregular {
            // The next double down is a quarter ulp away, not a half: the interval is asymmetric.
            cbl = cb - 1
            k = (q &* 631_305 &- 261_663) >> 21  // floor(log10(3/4 · 2^q))
        } else {
            cbl = cb - 2
            k = (q &* 78_913) >> 18  // floor(log10(2^q))
        }
        let h = q + ((-k) &* 1_741_647) >> 19 + 1  // q + floor(log2(10^-k)) + 1, in 1...8
        let index = 2 &* (k + 324)
        let gHigh = javaDoublePow10Table[index]
        let gLow = javaDoublePow10Table[index + 1]
        let vb = roundToOddProduct(gHigh, gLow, cb &<< UInt64(h))
        let vbl = roundToOddProduct(gHigh, gLow, cbl &<< UInt64(h))
        let vbr = roundToOddProduct(gHigh, gLow, cbr &<< UInt64(h))
        // Branch-free selection (the outcomes are data-dependent coin flips for full-precision
        // values; mispredicted branches would cost more than computing every candidate).
        let s = vb >> 2
        // One digit shorter: at most one multiple of 10^(k+1) lies in the rounding interval.
        let sp10 = (s / 10) &* 10
        let tp10 = sp10 &+ 10
        let upin = vbl &+ out <= sp10 << 2
        let wpin = (tp10 << 2) &+ out <= vbr
        let shorter = upin ? sp10 : tp10
        let useShorter = bit(s >= 100) & (bit(upin) ^ bit(wpin))
        // Otherwise s or t = s + 1: the one in the interval, or when both are, the closer one
        // (ties to even).
        let t = s &+ 1
        let uin = bit(vbl &+ out <= s << 2)
        let win = bit((t << 2) &+ out <= vbr)
        let cmp = Int64(bitPattern: vb &- ((s &+ t) << 1))
        let closerIsS = bit(cmp < 0) | (bit(cmp == 0) & (~s & 1))
        let longer = s &+ ((1 ^ uin) | (win & (1 ^ closerIsS)))
        // dk is nonzero only for the two smallest subnormals, where s < 100.
        let choice = longer ^ ((shorter ^ longer) & (0 &- useShorter))
        return (choice, k + dk)
    }

    /// 1 for true, 0 for false, without a branch.
    @inlinable @inline(__always)
    static func bit(_ condition: Bool) -> UInt64 {
        UInt64(unsafeBitCast(condition, to: UInt8.self))
    }

    /// floor(g · x / 2^128) with its lowest bit set when the discarded middle word is not zero
    /// (round to odd), where g = `gHigh · 2^64 + gLow`. The lowest word of g · x is not looked at:
    /// it holds nothing but the error of g's last bit (g is rounded up), which must not make an
    /// exact result look inexact. Branch-free: the carry and the sticky bit are data-dependent
    /// coin flips that a branch would mispredict.
    @inlinable @inline(__always)
    static func roundToOddProduct(_ gHigh: UInt64, _ gLow: UInt64, _ x: UInt64) -> UInt64 {
        let lowHigh = UInt64(truncatingIfNeeded: (UInt128(gLow) &* UInt128(x)) &>> 64)
        let sum = UInt128(gHigh) &* UInt128(x) &+ UInt128(lowHigh)
        let top = UInt64(truncatingIfNeeded: sum &>> 64)
        let middle = UInt64(truncatingIfNeeded: sum)
        return top | ((middle | (0 &- middle)) &>> 63)
    }

    // MARK: - Layout

    /// Writes `significand · 10^exponent` (significand in 1..<10^17) in Java's layout; returns the
    /// byte count. Touches at most 23 bytes at `p`.
    @inlinable @inline(__always)
    static func writeDecimal(significand f: UInt64, exponent e: Int, to p: UnsafeMutablePointer<UInt8>) -> Int {
        // Normalise to exactly 17 digits: f17 = 0.d1…d17 · 10^17, value = 0.d1…d17 · 10^pointPosition.
        let length = decimalLength(f)
        let f17 = f &* powerOfTen(17 - length)
        let pointPosition = e + length
        let upper = f17 / 100_000_000  // d1…d9
        let lower = UInt32(truncatingIfNeeded: f17 &- upper &* 100_000_000)  // d10…d17
        let first = UInt8(truncatingIfNeeded: upper / 100_000_000)  // d1
        let middle = UInt32(truncatingIfNeeded: upper &- UInt64(first) &* 100_000_000)  // d2…d9
        let middleDigits = eightDigits(middle)
        let lowerDigits = eightDigits(lower)
        // Significant digits, trailing zeros removed (at least 1).
        let significant: Int
        if lower != 0 {
            significant = 17 - lowerDigits.leadingZeroBitCount >> 3
        } else if middle != 0 {
            significant = 9 - middleDigits.leadingZeroBitCount >> 3
        } else {
            significant = 1
        }
        // The 17 ASCII digits D[0…16] as words: D[0..<8], D[8..<16], D[16]. Built in registers and
        // stored whole (no load after a narrower store: that would stall store forwarding).
        let ascii: UInt64 = 0x3030_3030_3030_3030
        let middleASCII = middleDigits | ascii
        let lowerASCII = lowerDigits | ascii
        let firstASCII = UInt64(first) | 0x30
        let raw = UnsafeMutableRawPointer(p)
        let head = firstASCII | (middleASCII << 8)  // D[0..<8]
        if pointPosition <= 0 && pointPosition >= -2 {
            // 0.00…d1…dn
            raw.storeBytes(of: 0x3030_2E30 as UInt32, as: UInt32.self)  // "0.00"
            let start = 2 - pointPosition
            raw.storeBytes(of: head, toByteOffset: start, as: UInt64.self)
            raw.storeBytes(of: (middleASCII >> 56) | (lowerASCII << 8), toByteOffset: start + 8, as: UInt64.self)
            p[start + 16] = UInt8(truncatingIfNeeded: lowerASCII >> 56)
            return start + significant
        }
        // D[0..<E] '.' D[E…16]: E = pointPosition for plain notation, 1 for scientific.
        let plain = pointPosition >= 1 && pointPosition <= 7
        let split = plain ? pointPosition : 1
        let bits = UInt64(truncatingIfNeeded: split &* 8)
        let low: UInt64 = (1 << bits) &- 1
        let word0 = (head & low) | (UInt64(UInt8(ascii: ".")) << bits) | ((head << 8) & ~(low | (0xFF << bits)))
        // Bytes 8..<16 of the output are D[7..<15], bytes 16 and 17 are D[15], D[16].
        let word1 = (middleASCII >> 48) | (lowerASCII << 16)
        raw.storeBytes(of: word0, as: UInt64.self)
        raw.storeBytes(of: word1, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: UInt16(truncatingIfNeeded: lowerASCII >> 48), toByteOffset: 16, as: UInt16.self)
        if plain {
            return pointPosition + 1 + max(1, significant - pointPosition)
        }
        // d1 '.' d2…dn E exp
        var n = 1 + max(2, significant)
        p[n] = UInt8(ascii: "E")
        n += 1
        var exponent = pointPosition - 1
        if exponent < 0 {
            p[n] = UInt8(ascii: "-")
            n += 1
            exponent = -exponent
        }
        if exponent >= 100 {
            let hundreds = exponent / 100
            p[n] = UInt8(truncatingIfNeeded: hundreds) &+ 0x30
            exponent -= hundreds * 100
            p[n + 1] = UInt8(truncatingIfNeeded: exponent / 10) &+ 0x30
            p[n + 2] = UInt8(truncatingIfNeeded: exponent % 10) &+ 0x30
            return n + 3
        }
        if exponent >= 10 {
            p[n] = UInt8(truncatingIfNeeded: exponent / 10) &+ 0x30
            p[n + 1] = UInt8(truncatingIfNeeded: exponent % 10) &+ 0x30
            return n + 2
        }
        p[n] = UInt8(truncatingIfNeeded: exponent) &+ 0x30
        return n + 1
    }

    /// The eight decimal digits of `n` (< 10^8) as byte values 0…9, most significant in the lowest
    /// byte (so a little-endian store writes them in reading order). SWAR: no loop, no table.
    @inlinable @inline(__always)
    static func eightDigits(_ n: UInt32) -> UInt64 {
        let high4 = n / 10_000
        let low4 = n &- high4 &* 10_000
        var x = UInt64(high4) | (UInt64(low4) << 32)
        // Each 32-bit lane (< 10^4) into two 16-bit lanes of two digits: x / 100 is (x · 10486) >> 20.
        let hundreds = ((x &* 10_486) >> 20) & 0x0000_007F_0000_007F
        x = hundreds | ((x &- hundreds &* 100) << 16)
        // Each 16-bit lane (< 100) into two bytes: x / 10 is (x · 103) >> 10.
        let tens = ((x &* 103) >> 10) & 0x000F_000F_000F_000F
        return tens | ((x &- tens &* 10) << 8)
    }

    /// Number of decimal digits of `f` (1…17 for 1 ≤ f < 10^17).
    @inlinable @inline(__always)
    static func decimalLength(_ f: UInt64) -> Int {
        let bits = 64 - f.leadingZeroBitCount  // f < 2^bits
        let guess = (bits &* 1233) >> 12  // floor(log10(2^bits)) approximately
        return guess + (f >= powerOfTen(guess) ? 1 : 0)
    }

    /// 10^n for 0 ≤ n ≤ 19.
    @inlinable @inline(__always)
    static func powerOfTen(_ n: Int) -> UInt64 {
        javaDoublePowersOfTen[n]
    }
}

@usableFromInline
let javaDoublePowersOfTen: [UInt64] = [
    1, 10, 100, 1000, 10000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
    10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
    1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
    10_000_000_000_000_000_000,
]
