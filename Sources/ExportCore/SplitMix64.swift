#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// SplitMix64: a tiny, fast, seedable random number generator. The same seed gives the same
/// sequence on every machine, which is what the sample generator, the tests and the benchmarks
/// need (not suitable for anything secret).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// The second value of the last Box–Muller pair.
    private var spare: Double?

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1) with 53 random bits.
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A double in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }

    /// A standard normal double (Box–Muller, both values of each pair used).
    public mutating func normal() -> Double {
        if let value = spare {
            spare = nil
            return value
        }
        let u1 = 1 - unit()
        let u2 = unit()
        let r = (-2 * log(u1)).squareRoot()
        spare = r * sin(2 * Double.pi * u2)
        return r * cos(2 * Double.pi * u2)
    }
}
