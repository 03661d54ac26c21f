import ExportCore
import Testing

@testable import ExportParquet

/// An independent decoder of the RLE / bit-packed hybrid, for round trips.
enum RLEHybridReferenceDecoder {
    static func decode(_ bytes: [UInt8], bitWidth: Int, count: Int) -> [UInt32]? {
        var p = 0
        var out: [UInt32] = []
        func varint() -> UInt64? {
            var r: UInt64 = 0
            var s: UInt64 = 0
            while p < bytes.count {
                let b = bytes[p]
                p += 1
                r |= UInt64(b & 0x7F) << s
                if b & 0x80 == 0 { return r }
                s += 7
            }
            return nil
        }
        while out.count < count {
            guard let header = varint() else { return nil }
            if header & 1 == 0 {
                let n = Int(header >> 1)
                let valueBytes = (bitWidth + 7) / 8
                guard n > 0, p + valueBytes <= bytes.count else { return nil }
                var v: UInt32 = 0
                for i in 0..<valueBytes { v |= UInt32(bytes[p + i]) << (8 * UInt32(i)) }
                p += valueBytes
                out += repeatElement(v, count: n)
            } else {
                let groups = Int(header >> 1)
                guard p + groups * bitWidth <= bytes.count else { return nil }
                var bit = 0
                for _ in 0..<(groups * 8) {
                    var v: UInt32 = 0
                    for b in 0..<bitWidth {
                        let absolute = bit + b
                        if bytes[p + absolute / 8] >> (absolute % 8) & 1 == 1 { v |= 1 << UInt32(b) }
                    }
                    bit += bitWidth
                    out.append(v)
                }
                p += groups * bitWidth
            }
        }
        guard p == bytes.count else { return nil }
        return Array(out.prefix(count))
    }
}

@Suite struct RLEHybridEncoderTests {
    func encode(_ values: [UInt32], bitWidth: Int) -> [UInt8] {
        var out = RawBuffer()
        values.withUnsafeBufferPointer { RLEHybridEncoder.encode($0, bitWidth: bitWidth, into: &out) }
        return Array(out.bytes)
    }

    @Test func specExampleBitPacksZeroToSevenAtWidthThree() {
        #expect(encode(Array(0..<8), bitWidth: 3) == [0x03, 0x88, 0xC6, 0xFA])
    }

    @Test func shortLevelVectorsArePaddedBitPackedRuns() {
        #expect(encode([1, 0, 1, 1], bitWidth: 1) == [0x03, 0x0D])
        // pyarrow's encoding of 10 levels with every 4th row null.
        #expect(encode([0, 1, 1, 1, 0, 1, 1, 1, 0, 1], bitWidth: 1) == [0x05, 0xEE, 0x02])
    }

    @Test func longRunIsOneRLERun() {
        #expect(encode(Array(repeating: 1, count: 1000), bitWidth: 1) == [0xD0, 0x0F, 0x01])
        // Width 9 stores the run value in two bytes.
        #expect(encode(Array(repeating: 300, count: 8), bitWidth: 9) == [0x10, 0x2C, 0x01])
        var single = RawBuffer()
        RLEHybridEncoder.appendRun(value: 1, count: 20_000, bitWidth: 1, into: &single)
        #expect(Array(single.bytes) == [0xC0, 0xB8, 0x02, 0x01])
    }

    @Test func runAfterUnalignedLiteralsBorrowsToCompleteTheGroup() {
        // 3 literals + 12 zeros: borrowing 5 zeros leaves 7, too short for a run: all bit-packed, 2 groups.
        #expect(encode([1, 2, 3] + Array(repeating: 0, count: 12), bitWidth: 2) == [0x05, 0x39, 0x00, 0x00, 0x00])
        // 3 literals + 13 zeros: one bit-packed group (1,2,3,0,0,0,0,0), then an RLE run of 8 zeros.
        #expect(encode([1, 2, 3] + Array(repeating: 0, count: 13), bitWidth: 2) == [0x03, 0x39, 0x00, 0x10, 0x00])
        // Aligned literals: 8 values then a run of 9 sevens at width 3.
        #expect(
            encode(Array(0..<8) + Array(repeating: 7, count: 9), bitWidth: 3) == [0x03, 0x88, 0xC6, 0xFA, 0x12, 0x07]
        )
    }

    @Test func bitWidthForDictionaries() {
        #expect(RLEHybridEncoder.bitWidth(forEntryCount: 1) == 1)
        #expect(RLEHybridEncoder.bitWidth(forEntryCount: 2) == 1)
        #expect(RLEHybridEncoder.bitWidth(forEntryCount: 3) == 2)
        #expect(RLEHybridEncoder.bitWidth(forEntryCount: 256) == 8)
        #expect(RLEHybridEncoder.bitWidth(forEntryCount: 257) == 9)
        #expect(RLEHybridEncoder.bitWidth(forEntryCount: 70_000) == 17)
    }

    @Test(arguments: [1, 2, 3, 5, 8, 9, 13, 17, 24, 31, 32])
    func randomMixturesRoundTrip(bitWidth: Int) {
        var generator = SplitMix64(seed: UInt64(bitWidth))
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
        for trial in 0..<50 {
            var values: [UInt32] = []
            let target = Int(generator.next() % 3000)
            while values.count < target {
                let v = UInt32(generator.next() & mask)
                let run = generator.next() % 4 == 0 ? Int(generator.next() % 40) + 1 : 1
                values += repeatElement(v, count: run)
            }
            let bytes = encode(values, bitWidth: bitWidth)
            let decoded = RLEHybridReferenceDecoder.decode(bytes, bitWidth: bitWidth, count: values.count)
            #expect(decoded == values, "width \(bitWidth) trial \(trial)")
        }
    }
}
