import Testing

@testable import BacktestExport

/// The grouper's division of times by their common step, without a division instruction.
@Suite struct ExactDivisorTests {
    /// Divisors of every shape: one, odd, powers of two, even with an odd part, a day in
    /// milliseconds, and the extremes.
    static let divisors: [UInt64] = [
        1, 2, 3, 7, 10, 64, 1 << 63, 1_000, 3_600_000, 86_400_000, 604_800_000, (1 << 63) + 1, .max,
    ]

    @Test("the quotient of a multiple is exact", arguments: divisors)
    func quotientOfMultiples(divisor: UInt64) {
        let exact = ExactDivisor(divisor)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let quotient = UInt64.random(in: 0...(UInt64.max / divisor), using: &generator)
            #expect(exact.quotient(ofMultiple: quotient &* divisor) == quotient)
            #expect(exact.divides(quotient &* divisor))
        }
    }

    @Test("divides says yes exactly for multiples", arguments: divisors)
    func dividesMatchesTheRemainder(divisor: UInt64) {
        let exact = ExactDivisor(divisor)
        var generator = SystemRandomNumberGenerator()
        let near: [UInt64] = [0, 1, divisor, divisor &- 1, divisor &+ 1, divisor &* 2, divisor &* 2 &+ 1]
        let random = (0..<2_000).map { _ in UInt64.random(in: 0...UInt64.max, using: &generator) }
        for x in near + random {
            #expect(exact.divides(x) == (x % divisor == 0), "\(x) by \(divisor)")
        }
    }
}
