import ExportCSV
import ExportCore
import NIOCore

/// SplitMix64: a small deterministic generator, so that a failing random case reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ByteBuffer {
    var text: String { String(decoding: readableBytesView, as: UTF8.self) }
}

/// Everything an encoder produces: the chunks taken after each append, then finish().
func encodeAll<Batch: ColumnarBatch>(
    _ encoder: inout CSVEncoder,
    _ appends: [(Batch, Range<Int>)]
) throws -> (bytes: [UInt8], chunks: [Int]) {
    var bytes: [UInt8] = []
    var chunks: [Int] = []
    for (batch, rows) in appends {
        try encoder.append(batch, rows: rows)
        while let chunk = encoder.takeReadyBytes() {
            chunks.append(chunk.readableBytes)
            bytes.append(contentsOf: chunk.readableBytesView)
        }
    }
    let last = try encoder.finish()
    bytes.append(contentsOf: last.readableBytesView)
    return (bytes, chunks)
}

/// Epoch milliseconds of a UTC civil time.
func millis(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Int64 {
    CivilTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s).epochSeconds * 1000
}
