/// A compressor for snappy's raw block format (`format_description.txt`), the form Parquet's SNAPPY
/// codec stores: a varint of the uncompressed length, then literal and copy elements. No framing,
/// no checksums.
///
/// The matcher follows the reference design: input cut into 64 KiB fragments (so every offset fits a
/// 2-byte copy), a 2^14-entry hash table of 4-byte sequences reset per fragment, and the skip
/// heuristic (after 32 misses the step between lookups grows by 1/32 per miss), which makes
/// incompressible input cost little more than a `memcpy`. Output is at most
/// ``maxCompressedLength(_:)`` bytes. Cost: O(n) time; 32 KiB of table, allocated once.
struct SnappyCompressor: ~Copyable {
    private static let maxTableBits = 14
    private static let fragmentSize = 1 << 16
    private static let inputMargin = 15

    private let table: UnsafeMutablePointer<UInt16>

    init() {
        table = .allocate(capacity: 1 << Self.maxTableBits)
    }

    deinit { table.deallocate() }

    /// Worst case output size for `n` input bytes (snappy's bound plus 16 bytes of slack that the
    /// short-literal fast path may touch).
    static func maxCompressedLength(_ n: Int) -> Int { 32 + n + n / 6 + 16 }

    /// Compresses `input` into `output`, which must have room for ``maxCompressedLength(_:)`` bytes.
    /// Returns the number of bytes written.
    func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawPointer) -> Int {
        let out = output.assumingMemoryBound(to: UInt8.self)
        var op = out
        var v = UInt64(input.count)
        while v >= 0x80 {
            op.pointee = UInt8(truncatingIfNeeded: v) | 0x80
            op += 1
            v >>= 7
        }
        op.pointee = UInt8(v)
        op += 1
        guard let base = input.baseAddress, input.count > 0 else { return op - out }
        var position = 0
        while position < input.count {
            let length = min(input.count - position, Self.fragmentSize)
            op = compressFragment(base + position, length, inputEnd: base + input.count, op)
            position += length
        }
        return op - out
    }

    @inline(__always)
    private static func load32(_ p: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(as: UInt32.self))
    }

    @inline(__always)
    private static func load64(_ p: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
    }

    @inline(__always)
    private static func hash(_ bytes: UInt32, _ shift: UInt32) -> Int {
        Int(truncatingIfNeeded: (bytes &* 0x1E35_A7BD) >> shift)
    }

    /// Compresses one fragment of at most 64 KiB. `inputEnd` bounds reads of the whole input (the
    /// short-literal fast path reads up to 16 bytes past a literal when they exist).
    private func compressFragment(
        _ src: UnsafeRawPointer,
        _ length: Int,
        inputEnd: UnsafeRawPointer,
        _ output: UnsafeMutablePointer<UInt8>
    ) -> UnsafeMutablePointer<UInt8> {
        var op = output
        var tableBits = 8
        while tableBits < Self.maxTableBits && (1 << tableBits) < length { tableBits += 1 }
        let shift = UInt32(32 - tableBits)
        let table = self.table
        table.update(repeating: 0, count: 1 << tableBits)

        var nextEmit = 0
        if length >= Self.inputMargin {
            let ipLimit = length - Self.inputMargin
            var ip = 1
            var nextHash = Self.hash(Self.load32(src + ip), shift)
            outer: while true {
                var skip: UInt32 = 32
                var nextIP = ip
                var candidate = 0
                repeat {
                    ip = nextIP
                    let h = nextHash
                    let step = Int(skip >> 5)
                    skip &+= skip >> 5
                    nextIP = ip + step
                    if nextIP > ipLimit { break outer }
                    nextHash = Self.hash(Self.load32(src + nextIP), shift)
                    candidate = Int(table[h])
                    table[h] = UInt16(truncatingIfNeeded: ip)
                } while Self.load32(src + ip) != Self.load32(src + candidate)

                op = Self.emitLiteral(op, src + nextEmit, ip - nextEmit, inputEnd: inputEnd)
                repeat {
                    let matchStart = ip
                    let matched = 4 + Self.matchLength(src + candidate + 4, src + ip + 4, limit: src + length)
                    ip += matched
                    op = Self.emitCopy(op, offset: matchStart - candidate, length: matched)
                    nextEmit = ip
                    if ip >= ipLimit { break outer }
                    table[Self.hash(Self.load32(src + ip - 1), shift)] = UInt16(truncatingIfNeeded: ip - 1)
                    let h = Self.hash(Self.load32(src + ip), shift)
                    candidate = Int(table[h])
                    table[h] = UInt16(truncatingIfNeeded: ip)
                } while Self.load32(src + ip) == Self.load32(src + candidate)
                ip += 1
                nextHash = Self.hash(Self.load32(src + ip), shift)
            }
        }
        if nextEmit < length {
            op = Self.emitLiteral(op, src + nextEmit, length - nextEmit, inputEnd: inputEnd)
        }
        return op
    }

    /// Bytes that match from `a` and `b`, reading `b` no further than `limit`.
    @inline(__always)
    private static func matchLength(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, limit: UnsafeRawPointer) -> Int {
        var matched = 0
        let available = limit - b
        while matched + 8 <= available {
            let x = load64(a + matched) ^ load64(b + matched)
            if x != 0 { return matched + x.trailingZeroBitCount >> 3 }
            matched += 8
        }
        while matched < available
            && a.load(fromByteOffset: matched, as: UInt8.self) == b.load(fromByteOffset: matched, as: UInt8.self)
        {
            matched += 1
        }
        return matched
    }

    @inline(__always)
    private static func emitLiteral(
        _ output: UnsafeMutablePointer<UInt8>,
        _ literal: UnsafeRawPointer,
        _ length: Int,
        inputEnd: UnsafeRawPointer
    ) -> UnsafeMutablePointer<UInt8> {
        var op = output
        let n = length - 1
        if n < 60 {
            op.pointee = UInt8(truncatingIfNeeded: n << 2)
            op += 1
            if length <= 16 && inputEnd - literal >= 16 {
                let raw = UnsafeMutableRawPointer(op)
                raw.storeBytes(of: literal.loadUnaligned(as: UInt64.self), as: UInt64.self)
                raw.storeBytes(
                    of: literal.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                    toByteOffset: 8,
                    as: UInt64.self
                )
                return op + length
            }
        } else {
            var byteCount = 1
            while byteCount < 4 && n >> (8 * byteCount) != 0 { byteCount += 1 }
            op.pointee = UInt8((59 + byteCount) << 2)
            op += 1
            for i in 0..<byteCount {
                op[i] = UInt8(truncatingIfNeeded: n >> (8 * i))
            }
            op += byteCount
        }
        UnsafeMutableRawPointer(op).copyMemory(from: literal, byteCount: length)
        return op + length
    }

    @inline(__always)
    private static func emitCopy(
        _ output: UnsafeMutablePointer<UInt8>,
        offset: Int,
        length: Int
    )
        -> UnsafeMutablePointer<UInt8>
    {
        var op = output
        var remaining = length
        while remaining >= 68 {
            op = emitCopyAtMost64(op, offset: offset, length: 64)
            remaining -= 64
        }
        if remaining > 64 {
            op = emitCopyAtMost64(op, offset: offset, length: 60)
            remaining -= 60
        }
        return emitCopyAtMost64(op, offset: offset, length: remaining)
    }

    @inline(__always)
    private static func emitCopyAtMost64(
        _ output: UnsafeMutablePointer<UInt8>,
        offset: Int,
        length: Int
    )
        -> UnsafeMutablePointer<UInt8>
    {
        if length < 12 && offset < 2048 {
            output[0] = UInt8(truncatingIfNeeded: 1 | ((length - 4) << 2) | ((offset >> 8) << 5))
            output[1] = UInt8(truncatingIfNeeded: offset)
            return output + 2
        }
        output[0] = UInt8(truncatingIfNeeded: 2 | ((length - 1) << 2))
        output[1] = UInt8(truncatingIfNeeded: offset)
        output[2] = UInt8(truncatingIfNeeded: offset >> 8)
        return output + 3
    }
}
