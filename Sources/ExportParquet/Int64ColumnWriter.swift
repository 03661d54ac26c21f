import ExportCore

/// Builds the column chunks of one REQUIRED INT64 column (the UTC millisecond timestamps),
/// dictionary-encoded: a PLAIN dictionary page first, then RLE_DICTIONARY data pages v1 (a bit-width
/// byte and the hybrid-encoded ids). Each row group starts a new dictionary. Timestamps repeat a
/// lot (a window's start and end have one value per window, a timestamp one per day of the horizon),
/// so the ids are a few bits per row and far fewer bytes reach the compressor than PLAIN's 8.
///
/// Fallback, as for strings (``StringColumnWriter``): when the dictionary would pass
/// ``ParquetFormat/Limits/dictionaryPageBytes``, the chunk's pages so far are discarded and its rows
/// re-encoded from the kept ids as PLAIN pages, and the rest of the chunk is PLAIN (values copied
/// with one `memcpy` per page slice). A chunk is either all dictionary or all PLAIN (fastparquet
/// misreads chunks that switch midway). The ids are kept for that (4 bytes per row of the chunk).
///
/// Work per row in dictionary mode: a compare with the previous row's value and, when it differs,
/// a compare with the entry after the previous row's (the next timestamp of a series, whose
/// timestamps were seen in order before), else one hash lookup. Statistics: signed min/max
/// (updated per new dictionary entry, or by a branch-free pass per PLAIN slice), `null_count` 0.
final class Int64ColumnWriter {
    let name: String
    private let limits: ParquetFormat.Limits
    private(set) var chunk: ColumnChunkBuffer
    /// PLAIN mode: the open page's values.
    private var page: RawBuffer
    private var pageRows = 0
    private var minimum = Int64.max
    private var maximum = Int64.min
    private var rowCount = 0

    private var dictionary = Int64Dictionary()
    private(set) var usingDictionary = true
    /// Dictionary mode: the UInt32 id of every row of the chunk (the open page is the tail).
    /// Reserved for a whole row group up front (address space; pages are touched as they fill), so
    /// it never grows by copying.
    private var ids: IDBuffer
    private var body = RawBuffer(capacity: 1 << 12)
    /// The last value looked up in this chunk's dictionary and its id (valid when `hasLast`).
    private var lastValue: Int64 = 0
    private var lastID: UInt32 = 0
    private var hasLast = false

    init(name: String, limits: ParquetFormat.Limits) {
        self.name = name
        self.limits = limits
        chunk = ColumnChunkBuffer(expectedBytes: Self.expectedChunkBytes(limits))
        page = RawBuffer(capacity: min(limits.pageBytes, limits.pageRows * 8) + 64)
        ids = IDBuffer(capacity: min(limits.rowGroupRows, 1 << 22) + 16)
    }

    /// A bound on one chunk's stored size: 8 bytes per row, at most the row group's byte limit, plus
    /// snappy's worst-case expansion. Only reserved (address space), so dictionary chunks, which are
    /// far smaller, touch only what they use.
    static func expectedChunkBytes(_ limits: ParquetFormat.Limits) -> Int {
        let values = min(limits.rowGroupRows * 8, limits.rowGroupBytes) + (1 << 16)
        return values + values / 6
    }

    /// Stored pages, plus the open page (ids counted at the dictionary's bit width, PLAIN values as
    /// they are) and the dictionary, scaled by the compression ratio seen so far.
    var bufferedByteCount: Int {
        let open =
            usingDictionary
            ? pageRows * RLEHybridEncoder.bitWidth(forEntryCount: max(1, dictionary.count)) / 8 + dictionary.byteCount
            : page.count
        return chunk.storedByteCount + Int(Double(open) * chunk.compressionRatio)
    }

    func append(_ values: [Int64], rows: Range<Int>, compressor: PageCompressor) throws(ExportError) {
        try values.withUnsafeBufferPointer { (v) throws(ExportError) in
            var row = rows.lowerBound
            while row < rows.upperBound {
                if usingDictionary {
                    let n = min(rows.upperBound - row, limits.pageRows - pageRows)
                    let done = appendIDs(v.baseAddress! + row, n)
                    pageRows += done
                    rowCount += done
                    row += done
                    if done < n {
                        try fallBackToPlain(compressor: compressor)
                        continue
                    }
                    if pageRows >= limits.pageRows { try flushPage(compressor: compressor) }
                } else {
                    let byteRoom = max(1, (limits.pageBytes - page.count) / 8)
                    let n = min(rows.upperBound - row, limits.pageRows - pageRows, byteRoom)
                    appendPlain(v.baseAddress! + row, n)
                    pageRows += n
                    rowCount += n
                    row += n
                    if pageRows >= limits.pageRows || page.count >= limits.pageBytes {
                        try flushPage(compressor: compressor)
                    }
                }
            }
        }
    }

    /// Stores the ids of up to `n` values; returns how many were stored (fewer when the dictionary
    /// is full: the caller then falls back to PLAIN).
    private func appendIDs(_ src: UnsafePointer<Int64>, _ n: Int) -> Int {
        let out = ids.reserve(n)
        var probe = dictionary.probe
        var last = lastValue
        var lastID = self.lastID
        var valid = hasLast
        var done = 0
        while done < n {
            let x = src[done]
            if !valid || x != last {
                // Rows in export order repeat a window's timestamps in order for every series:
                // the entry after the last one is the usual answer, checked with one load.
                if valid && probe.holds(x, at: lastID &+ 1) {
                    lastID &+= 1
                } else {
                    var id = probe.find(x)
                    if id < 0 {
                        guard let inserted = insert(x) else { break }
                        id = inserted
                        probe = dictionary.probe
                    }
                    lastID = UInt32(bitPattern: id)
                }
                last = x
                valid = true
            }
            out[done] = lastID
            done += 1
        }
        ids.commit(done)
        lastValue = last
        self.lastID = lastID
        hasLast = valid
        return done
    }

    /// Adds a value not yet in the dictionary (and to min/max); nil when the dictionary is full.
    @inline(never)
    private func insert(_ x: Int64) -> Int32? {
        var inserted = false
        guard let id = dictionary.id(for: x, byteLimit: limits.dictionaryPageBytes, inserted: &inserted) else {
            return nil
        }
        minimum = Swift.min(minimum, x)
        maximum = Swift.max(maximum, x)
        return id
    }

    private func appendPlain(_ src: UnsafePointer<Int64>, _ n: Int) {
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

    /// Drops the chunk's dictionary pages and re-encodes its rows as PLAIN pages from the kept ids.
    private func fallBackToPlain(compressor: PageCompressor) throws(ExportError) {
        chunk.removeAll()
        usingDictionary = false
        hasLast = false
        pageRows = 0
        page.removeAll()
        let total = ids.count
        let idBase = ids.base
        var row = 0
        while row < total {
            let byteRoom = max(1, (limits.pageBytes - page.count) / 8)
            let n = min(total - row, limits.pageRows - pageRows, byteRoom)
            let out = page.reserve(n * 8)
            for i in 0..<n {
                out.storeBytes(
                    of: dictionary.entry(Int(idBase[row + i])).littleEndian,
                    toByteOffset: i * 8,
                    as: Int64.self
                )
            }
            page.commit(n * 8)
            pageRows += n
            row += n
            if pageRows >= limits.pageRows || page.count >= limits.pageBytes {
                try flushPage(compressor: compressor)
            }
        }
        ids.removeAll()
        dictionary.removeAll()
    }

    func flushPage(compressor: PageCompressor) throws(ExportError) {
        guard pageRows > 0 else { return }
        if usingDictionary {
            try chunk.appendDictionaryDataPage(
                lastIDsOf: ids,
                rows: pageRows,
                dictionaryCount: dictionary.count,
                scratch: &body,
                compressor: compressor
            )
        } else {
            try chunk.appendDataPage(body: page.bytes, rows: pageRows, encoding: .plain, compressor: compressor)
            page.removeAll()
        }
        pageRows = 0
    }

    /// Flushes the open page, writes the dictionary page when data pages use it, and returns the
    /// chunk's statistics.
    func seal(compressor: PageCompressor) throws(ExportError) -> Statistics {
        try flushPage(compressor: compressor)
        if usingDictionary {
            try chunk.sealDictionary(
                plainEntries: dictionary.plainEntries,
                entries: dictionary.count,
                compressor: compressor
            )
        }
        var stats = Statistics(nullCount: 0, legacyMinMax: true)
        if rowCount > 0 {
            stats.minValue = withUnsafeBytes(of: minimum.littleEndian) { Array($0) }
            stats.maxValue = withUnsafeBytes(of: maximum.littleEndian) { Array($0) }
        }
        return stats
    }

    func reset() {
        chunk.removeAll()
        dictionary.removeAll()
        ids.removeAll()
        page.removeAll()
        pageRows = 0
        usingDictionary = true
        hasLast = false
        minimum = .max
        maximum = .min
        rowCount = 0
    }
}
