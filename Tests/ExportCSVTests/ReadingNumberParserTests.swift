import Foundation
import Testing

@testable import ExportCSV

#if canImport(Glibc)
import Glibc
#endif

/// The number parser against two independent correctly rounded parsers: the C library's
/// `strtod` and Swift's `Double(String)`.
@Suite("Reading numbers")
struct ReadingNumberParserTests {
    func parse(_ text: String) -> Double? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { CSVNumberParser.parseDouble(UnsafeBufferPointer($0)) }
    }

    func oracle(_ text: String) -> Double {
        let viaStrtod = text.withCString { strtod($0, nil) }
        if let swift = Double(text) {
            #expect(
                swift.bitPattern == viaStrtod.bitPattern || (swift.isNaN && viaStrtod.isNaN),
                "oracles agree on \(text)"
            )
        }
        return viaStrtod
    }

    func check(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let got = parse(text)
        let want = oracle(text)
        #expect(
            got?.bitPattern == want.bitPattern,
            "\(text): got \(got.map { "\($0)" } ?? "nil"), want \(want)",
            sourceLocation: sourceLocation
        )
    }

    @Test("hard cases: halfway points, subnormals, limits, long mantissas")
    func hardCases() {
        let cases = [
            "0", "-0", "0.0", "-0.0", "1", "-1", "+1", "1.", ".5", "-.5", "0.1", "0.2", "0.3", "1e23", "1E23",
            "9007199254740992", "9007199254740993", "9007199254740995", "18014398509481985",
            "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309", "-1e400",
            "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400",
            "0.08422470160000001", "2.295408381527212E-4", "1.0E7", "123456789012345678901234567890",
            "0.000000000000000000000000000001234567890123456789",
            "1.00000000000000011102230246251565404236316680908203125",
            "1.00000000000000011102230246251565404236316680908203124", "7.3177701707893310e+15",
            "89255.0e-22", "1.448997445238699", "3.0e-5", "1234567890123456789", "12345678901234567890",
            "0.1e-22", "1e22", "1e-22", "4503599627370496.5", "4503599627370497.5", "00000000000000000000001.5",
            "1.5e+000010", "5e-324", "0.000001", "1000000.0000001",
        ]
        for text in cases { check(text) }
    }

    @Test("random doubles printed shortest and with 17 and 20 significant digits round-trip")
    func randomDoubles() {
        var state: UInt64 = 42
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let value = Double(bitPattern: state)
            guard value.isFinite else { continue }
            let shortest = "\(value)"
            #expect(parse(shortest)?.bitPattern == value.bitPattern, "\(shortest)")
            check(String(format: "%.17g", value))
            check(String(format: "%.19e", value))
            check(String(format: "%.3f", value))
        }
    }

    @Test("random decimal strings of 1 to 25 digits and exponents from -350 to 350")
    func randomDecimals() {
        var state: UInt64 = 7
        func next(_ bound: UInt64) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % bound)
        }
        for _ in 0..<50_000 {
            let digits = 1 + next(25)
            var text = next(2) == 0 ? "" : "-"
            let point = next(UInt64(digits + 1))
            for k in 0..<digits {
                if k == point && k > 0 { text += "." }
                text += String(next(10))
            }
            if next(3) != 0 { text += "e\(next(701) - 350)" }
            check(text)
        }
    }

    @Test("special values in any case, with a sign")
    func specials() {
        #expect(parse("NaN")?.isNaN == true)
        #expect(parse("nan")?.isNaN == true)
        #expect(parse("-nan")?.isNaN == true)
        #expect(parse("Infinity") == .infinity)
        #expect(parse("-Infinity") == -.infinity)
        #expect(parse("+Infinity") == .infinity)
        #expect(parse("INF") == .infinity)
        #expect(parse("-inf") == -.infinity)
        #expect(parse("iNfInItY") == .infinity)
    }

    @Test(
        "rejects what is not a decimal number",
        arguments: [
            "", "-", "+", ".", "-.", "e5", "1e", "1e+", "1.2.3", "1..2", "--1", "+-1", " 1", "1 ", "0x1p3", "1,5",
            "infinit", "infinityy", "nana", "1e5.5", "١", "1_000", "Inf1", "NaN0",
        ]
    )
    func rejects(text: String) {
        #expect(parse(text) == nil)
    }
}
