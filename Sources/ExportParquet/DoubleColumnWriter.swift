import ExportCore

/// Builds the column chunks of one OPTIONAL DOUBLE column: PLAIN values of the non-null rows,
/// definition levels (bit width 1, RLE/bit-packed) for the nulls, data pages v1.
///
/// Values are copied from the batch into the page buffer with one `memcpy` per range when the range
/// has no missing values. The page buffer keeps headroom in front of the values, where the levels
/// and their 4-byte length are written at page end, so the page body is contiguous without a copy.
/// Statistics: `null_count`, `nan_count`, and min/max over non-NaN values (-0.0 as min and +0.0 as
/// max when the bound is a zero); no min/max when every value is null or NaN.
final class DoubleColumnWriter {
    let name: String
    private let limits: ParquetFormat.Limits
    private(set) var chunk: ColumnChunkBuffer
    private var page: RawBuffer
    private let headroom: Int
    private var levels = RawBuffer(capacity: 1 << 12)
    private var levelScratch = RawBuffer(capacity: 1 << 12)
    private var assembled = RawBuffer(capacity: 1 << 12)
    private var levelsActive = false
    private var pageRows = 0
    private var pageNulls = 0

    private var minimum = Double.infinity
    private var maximum = -Double.infinity
    private var nullCount: Int64 = 0
    private var nanCount: Int64 = 0

    init(name: String, limits: ParquetFormat.Limits) {
        self.name = name
        self.limits = limits
        chunk = ColumnChunkBuffer(expectedBytes: Self.expectedChunkBytes(limits))
        // Worst case of the hybrid encoding at bit width 1 is about 2 bits per value; plus prefix and slack.
        headroom = 32 + limits.pageRows / 4
        page = RawBuffer(capacity: headroom + min(limits.pageBytes, limits.pageRows * 8) + 64)
        page.setCount(headroom)
    }

    /// Bytes held for the open row group: stored pages plus the open page's values, scaled by the
    /// compression ratio seen so far.
    var bufferedByteCount: Int {
        chunk.storedByteCount + Int(Double(page.count - headroom) * chunk.compressionRatio)
    }

    /// A bound on one chunk's stored size: 8 bytes per row (levels and headers fit in the slack that
    /// PLAIN values leave when some are null), at most the row group's byte limit, plus snappy's
    /// worst-case expansion.
    static func expectedChunkBytes(_ limits: ParquetFormat.Limits) -> Int {
        let values = min(limits.rowGroupRows * 8, limits.rowGroupBytes) + (1 << 16)
        return values + values / 6
    }

    /// Appends `rows` of `column`, cutting pages at the limits.
    func append(_ column: DoubleColumn, rows: Range<Int>, compressor: PageCompressor) throws(ExportError) {
        var row = rows.lowerBound
        while row < rows.upperBound {
            let byteRoom = max(1, (limits.pageBytes - (page.count - headroom)) / 8)
            let n = min(rows.upperBound - row, limits.pageRows - pageRows, byteRoom)
            column.values.withUnsafeBufferPointer { values in
                if let presence = column.isPresent {
                    presence.withUnsafeBufferPointer { present in
                        appendMixed(values, present, row..<(row + n))
                    }
                } else {
                    appendPresent(values, row..<(row + n))
                }
            }
            pageRows += n
            row += n
            if pageRows >= limits.pageRows || page.count - headroom >= limits.pageBytes {
                try flushPage(compressor: compressor)
            }
        }
    }

    private func appendPresent(_ values: UnsafeBufferPointer<Double>, _ range: Range<Int>) {
        let src = values.baseAddress! + range.lowerBound
        let n = range.count
        page.append(UnsafeRawPointer(src), count: n * 8)
        let (lo, hi, nans) = Self.bounds(src, n, minimum, maximum)
        minimum = lo
        maximum = hi
        nanCount += Int64(nans)
        if levelsActive {
            let p = levels.reserve(n)
            p.initializeMemory(as: UInt8.self, repeating: 1, count: n)
            levels.commit(n)
        }
    }

    /// Min and max of `values` ignoring NaN (comparisons with NaN are false), folded into `lo`/`hi`,
    /// and the NaN count. Eight lanes at a time (compare and blend), then the tail.
    @inline(__always)
    static func bounds(_ values: UnsafePointer<Double>, _ n: Int, _ lo: Double, _ hi: Double) -> (Double, Double, Int) {
        var low = SIMD8<Double>(repeating: lo)
        var high = SIMD8<Double>(repeating: hi)
        var nans = SIMD8<Int64>(repeating: 0)
        let raw = UnsafeRawPointer(values)
        var i = 0
        while i + 8 <= n {
            let v = raw.loadUnaligned(fromByteOffset: i * 8, as: SIMD8<Double>.self)
            low.replace(with: v, where: v .< low)
            high.replace(with: v, where: v .> high)
            nans.replace(with: nans &+ 1, where: v .!= v)
            i += 8
        }
        var l = lo
        var h = hi
        var count = Int(nans.wrappedSum())
        for lane in 0..<8 {
            l = low[lane] < l ? low[lane] : l
            h = high[lane] > h ? high[lane] : h
        }
        while i < n {
            let v = values[i]
            l = v < l ? v : l
            h = v > h ? v : h
            count &+= v.isNaN ? 1 : 0
            i += 1
        }
        return (l, h, count)
    }

    private func appendMixed(
        _ values: UnsafeBufferPointer<Double>,
        _ present: UnsafeBufferPointer<Bool>,
        _ range: Range<Int>
    ) {
        if !levelsActive {
            levels.removeAll()
            let p = levels.reserve(pageRows)
            p.initializeMemory(as: UInt8.self, repeating: 1, count: pageRows)
            levels.commit(pageRows)
            levelsActive = true
        }
        // The values start at `headroom`, which need not be a multiple of 8: raw stores, no
        // assumption of alignment (or of a binding to Double).
        let out = page.reserve(range.count * 8)
        let levelOut = levels.reserve(range.count).assumingMemoryBound(to: UInt8.self)
        var written = 0
        var nulls = 0
        var nans = 0
        var lo = minimum
        var hi = maximum
        for (k, i) in range.enumerated() {
            if present[i] {
                let v = values[i]
                out.storeBytes(of: v, toByteOffset: written &* 8, as: Double.self)
                written += 1
                lo = v < lo ? v : lo
                hi = v > hi ? v : hi
                nans &+= v.isNaN ? 1 : 0
                levelOut[k] = 1
            } else {
                nulls += 1
                levelOut[k] = 0
            }
        }
        page.commit(written * 8)
        levels.commit(range.count)
        minimum = lo
        maximum = hi
        nanCount += Int64(nans)
        nullCount += Int64(nulls)
        pageNulls += nulls
    }

    /// Writes the open page, if it has rows.
    func flushPage(compressor: PageCompressor) throws(ExportError) {
        guard pageRows > 0 else { return }
        levelScratch.removeAll()
        if pageNulls == 0 {
            RLEHybridEncoder.appendRun(value: 1, count: pageRows, bitWidth: 1, into: &levelScratch)
        } else {
            let levelBytes = UnsafeBufferPointer(
                start: levels.base.assumingMemoryBound(to: UInt8.self),
                count: levels.count
            )
            RLEHybridEncoder.encode(levelBytes, bitWidth: 1, into: &levelScratch)
        }
        let levelLength = levelScratch.count
        let prefixed = 4 + levelLength
        if prefixed <= headroom {
            let start = page.base + headroom - prefixed
            start.storeBytes(of: UInt32(levelLength).littleEndian, as: UInt32.self)
            (start + 4).copyMemory(from: levelScratch.base, byteCount: levelLength)
            let body = UnsafeRawBufferPointer(start: start, count: page.count - headroom + prefixed)
            try chunk.appendDataPage(body: body, rows: pageRows, encoding: .plain, compressor: compressor)
        } else {
            assembled.removeAll()
            assembled.appendUInt32LE(UInt32(levelLength))
            assembled.append(levelScratch.bytes)
            assembled.append(UnsafeRawBufferPointer(start: page.base + headroom, count: page.count - headroom))
            try chunk.appendDataPage(body: assembled.bytes, rows: pageRows, encoding: .plain, compressor: compressor)
        }
        page.setCount(headroom)
        levels.removeAll()
        levelsActive = false
        pageRows = 0
        pageNulls = 0
    }

    /// The chunk's statistics (call after the last page).
    var statistics: Statistics {
        var stats = Statistics(nullCount: nullCount, nanCount: nanCount, legacyMinMax: true)
        if minimum <= maximum {
            let lo = minimum == 0 ? -0.0 : minimum
            let hi = maximum == 0 ? 0.0 : maximum
            stats.minValue = Self.plain(lo)
            stats.maxValue = Self.plain(hi)
        }
        return stats
    }

    static func plain(_ v: Double) -> [UInt8] {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
    }

    /// Flushes the open page and returns the chunk's statistics; the chunk is then ready to write.
    func seal(compressor: PageCompressor) throws(ExportError) -> Statistics {
        try flushPage(compressor: compressor)
        return statistics
    }

    /// Prepares for the next row group.
    func reset() {
        chunk.removeAll()
        minimum = .infinity
        maximum = -.infinity
        nullCount = 0
        nanCount = 0
    }
}
