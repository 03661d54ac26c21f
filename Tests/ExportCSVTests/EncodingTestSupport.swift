import ExportCSV
import ExportCore
import NIOCore

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
