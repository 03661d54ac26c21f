/// Decompresses snappy's raw block format (`format_description.txt`), the form Parquet's SNAPPY
/// pages hold: a varint of the uncompressed length, then literals and back-references.
///
/// Every length and offset is checked against the input and the output, so corrupt or hostile
/// data gives an error, never a read or write out of bounds. Copies whose source is at least 8
/// bytes behind are done 8 bytes at a time; overlapping ones (runs) byte by byte. Cost: O(n), no
/// allocation.
enum SnappyDecompressor {
    /// The uncompressed length the block declares.
    static func uncompressedLength(_ input: UnsafeRawBufferPointer) throws(ParquetFormatError) -> Int {
        var position = 0
        return try varint(input, &position)
    }

    /// Decompresses `input` into `output`, whose size must be exactly the declared length.
    static func decompress(
        _ input: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(ParquetFormatError) {
        var ip = 0
        let declared = try varint(input, &ip)
        guard declared == output.count else {
            throw ParquetFormatError(
                "snappy data declares \(declared) bytes where the page header says \(output.count)"
            )
        }
        guard let src = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            if declared == 0 { return }
            throw ParquetFormatError("snappy data is empty")
        }
        let inEnd = input.count
        let out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let outEnd = output.count
        var op = 0
        while ip < inEnd {
            let tag = src[ip]
            ip += 1
            var length: Int
            var offset: Int
            switch tag & 3 {
            case 0:
                length = Int(tag >> 2)
                if length >= 60 {
                    let extra = length - 59
                    guard inEnd - ip >= extra else { throw corrupt }
                    length = 0
                    for k in 0..<extra { length |= Int(src[ip + k]) << (8 * k) }
                    ip += extra
                }
                length += 1
                guard inEnd - ip >= length, outEnd - op >= length, let out else { throw corrupt }
                (out + op).update(from: src + ip, count: length)
                ip += length
                op += length
                continue
            case 1:
                guard ip < inEnd else { throw corrupt }
                length = 4 + Int((tag >> 2) & 7)
                offset = Int(tag >> 5) << 8 | Int(src[ip])
                ip += 1
            case 2:
                guard inEnd - ip >= 2 else { throw corrupt }
                length = 1 + Int(tag >> 2)
                offset = Int(src[ip]) | Int(src[ip + 1]) << 8
                ip += 2
            default:
                guard inEnd - ip >= 4 else { throw corrupt }
                length = 1 + Int(tag >> 2)
                offset = Int(src[ip]) | Int(src[ip + 1]) << 8 | Int(src[ip + 2]) << 16 | Int(src[ip + 3]) << 24
                ip += 4
            }
            guard offset > 0, offset <= op, outEnd - op >= length, let out else { throw corrupt }
            var from = out + (op - offset)
            var to = out + op
            op += length
            if offset >= 8 {
                while length >= 8 {
                    UnsafeMutableRawPointer(to).storeBytes(
                        of: UnsafeRawPointer(from).loadUnaligned(as: UInt64.self),
                        as: UInt64.self
                    )
                    from += 8
                    to += 8
                    length -= 8
                }
            }
            while length > 0 {
                to.pointee = from.pointee
                from += 1
                to += 1
                length -= 1
            }
        }
        guard op == outEnd else {
            throw ParquetFormatError("snappy data ends after \(op) of its \(outEnd) bytes (truncated or corrupt)")
        }
    }

    private static var corrupt: ParquetFormatError {
        ParquetFormatError("the snappy data is corrupt (a length or offset points outside the page)")
    }

    private static func varint(_ input: UnsafeRawBufferPointer, _ position: inout Int) throws(ParquetFormatError) -> Int
    {
        var result = 0
        var shift = 0
        while true {
            guard position < input.count, shift <= 28 else {
                throw ParquetFormatError("the snappy length header is corrupt")
            }
            let b = input[position]
            position += 1
            result |= Int(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }
}
