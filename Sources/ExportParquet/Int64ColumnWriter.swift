import ExportCore

/// Builds the column chunks of one REQUIRED INT64 column (the UTC millisecond timestamps): PLAIN
/// values, no levels, data pages v1. Statistics: signed min/max, `null_count` 0.
///
/// Values are copied from the batch with one `memcpy` per page slice; the min/max scan is one
/// branch-free pass.
final class Int64ColumnWriter {
    let name: String
    private let limits: ParquetFormat.Limits
    private(set) var chunk: ColumnChunkBuffer
    private var page: RawBuffer
    private var pageRows = 0
    private var minimum = Int64.max
    private var maximum = Int64.min
    private var rowCount = 0

    init(name: String, limits: ParquetFormat.Limits) {
        self.name = name
        self.limits = limits
        chunk = ColumnChunkBuffer(expectedBytes: Self.expectedChunkBytes(limits))
        page = RawBuffer(capacity: min(limits.pageBytes, limits.pageRows * 8) + 64)
    }

    /// Stored pages plus the open page scaled by the compression ratio seen so far.
    /// A bound on one chunk's stored size: 8 bytes per row, at most the row group's byte limit, plus
    /// snappy's worst-case expansion.
    static func expectedChunkBytes(_ limits: ParquetFormat.Limits) -> Int {
        let values = min(limits.rowGroupRows * 8, limits.rowGroupBytes) + (1 << 16)
        return values + values / 6
    }

    var bufferedByteCount: Int { chunk.storedByteCount + Int(Double(page.count) * chunk.compressionRatio) }

    func append(_ values: [Int64], rows: Range<Int>, compressor: PageCompressor) throws(ExportError) {
        var row = rows.lowerBound
        while row < rows.upperBound {
            let byteRoom = max(1, (limits.pageBytes - page.count) / 8)
            let n = min(rows.upperBound - row, limits.pageRows - pageRows, byteRoom)
            values.withUnsafeBufferPointer { v in
                let src = v.baseAddress! + row
                page.append(UnsafeRawPointer(src), count: n * 8)
                var lo = minimum
                var hi = maximum
                for i in 0..<n {
                    let x = src[i]
                    lo = x < lo ? x : lo
                    hi = x > hi ? x : hi
                }
                minimum = lo
                maximum = hi
            }
            pageRows += n
            rowCount += n
            row += n
            if pageRows >= limits.pageRows || page.count >= limits.pageBytes {
                try flushPage(compressor: compressor)
            }
        }
    }

    func flushPage(compressor: PageCompressor) throws(ExportError) {
        guard pageRows > 0 else { return }
        try chunk.appendDataPage(body: page.bytes, rows: pageRows, encoding: .plain, compressor: compressor)
        page.removeAll()
        pageRows = 0
    }

    func seal(compressor: PageCompressor) throws(ExportError) -> Statistics {
        try flushPage(compressor: compressor)
        var stats = Statistics(nullCount: 0, legacyMinMax: true)
        if rowCount > 0 {
            stats.minValue = withUnsafeBytes(of: minimum.littleEndian) { Array($0) }
            stats.maxValue = withUnsafeBytes(of: maximum.littleEndian) { Array($0) }
        }
        return stats
    }

    func reset() {
        chunk.removeAll()
        minimum = .max
        maximum = .min
        rowCount = 0
    }
}
