import Testing

@testable import ExportCSV

/// A minimal unsigned big integer (little-endian 32-bit limbs) for checking the table exactly.
private struct BigUInt: Comparable {
    var limbs: [UInt32]

    init(_ value: UInt64) {
        limbs = [UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32)]
        normalize()
    }

    init(high: UInt64, low: UInt64) {
        limbs = [low, high].flatMap { [UInt32(truncatingIfNeeded: $0), UInt32(truncatingIfNeeded: $0 >> 32)] }
        normalize()
    }

    mutating func normalize() {
        while limbs.count > 1 && limbs.last == 0 { limbs.removeLast() }
    }

    static func * (a: BigUInt, b: BigUInt) -> BigUInt {
        var result = [UInt32](repeating: 0, count: a.limbs.count + b.limbs.count)
        for (i, x) in a.limbs.enumerated() {
            var carry: UInt64 = 0
            for (j, y) in b.limbs.enumerated() {
                let t = UInt64(x) * UInt64(y) + UInt64(result[i + j]) + carry
                result[i + j] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
            }
            var k = i + b.limbs.count
            while carry != 0 {
                let t = UInt64(result[k]) + carry
                result[k] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
                k += 1
            }
        }
        var r = BigUInt(0)
        r.limbs = result
        r.normalize()
        return r
    }

    static func power(_ base: UInt64, _ n: Int) -> BigUInt {
        var r = BigUInt(1)
        for _ in 0..<n { r = r * BigUInt(base) }
        return r
    }

    func shiftedLeft(_ n: Int) -> BigUInt {
        var r = self
        r.limbs = [UInt32](repeating: 0, count: n / 32) + limbs + [0]
        let bits = n % 32
        if bits > 0 {
            var carry: UInt32 = 0
            for i in (n / 32)..<r.limbs.count {
                let v = r.limbs[i]
                r.limbs[i] = (v << bits) | carry
                carry = v >> (32 - bits)
            }
        }
        r.normalize()
        return r
    }

    static func < (a: BigUInt, b: BigUInt) -> Bool {
        if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count }
        for i in stride(from: a.limbs.count - 1, through: 0, by: -1) where a.limbs[i] != b.limbs[i] {
            return a.limbs[i] < b.limbs[i]
        }
        return false
    }
}

@Suite("JavaDoubleFormatter power-of-ten table")
struct EncodingJavaDoubleTableTests {
    /// Every entry is g(k) = floor(10^-k · 2^M) + 1 with M = 127 - floor(log2(10^-k)), i.e.
    /// (g - 1) ≤ 10^-k · 2^M < g, and 2^127 < g < 2^128; floor(log2(10^-k)) is the formula the
    /// formatter uses.
    @Test("each g(k) is exact, for k in -324...292")
    func tableIsExact() {
        #expect(javaDoublePow10Table.count == 2 * 617)
        for k in -324...292 {
            let index = 2 * (k + 324)
            let g = BigUInt(high: javaDoublePow10Table[index], low: javaDoublePow10Table[index + 1])
            let gHigh = javaDoublePow10Table[index]
            let gLow = javaDoublePow10Table[index + 1]
            let gMinus1 = gLow == 0 ? BigUInt(high: gHigh - 1, low: .max) : BigUInt(high: gHigh, low: gLow - 1)
            #expect(gHigh >> 63 == 1, "k = \(k): g below 2^127")
            let log2 = ((-k) &* 1_741_647) >> 19
            let m = 127 - log2
            // Compare (g - 1) · den ≤ num < g · den with num / den = 10^-k · 2^M.
            var num = k <= 0 ? BigUInt.power(10, -k) : BigUInt(1)
            var den = k > 0 ? BigUInt.power(10, k) : BigUInt(1)
            if m >= 0 { num = num.shiftedLeft(m) } else { den = den.shiftedLeft(-m) }
            #expect(!(num < gMinus1 * den), "k = \(k): g - 1 too large")
            #expect(num < g * den, "k = \(k): g too small")
        }
    }

    @Test("the logarithm approximations are exact over the double range")
    func logarithms() {
        // floor(log10(2^q)) and floor(log10(3/4 · 2^q)), checked against exact powers where cheap:
        // 10^k ≤ 2^q < 10^(k+1) with big integers for q in a sampled range.
        for q in stride(from: -1074, through: 971, by: 7) {
            let k = (q &* 78_913) >> 18
            // 10^k ≤ 2^q  ⇔  10^k · 2^-q ≤ 1, done as integers on both sides.
            let (lhs, rhs) = Self.sides(tenPower: k, twoPower: q)
            #expect(!(rhs < lhs), "q = \(q): 10^k > 2^q")
            let (lhs1, rhs1) = Self.sides(tenPower: k + 1, twoPower: q)
            #expect(rhs1 < lhs1, "q = \(q): 10^(k+1) ≤ 2^q")
        }
    }

    /// (10^t, 2^q) as big integers scaled to be whole: returns (A, B) with A / B = 10^t / 2^q.
    private static func sides(tenPower t: Int, twoPower q: Int) -> (BigUInt, BigUInt) {
        var a = t >= 0 ? BigUInt.power(10, t) : BigUInt(1)
        var b = t < 0 ? BigUInt.power(10, -t) : BigUInt(1)
        if q >= 0 { b = b.shiftedLeft(q) } else { a = a.shiftedLeft(-q) }
        return (a, b)
    }
}
