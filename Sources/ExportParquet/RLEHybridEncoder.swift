/// Parquet's RLE / bit-packing hybrid encoding (Encodings.md), used for definition levels and for
/// dictionary indices.
///
/// Runs of 8 or more equal values become RLE runs (`varint(count << 1)` then the value in
/// `ceil(bitWidth / 8)` little-endian bytes); everything else is bit-packed LSB-first in groups of 8
/// (`varint(groups << 1 | 1)` then `groups * bitWidth` bytes). When a long run starts while the pending
/// literal count is not a multiple of 8, the first values of the run complete the literal group, so only
/// the last bit-packed run of a stream is ever padded (with zeros). Cost: one pass over the values,
/// output written straight into the destination buffer.
enum RLEHybridEncoder {
    /// Appends the encoding of `values` (each < 2^bitWidth) to `out`; no length prefix.
    static func encode<T: FixedWidthInteger & UnsignedInteger>(
        _ values: UnsafeBufferPointer<T>,
        bitWidth: Int,
        into out: inout RawBuffer
    ) {
        precondition(bitWidth >= 1 && bitWidth <= 32, "bit width must be 1…32")
        let n = values.count
        var literalStart = 0
        var i = 0
        while i < n {
            let v = values[i]
            var j = i + 1
            while j < n && values[j] == v { j += 1 }
            let run = j - i
            if run >= 8 {
                let pending = i - literalStart
                let borrow = pending % 8 == 0 ? 0 : 8 - pending % 8
                if run - borrow >= 8 {
                    if pending + borrow > 0 {
                        bitPack(values, literalStart..<(i + borrow), bitWidth: bitWidth, into: &out)
                    }
                    appendRun(value: UInt32(truncatingIfNeeded: v), count: run - borrow, bitWidth: bitWidth, into: &out)
                    literalStart = j
                }
            }
            i = j
        }
        if literalStart < n {
            bitPack(values, literalStart..<n, bitWidth: bitWidth, into: &out)
        }
    }

    /// Appends one RLE run of `count` (≥ 1) copies of `value`.
    static func appendRun(value: UInt32, count: Int, bitWidth: Int, into out: inout RawBuffer) {
        precondition(count >= 1 && count <= Int(Int32.max), "RLE run length out of range")
        appendVarint(UInt64(count) << 1, into: &out)
        let valueBytes = (bitWidth + 7) / 8
        var v = value
        for _ in 0..<valueBytes {
            out.append(byte: UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    /// Bit-packs `values[range]` as one run, padding the last group of 8 with zeros.
    static func bitPack<T: FixedWidthInteger & UnsignedInteger>(
        _ values: UnsafeBufferPointer<T>,
        _ range: Range<Int>,
        bitWidth: Int,
        into out: inout RawBuffer
    ) {
        let groups = (range.count + 7) / 8
        appendVarint(UInt64(groups) << 1 | 1, into: &out)
        let byteCount = groups * bitWidth
        let p = out.reserve(byteCount + 8)
        // Bits gather in a 64-bit accumulator and leave it 32 at a time (one store per 32 bits,
        // not one per byte); bitWidth ≤ 32 keeps the accumulator's bits below 64.
        let width = UInt64(bitWidth)
        var accumulator: UInt64 = 0
        var bits: UInt64 = 0
        var written = 0
        let padded = range.lowerBound + groups * 8
        var k = range.lowerBound
        while k < padded {
            let v: UInt64 = k < range.upperBound ? UInt64(truncatingIfNeeded: values[k]) : 0
            accumulator |= v &<< bits
            bits &+= width
            if bits >= 32 {
                p.storeBytes(
                    of: UInt32(truncatingIfNeeded: accumulator).littleEndian,
                    toByteOffset: written,
                    as: UInt32.self
                )
                written &+= 4
                accumulator &>>= 32
                bits &-= 32
            }
            k += 1
        }
        // 8 values of bitWidth bits are whole bytes: what is left is whole bytes too.
        while bits > 0 {
            p.storeBytes(of: UInt8(truncatingIfNeeded: accumulator), toByteOffset: written, as: UInt8.self)
            written &+= 1
            accumulator &>>= 8
            bits &-= 8
        }
        precondition(written == byteCount, "bit-packed group size mismatch")
        out.commit(byteCount)
    }

    /// Appends a ULEB128 varint.
    @inline(__always)
    static func appendVarint(_ value: UInt64, into out: inout RawBuffer) {
        var v = value
        while v >= 0x80 {
            out.append(byte: UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(byte: UInt8(v))
    }

    /// Bytes of `appendVarint(value)`.
    static func varintSize(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    /// The bit width for dictionary indices `0..<entryCount`: at least 1.
    static func bitWidth(forEntryCount entryCount: Int) -> Int {
        entryCount <= 2 ? 1 : (Int.bitWidth - (entryCount - 1).leadingZeroBitCount)
    }
}
