import ExportCSV
import ExportCore
import Testing

/// The significant digits of a decimal text (no leading or trailing zeros) and the power of ten
/// of its first digit: "266.9397" → ("2669397", 2), "4.9E-324" → ("49", -324), "1e-05" → ("1", -5).
private func decimalDigits(_ text: String) -> (digits: [UInt8], exponent: Int) {
    var bytes = Array(text.utf8)
    var exponent = 0
    if let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
        exponent = Int(String(decoding: bytes[(e + 1)...], as: UTF8.self))!
        bytes = Array(bytes[..<e])
    }
    if bytes.first == UInt8(ascii: "-") { bytes.removeFirst() }
    var digits: [UInt8] = []
    var point: Int?
    for b in bytes {
        if b == UInt8(ascii: ".") { point = digits.count } else { digits.append(b) }
    }
    let pointPosition = point ?? digits.count
    let leading = digits.prefix(while: { $0 == UInt8(ascii: "0") }).count
    digits.removeFirst(leading)
    while digits.last == UInt8(ascii: "0") { digits.removeLast() }
    return (digits, pointPosition - leading - 1 + exponent)
}

/// Checks Java's layout rules on `text` for a finite, nonzero `x`.
private func layoutIsJava(_ text: String, _ x: Double) -> Bool {
    let magnitude = abs(x)
    let body = x.sign == .minus ? String(text.dropFirst()) : text
    if x.sign == .minus && !text.hasPrefix("-") { return false }
    if magnitude >= 1e-3 && magnitude < 1e7 {
        // Plain: digits '.' digits, at least one on each side, no exponent.
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty
            && parts.allSatisfy { $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
            && (parts[0] == "0" || parts[0].first != "0")
    }
    // Scientific: d '.' d+ 'E' -?d+ with a nonzero first digit.
    let halves = body.split(separator: "E", omittingEmptySubsequences: false)
    guard halves.count == 2 else { return false }
    let mantissa = Array(halves[0].utf8)
    guard mantissa.count >= 3, mantissa[1] == UInt8(ascii: "."), mantissa[0] != UInt8(ascii: "0") else { return false }
    let exponent = halves[1].hasPrefix("-") ? halves[1].dropFirst() : halves[1]
    return !exponent.isEmpty && exponent.allSatisfy(\.isNumber) && exponent.first != "0"
}

/// The formatter's text for `x`, checked against Swift's own shortest `description`.
private func checkShortest(_ x: Double) {
    let text = JavaDoubleFormatter.string(x)
    guard let back = Double(text), back.bitPattern == x.bitPattern else {
        Issue.record("\(text) does not read back as \(x) (bits \(String(x.bitPattern, radix: 16)))")
        return
    }
    guard layoutIsJava(text, x) else {
        Issue.record("\(text) for \(x) is not in Java's layout")
        return
    }
    let ours = decimalDigits(text)
    let swift = decimalDigits(x.description)
    if x.isSubnormal && x.bitPattern & 0x7FFF_FFFF_FFFF_FFFF < 203 {  // below 1e-321
        // Java's rule for the tiniest subnormals: one digit is never chosen over a closer two-digit one.
        #expect(ours.digits.count <= max(2, swift.digits.count), "\(text) vs \(x.description)")
    } else if ours.digits != swift.digits || ours.exponent != swift.exponent {
        Issue.record("\(text) is not the shortest closest decimal of \(x.description)")
    }
}

@Suite("JavaDoubleFormatter")
struct EncodingJavaDoubleFormatterTests {
    @Test("Java's spelling of specific values")
    func knownValues() {
        let cases: [(Double, String)] = [
            (0.0, "0.0"), (-0.0, "-0.0"), (12.5, "12.5"), (100.0, "100.0"), (1.0, "1.0"), (-1.5, "-1.5"),
            (0.001, "0.001"), (0.002, "0.002"), (0.08422470160000001, "0.08422470160000001"),
            (2.295408381527212E-4, "2.295408381527212E-4"), (1.0E-5, "1.0E-5"), (1.0E7, "1.0E7"),
            (Double(0.001).nextDown, "9.999999999999998E-4"), (Double(1.0E7).nextDown, "9999999.999999998"),
            (9_999_999.0, "9999999.0"), (1.0E7 + 1, "1.0000001E7"), (123_456.789, "123456.789"),
            (266.93973921876204, "266.93973921876204"), (0.1, "0.1"), (0.3, "0.3"), (0.1 + 0.2, "0.30000000000000004"),
            (1.0E21, "1.0E21"), (1.0E23, "1.0E23"), (2.0E23, "2.0E23"), (-1.0E-300, "-1.0E-300"),
            (Double.greatestFiniteMagnitude, "1.7976931348623157E308"),
            (-Double.greatestFiniteMagnitude, "-1.7976931348623157E308"),
            (Double.leastNormalMagnitude, "2.2250738585072014E-308"),
            (Double.leastNormalMagnitude.nextDown, "2.225073858507201E-308"),
            (Double.leastNonzeroMagnitude, "4.9E-324"), (-Double.leastNonzeroMagnitude, "-4.9E-324"),
            (2 * Double.leastNonzeroMagnitude, "9.9E-324"), (3 * Double.leastNonzeroMagnitude, "1.5E-323"),
            (9_007_199_254_740_992.0, "9.007199254740992E15"), (9_007_199_254_740_991.0, "9.007199254740991E15"),
            (4_503_599_627_370_495.5, "4.5035996273704955E15"), (1234567.0, "1234567.0"),
            (Double.nan, "NaN"), (-Double.nan, "NaN"), (Double.infinity, "Infinity"), (-Double.infinity, "-Infinity"),
        ]
        for (x, expected) in cases {
            #expect(JavaDoubleFormatter.string(x) == expected, "bits \(String(x.bitPattern, radix: 16))")
        }
    }

    @Test("never longer than maxLength")
    func maxLength() {
        let longest = [-Double.leastNormalMagnitude.nextUp, -2.2250738585072014E-308, -1.2345678901234567E-100]
        for x in longest {
            #expect(JavaDoubleFormatter.string(x).utf8.count <= JavaDoubleFormatter.maxLength)
        }
        #expect(JavaDoubleFormatter.string(-2.2250738585072014E-308).utf8.count == 24)
    }

    /// Sized for the build: 150,000 values in a debug build (`swift test`), 1,000,000 optimized.
    static let randomDoubleCount: Int = {
        #if DEBUG
        150_000
        #else
        1_000_000
        #endif
    }()

    @Test("random doubles (150,000 debug, 1,000,000 optimized) round-trip with the shortest digits")
    func randomDoubles() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        for i in 0..<Self.randomDoubleCount {
            let x: Double
            switch i % 4 {
            case 0:
                x = Double(bitPattern: rng.next())  // any bit pattern
            case 1:
                x = Double.random(in: 10..<1000, using: &rng) * Double.random(in: 0.4...2, using: &rng)
            case 2:
                x = Double.random(in: 0..<1, using: &rng)  // metrics-like
            default:
                // Realistic magnitudes 1e-6…1e9 with full-precision mantissas, either sign.
                let scale = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]
                let magnitude = Double.random(in: 1..<10, using: &rng) * scale.randomElement(using: &rng)!
                x = rng.next() & 1 == 0 ? magnitude : -magnitude
            }
            guard x.isFinite else { continue }
            checkShortest(x)
        }
    }

    @Test("every power of two (the asymmetric-interval case) and its neighbours")
    func powersOfTwo() {
        var x = Double.leastNonzeroMagnitude
        while x.isFinite {
            checkShortest(x)
            checkShortest(x.nextUp)
            if x > Double.leastNonzeroMagnitude { checkShortest(x.nextDown) }
            x *= 2
        }
    }

    @Test("subnormals and the 1e-3 / 1e7 edges")
    func edges() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        for _ in 0..<20_000 {
            checkShortest(Double(bitPattern: rng.next() & 0x000F_FFFF_FFFF_FFFF))  // subnormal
        }
        for c in 1...200 as ClosedRange<UInt64> { checkShortest(Double(bitPattern: c)) }
        for edge in [1e-3, 1e7, 1e-2, 1, 10, 1e6, 1e16, 1e17, 1e22, 1e23] {
            var below = edge
            var above = edge
            for _ in 0..<200 {
                checkShortest(below)
                checkShortest(above)
                below = below.nextDown
                above = above.nextUp
            }
        }
        #expect(JavaDoubleFormatter.string(1e-3) == "0.001")
        #expect(JavaDoubleFormatter.string(Double(1e7).nextDown).hasPrefix("9999999."))
    }

    @Test("integers print exactly with .0")
    func integers() {
        var rng = SplitMix64(seed: 0x5EED_0003)
        for _ in 0..<10_000 {
            let n = Int64.random(in: -9_999_999...9_999_999, using: &rng)
            #expect(JavaDoubleFormatter.string(Double(n)) == "\(n).0")
        }
    }
}
