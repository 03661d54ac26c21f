/// The Eisel–Lemire algorithm: the correctly rounded double nearest to `mantissa · 10^exponent10`,
/// or nil in the rare cases it cannot decide (the caller then falls back to an exact parser).
///
/// A port of Go's `strconv.eiselLemire64` (Daniel Lemire, "Number Parsing at a Gigabyte per
/// Second", 2021). `mantissa` must be exact (at most 19 significant digits) and non-zero.
/// Cost: one or two 64×64→128-bit multiplications and a table lookup; no allocation.
@inline(__always)
func eiselLemire(mantissa: UInt64, exponent10: Int, negative: Bool) -> Double? {
    guard exponent10 >= -348 && exponent10 <= 347 else { return nil }
    let leadingZeros = mantissa.leadingZeroBitCount
    let man = mantissa << UInt64(leadingZeros)
    var exponent2 = UInt64(bitPattern: Int64(((217_706 &* exponent10) >> 16) + 64 + 1023)) &- UInt64(leadingZeros)

    let tableIndex = 2 &* (exponent10 &+ 348)
    let (powerHigh, powerLow) = eiselLemirePowersOfTen.withUnsafeBufferPointer { table in
        (table[tableIndex], table[tableIndex &+ 1])
    }
    var (xHigh, xLow) = man.multipliedFullWidth(by: powerHigh)

    // Wider approximation when the low bits could carry into the result.
    if xHigh & 0x1FF == 0x1FF && xLow &+ man < man {
        let (yHigh, yLow) = man.multipliedFullWidth(by: powerLow)
        var mergedHigh = xHigh
        let mergedLow = xLow &+ yHigh
        if mergedLow < xLow { mergedHigh &+= 1 }
        if mergedHigh & 0x1FF == 0x1FF && mergedLow &+ 1 == 0 && yLow &+ man < man { return nil }
        xHigh = mergedHigh
        xLow = mergedLow
    }

    // Shift to 54 bits.
    let msb = xHigh >> 63
    var resultMantissa = xHigh >> (msb &+ 9)
    exponent2 &-= 1 ^ msb

    // Half-way ambiguity.
    if xLow == 0 && xHigh & 0x1FF == 0 && resultMantissa & 3 == 1 { return nil }

    // From 54 to 53 bits, rounding to even.
    resultMantissa &+= resultMantissa & 1
    resultMantissa >>= 1
    if resultMantissa >> 53 > 0 {
        resultMantissa >>= 1
        exponent2 &+= 1
    }
    // Subnormal, zero, infinity: leave to the exact parser.
    if exponent2 &- 1 >= 0x7FF - 1 { return nil }
    var bits = exponent2 << 52 | resultMantissa & 0x000F_FFFF_FFFF_FFFF
    if negative { bits |= 0x8000_0000_0000_0000 }
    return Double(bitPattern: bits)
}
