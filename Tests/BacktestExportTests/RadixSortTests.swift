import Testing

@testable import BacktestExport

/// The grouper's radix sort against the standard library's stable sort, on one thread and on
/// two, with key digits of every kind (random, constant, few values).
@Suite struct RadixSortTests {
    /// Values whose bits `20 ..< 20 + keyBits` are the key and whose low 20 bits are the position.
    static func values(count: Int, keyBits: Int, distinctKeys: Int, seed: UInt64) -> [UInt64] {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let keys = (0..<distinctKeys).map { _ in next() & ((1 << UInt64(keyBits)) - 1) }
        // A high bit above the key that the sort must not look at.
        return (0..<count).map { i in
            (1 << 63) | keys[Int(next() % UInt64(distinctKeys))] << 20 | UInt64(i)
        }
    }

    @Test(
        "sorts stably by the key bits only",
        arguments: [
            (100_000, 21, 100_000), (100_000, 30, 7), (70_000, 11, 1), (1_000, 23, 50), (2, 5, 2),
        ],
        [1, 2]
    )
    func matchesAStableSort(shape: (count: Int, keyBits: Int, distinctKeys: Int), threads: Int) {
        let input = Self.values(count: shape.count, keyBits: shape.keyBits, distinctKeys: shape.distinctKeys, seed: 7)
        let mask: UInt64 = (1 << UInt64(shape.keyBits)) - 1
        // Stable: equal keys keep their positions (the low bits) in order.
        let expected = input.sorted { a, b in
            let (ka, kb) = ((a >> 20) & mask, (b >> 20) & mask)
            return ka != kb ? ka < kb : (a & 0xFFFFF) < (b & 0xFFFFF)
        }
        var sorted = input
        RowBuffer.radixSort(&sorted, fromBit: 20, bitCount: shape.keyBits, threads: threads)
        #expect(sorted == expected)
    }
}
