import ExportCore
import Testing

@testable import ExportParquet

@Suite struct SnappyCompressorTests {
    func compress(_ input: [UInt8]) -> [UInt8] {
        let compressor = SnappyCompressor()
        var out = [UInt8](repeating: 0, count: SnappyCompressor.maxCompressedLength(input.count))
        let n = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { compressor.compress(src, into: $0.baseAddress!) }
        }
        #expect(n <= SnappyCompressor.maxCompressedLength(input.count) - 16, "within snappy's own bound")
        return Array(out.prefix(n))
    }

    func roundTrip(_ input: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
        let compressed = compress(input)
        let decoded = try SnappyReferenceDecoder.decode(compressed)
        #expect(decoded == input, sourceLocation: sourceLocation)
        return compressed
    }

    @Test func tinyInputsAreLiterals() throws {
        #expect(try roundTrip([]) == [0x00])
        #expect(try roundTrip([0x61]) == [0x01, 0x00, 0x61])
        let fourteen = Array("abcdefghijklmn".utf8)
        #expect(try roundTrip(fourteen) == [0x0E, 0x34] + fourteen)
    }

    @Test func repetitiveInputUsesCopies() throws {
        let zeros = [UInt8](repeating: 0, count: 200_000)
        let c = try roundTrip(zeros)
        #expect(c.count < 10_000)
        let text = Array(String(repeating: "item_000123,2023-01-01T00:00:00Z,12.5\n", count: 5000).utf8)
        let t = try roundTrip(text)
        #expect(t.count < text.count / 10)
    }

    @Test func literalLengthEncodings() throws {
        var generator = SplitMix64(seed: 7)
        // Lengths that need 0, 1, 2 and 3 extra length bytes, and inputs spanning 64 KiB fragments.
        for n in [59, 60, 61, 255, 256, 257, 65_535, 65_536, 65_537, 70_000, 200_003] {
            let random = (0..<n).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try roundTrip(random)
        }
    }

    @Test func mixedDataRoundTrips() throws {
        var generator = SplitMix64(seed: 99)
        for trial in 0..<40 {
            var input: [UInt8] = []
            let size = Int(generator.next() % 300_000)
            while input.count < size {
                switch generator.next() % 4 {
                case 0:
                    input += (0..<Int(generator.next() % 100)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                case 1 where !input.isEmpty:
                    let start = Int(generator.next() % UInt64(input.count))
                    let length = min(Int(generator.next() % 500), input.count - start)
                    input += input[start..<(start + length)]
                case 2:
                    input += repeatElement(
                        UInt8(truncatingIfNeeded: generator.next()),
                        count: Int(generator.next() % 300)
                    )
                default:
                    var d = Double(generator.next() % 10_000) / 7
                    input += withUnsafeBytes(of: &d) { Array($0) }
                }
            }
            let compressed = compress(input)
            #expect(try SnappyReferenceDecoder.decode(compressed) == input, "trial \(trial)")
        }
    }

    @Test func fullPrecisionDoublesStayNearTheirSize() throws {
        var generator = SplitMix64(seed: 3)
        var doubles = [UInt8]()
        for _ in 0..<100_000 {
            var d = Double(generator.next() % 1_000_000_000) / 1_234_567.0
            doubles += withUnsafeBytes(of: &d) { Array($0) }
        }
        let c = try roundTrip(doubles)
        #expect(c.count <= doubles.count + doubles.count / 50)
    }
}
