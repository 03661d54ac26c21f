/// Decodes Parquet's RLE / bit-packing hybrid (`Encodings.md`): the form of definition levels and
/// dictionary indices. Runs are `varint header` then either one repeated value (`header & 1 == 0`,
/// `header >> 1` copies, the value in ⌈width/8⌉ little-endian bytes) or `header >> 1` groups of 8
/// bit-packed values (LSB first).
///
/// Reads are bounds-checked; a final bit-packed group whose padding bytes were left out is read as
/// far as its bytes go. Values wider than the bit width, or fewer values than asked for, are errors.
enum RLEHybridDecoder {
    /// Decodes `count` values of `bitWidth` (0…32) bits from `bytes` into `out`. Returns the bytes used.
    @discardableResult
    static func decode(
        _ bytes: UnsafeRawBufferPointer,
        bitWidth: Int,
        count: Int,
        into out: UnsafeMutablePointer<UInt32>
    ) throws(ParquetFormatError) -> Int {
        guard bitWidth >= 0 && bitWidth <= 32 else {
            throw ParquetFormatError("RLE bit width \(bitWidth) is out of range")
        }
        let src = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let end = bytes.count
        let byteWidth = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
        var p = 0
        var n = 0
        while n < count {
            guard let src else { throw ParquetFormatError("RLE data ends before its \(count) values") }
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard p < end, shift < 64 else { throw ParquetFormatError("RLE data ends before its \(count) values") }
                let b = src[p]
                p += 1
                header |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
            }
            if header & 1 == 0 {
                let run = Int(clamping: header >> 1)
                guard run > 0 else { throw ParquetFormatError("an RLE run has length 0") }
                guard end - p >= byteWidth else { throw ParquetFormatError("RLE data ends inside a run") }
                var value: UInt64 = 0
                for k in 0..<byteWidth { value |= UInt64(src[p + k]) << UInt64(8 * k) }
                p += byteWidth
                guard value <= mask else { throw ParquetFormatError("an RLE value is wider than \(bitWidth) bits") }
                let take = min(run, count - n)
                (out + n).initialize(repeating: UInt32(value), count: take)
                n += take
            } else {
                let groups = Int(clamping: header >> 1)
                guard groups > 0 else { throw ParquetFormatError("a bit-packed run has no groups") }
                let values = groups.multipliedReportingOverflow(by: 8)
                guard !values.overflow else { throw ParquetFormatError("a bit-packed run is too long") }
                let runBytes = min(groups * bitWidth, end - p)
                let available = bitWidth == 0 ? values.partialValue : runBytes * 8 / bitWidth
                let take = min(values.partialValue, count - n, available)
                guard take > 0 || count - n == 0 else {
                    throw ParquetFormatError("RLE data ends inside a bit-packed run")
                }
                if bitWidth == 0 {
                    (out + n).initialize(repeating: 0, count: take)
                } else {
                    unpack(src + p, byteCount: runBytes, bitWidth: bitWidth, mask: mask, count: take, into: out + n)
                }
                p += runBytes
                n += take
            }
        }
        return p
    }

    @inline(__always)
    private static func unpack(
        _ src: UnsafePointer<UInt8>,
        byteCount: Int,
        bitWidth: Int,
        mask: UInt64,
        count: Int,
        into out: UnsafeMutablePointer<UInt32>
    ) {
        var bit = 0
        for i in 0..<count {
            let byte = bit >> 3
            let word: UInt64
            if byte + 8 <= byteCount {
                word = UInt64(littleEndian: UnsafeRawPointer(src + byte).loadUnaligned(as: UInt64.self))
            } else {
                var w: UInt64 = 0
                var k = 0
                while byte + k < byteCount && k < 8 {
                    w |= UInt64(src[byte + k]) << UInt64(8 * k)
                    k += 1
                }
                word = w
            }
            out[i] = UInt32(truncatingIfNeeded: (word >> UInt64(bit & 7)) & mask)
            bit += bitWidth
        }
    }
}
