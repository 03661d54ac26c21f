// An independent decoder of snappy's raw block format (format_description.txt), used to check the
// encoder's output. Strict: rejects offsets of 0 or before the start, and length mismatches.

struct SnappyDecodeError: Error, CustomStringConvertible {
    var description: String
}

enum SnappyReferenceDecoder {
    static func decode(_ input: [UInt8]) throws -> [UInt8] {
        var p = 0
        func byte() throws -> UInt8 {
            guard p < input.count else { throw SnappyDecodeError(description: "truncated at \(p)") }
            defer { p += 1 }
            return input[p]
        }
        var length = 0
        var shift = 0
        while true {
            let b = try byte()
            length |= Int(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        var out: [UInt8] = []
        out.reserveCapacity(length)
        while p < input.count {
            let tag = try byte()
            switch tag & 3 {
            case 0:
                var n = Int(tag >> 2)
                if n >= 60 {
                    let extra = n - 59
                    n = 0
                    for i in 0..<extra { n |= Int(try byte()) << (8 * i) }
                }
                n += 1
                guard p + n <= input.count else { throw SnappyDecodeError(description: "literal past end") }
                out += input[p..<(p + n)]
                p += n
            default:
                let n: Int
                let offset: Int
                switch tag & 3 {
                case 1:
                    n = Int((tag >> 2) & 7) + 4
                    offset = Int(tag >> 5) << 8 | Int(try byte())
                case 2:
                    n = Int(tag >> 2) + 1
                    offset = Int(try byte()) | Int(try byte()) << 8
                default:
                    n = Int(tag >> 2) + 1
                    var o = 0
                    for i in 0..<4 { o |= Int(try byte()) << (8 * i) }
                    offset = o
                }
                guard offset > 0, offset <= out.count else {
                    throw SnappyDecodeError(description: "bad copy offset \(offset) at output \(out.count)")
                }
                for _ in 0..<n { out.append(out[out.count - offset]) }
            }
        }
        guard out.count == length else {
            throw SnappyDecodeError(description: "decoded \(out.count) bytes, preamble says \(length)")
        }
        return out
    }
}
