/// A running sum of doubles that keeps the rounding error of every addition (Knuth's TwoSum) in
/// a second double, so the total is good to about 2⁻¹⁰⁶ of the sum of magnitudes instead of
/// n·2⁻⁵³.
///
/// Why: the metrics must not depend on the order in which rows arrive (shuffled input, other
/// batch sizes). With the error kept, `value` is the correctly rounded exact sum except when that
/// sum lies within about n·2⁻¹⁰⁶ of a rounding boundary, so in practice any order gives the same
/// bits. Costs 16 bytes and four extra flops per addition. Infinities propagate (∞ + finite = ∞,
/// ∞ − ∞ = NaN) as in plain summation.
@usableFromInline
struct CompensatedSum: Sendable {
    @usableFromInline var high: Double = 0
    @usableFromInline var low: Double = 0

    @inlinable
    init() {}

    @inlinable @inline(__always)
    mutating func add(_ x: Double) {
        let s = high + x
        guard s.isFinite else {
            high = s
            low = 0
            return
        }
        let bp = s - high
        low += (high - (s - bp)) + (x - bp)
        high = s
    }

    @inlinable
    mutating func add(_ other: CompensatedSum) {
        add(other.high)
        if high.isFinite { low += other.low }
    }

    /// The sum, rounded once.
    @inlinable
    var value: Double { high.isFinite ? high + low : high }
}
