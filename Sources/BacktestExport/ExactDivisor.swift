/// Division by a fixed divisor of numbers known or tested to be its multiples, without a
/// division instruction: `d = odd · 2^shift`, and multiplying by the inverse of `odd` modulo
/// 2^64 undoes a multiplication by it (Granlund and Montgomery). Two multiplications and a
/// shift, where a 64-bit division costs tens of cycles.
struct ExactDivisor {
    let divisor: UInt64
    let shift: UInt64
    let inverse: UInt64
    /// The largest quotient: `x · inverse` is at most this exactly when `odd` divides `x`.
    let limit: UInt64

    init(_ divisor: UInt64) {
        precondition(divisor > 0)
        self.divisor = divisor
        shift = UInt64(divisor.trailingZeroBitCount)
        let odd = divisor >> shift
        // Newton's iteration doubles the correct low bits each step: 3, 6, 12, 24, 48, 96.
        var inverse = odd
        for _ in 0..<5 { inverse = inverse &* (2 &- odd &* inverse) }
        self.inverse = inverse
        limit = UInt64.max / odd
    }

    /// `x / divisor` for a multiple `x` of the divisor.
    @inline(__always)
    func quotient(ofMultiple x: UInt64) -> UInt64 { (x >> shift) &* inverse }

    /// Whether the divisor divides `x`.
    @inline(__always)
    func divides(_ x: UInt64) -> Bool {
        x & ((1 << shift) &- 1) == 0 && (x >> shift) &* inverse <= limit
    }
}
