import ExportCore

/// Builds the column chunks of one REQUIRED BYTE_ARRAY (UTF-8 string) column, dictionary-encoded:
/// a PLAIN dictionary page first, then RLE_DICTIONARY data pages v1 (a bit-width byte and the
/// hybrid-encoded ids). Each row group starts a new dictionary.
///
/// Fallback: when the dictionary would pass ``ParquetFormat/Limits/dictionaryPageBytes``, the
/// chunk's pages so far are discarded and its rows re-encoded from the kept ids as PLAIN pages,
/// and the rest of the chunk is PLAIN. A chunk is therefore either all dictionary or all PLAIN:
/// fastparquet misreads chunks that switch from dictionary to PLAIN pages midway (it returns nulls
/// for the PLAIN part, pyarrow-written files included). The ids are kept anyway (4 bytes per row of
/// the chunk) as the dictionary pages' staging, so the fallback costs no extra memory.
///
/// Work per append: one key lookup per run of equal keys (a per-append cache maps a source key to
/// its dictionary id, so each distinct value is hashed at most once per append), then the id is
/// stored once per row. Statistics: exact min/max in unsigned byte order, computed once per new
/// dictionary entry (or per distinct value per append in PLAIN mode); no min/max when a value is
/// longer than 1 KiB.
final class StringColumnWriter {
    static let statisticsLengthLimit = 1024

    let name: String
    private let limits: ParquetFormat.Limits
    private(set) var chunk = ColumnChunkBuffer()
    private var dictionary = ByteDictionary()
    private(set) var usingDictionary = true
    /// Dictionary mode: the UInt32 id of every row of the chunk (the open page is the tail).
    /// Reserved for a whole row group up front (address space; pages are touched as they fill), so
    /// it never grows by copying.
    private var ids: IDBuffer
    /// PLAIN mode: the open page's length-prefixed values.
    private var plainPage = RawBuffer(capacity: 1 << 14)
    private var body = RawBuffer(capacity: 1 << 12)
    private var pageRows = 0

    private var cacheIDs: [Int32] = []
    private var cacheGeneration: [UInt32] = []
    private var generation: UInt32 = 0

    /// Min/max so far (valid when `hasBounds`); their storage is reused, so a new bound costs no
    /// allocation once the arrays have grown to the longest value.
    private var minimum: [UInt8] = []
    private var maximum: [UInt8] = []
    private var hasBounds = false
    private var statisticsValid = true

    init(name: String, limits: ParquetFormat.Limits) {
        self.name = name
        self.limits = limits
        ids = IDBuffer(capacity: min(limits.rowGroupRows, 1 << 22) + 16)
    }

    /// Stored pages, plus the open page (ids counted at the dictionary's bit width, PLAIN values as
    /// they are) and the dictionary, scaled by the compression ratio seen so far.
    var bufferedByteCount: Int {
        let open =
            usingDictionary
            ? pageRows * RLEHybridEncoder.bitWidth(forEntryCount: max(1, dictionary.count)) / 8 + dictionary.byteCount
            : plainPage.count
        return chunk.storedByteCount + Int(Double(open) * chunk.compressionRatio)
    }

    private func nextGeneration(keyCount: Int) {
        generation &+= 1
        if generation == 0 {
            for i in cacheGeneration.indices { cacheGeneration[i] = 0 }
            generation = 1
        }
        if cacheIDs.count < keyCount {
            cacheIDs += repeatElement(0, count: keyCount - cacheIDs.count)
            cacheGeneration += repeatElement(0, count: keyCount - cacheGeneration.count)
        }
    }

    func append<Source: StringRunSource>(
        _ source: Source,
        rows: Range<Int>,
        compressor: PageCompressor
    )
        throws(ExportError)
    {
        nextGeneration(keyCount: source.keyCount)
        var row = rows.lowerBound
        while row < rows.upperBound {
            let key = source.key(at: row)
            var end = row + 1
            while end < rows.upperBound && source.key(at: end) == key { end += 1 }
            if usingDictionary {
                let id: Int32
                if cacheGeneration[key] == generation {
                    id = cacheIDs[key]
                } else if let found = lookUp(source, key) {
                    id = found
                    cacheIDs[key] = found
                    cacheGeneration[key] = generation
                } else {
                    try fallBackToPlain(compressor: compressor, keyCount: source.keyCount)
                    continue
                }
                try appendIDs(id, count: end - row, compressor: compressor)
            } else {
                let firstInAppend = cacheGeneration[key] != generation
                cacheGeneration[key] = generation
                // Copy the value's bytes once per run (the source's storage is only borrowed).
                body.removeAll()
                source.withBytes(ofKey: key) { bytes in
                    if firstInAppend { noteValue(bytes) }
                    body.append(bytes)
                }
                try appendPlain(
                    UnsafeRawBufferPointer(start: body.base, count: body.count),
                    count: end - row,
                    compressor: compressor
                )
            }
            row = end
        }
    }

    private func appendIDs(_ id: Int32, count: Int, compressor: PageCompressor) throws(ExportError) {
        var remaining = count
        while remaining > 0 {
            let n = min(remaining, limits.pageRows - pageRows)
            let p = ids.reserve(n)
            p.initialize(repeating: UInt32(bitPattern: id), count: n)
            ids.commit(n)
            pageRows += n
            remaining -= n
            if pageRows >= limits.pageRows { try flushPage(compressor: compressor) }
        }
    }

    /// Appends `count` copies of `value` as PLAIN entries, cutting pages at the limits.
    private func appendPlain(
        _ value: UnsafeRawBufferPointer,
        count: Int,
        compressor: PageCompressor
    )
        throws(ExportError)
    {
        let entry = 4 + value.count
        var remaining = count
        while remaining > 0 {
            let fit = max(1, (limits.pageBytes - plainPage.count) / entry)
            let n = min(remaining, limits.pageRows - pageRows, fit)
            let p = plainPage.reserve(entry * n)
            var offset = 0
            for _ in 0..<n {
                (p + offset).storeBytes(of: UInt32(value.count).littleEndian, as: UInt32.self)
                if let b = value.baseAddress { (p + offset + 4).copyMemory(from: b, byteCount: value.count) }
                offset += entry
            }
            plainPage.commit(offset)
            pageRows += n
            remaining -= n
            if pageRows >= limits.pageRows || plainPage.count >= limits.pageBytes {
                try flushPage(compressor: compressor)
            }
        }
    }

    private func lookUp<Source: StringRunSource>(_ source: Source, _ key: Int) -> Int32? {
        source.withBytes(ofKey: key) { bytes in
            var inserted = false
            let id = dictionary.id(for: bytes, byteLimit: limits.dictionaryPageBytes, inserted: &inserted)
            if inserted { noteValue(bytes) }
            return id
        }
    }

    /// Drops the chunk's dictionary pages and re-encodes its rows as PLAIN pages from the kept ids.
    private func fallBackToPlain(compressor: PageCompressor, keyCount: Int) throws(ExportError) {
        chunk.removeAll()
        usingDictionary = false
        pageRows = 0
        let rowCount = ids.count
        let idBase = ids.base
        var row = 0
        while row < rowCount {
            let id = idBase[row]
            var end = row + 1
            while end < rowCount && idBase[end] == id { end += 1 }
            try appendPlain(dictionary.entry(Int(id)), count: end - row, compressor: compressor)
            row = end
        }
        ids.removeAll()
        dictionary.removeAll()
        nextGeneration(keyCount: keyCount)
    }

    /// Updates min/max with a value of the chunk.
    private func noteValue(_ bytes: UnsafeRawBufferPointer) {
        guard statisticsValid else { return }
        guard bytes.count <= Self.statisticsLengthLimit else {
            statisticsValid = false
            hasBounds = false
            return
        }
        if !hasBounds {
            Self.replace(&minimum, with: bytes)
            Self.replace(&maximum, with: bytes)
            hasBounds = true
            return
        }
        if Self.compare(bytes, minimum) < 0 { Self.replace(&minimum, with: bytes) }
        if Self.compare(bytes, maximum) > 0 { Self.replace(&maximum, with: bytes) }
    }

    /// Overwrites `bound` with `bytes`, keeping its capacity.
    @inline(__always)
    private static func replace(_ bound: inout [UInt8], with bytes: UnsafeRawBufferPointer) {
        bound.removeAll(keepingCapacity: true)
        bound.append(contentsOf: bytes)
    }

    /// Unsigned byte-wise order; a prefix sorts first.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Int {
        b.withUnsafeBytes { b in
            let n = min(a.count, b.count)
            for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        }
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
            try chunk.appendDataPage(body: plainPage.bytes, rows: pageRows, encoding: .plain, compressor: compressor)
            plainPage.removeAll()
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
        let bounds = statisticsValid && hasBounds
        return Statistics(
            nullCount: 0,
            minValue: bounds ? minimum : nil,
            maxValue: bounds ? maximum : nil,
            legacyMinMax: false
        )
    }

    func reset() {
        chunk.removeAll()
        dictionary.removeAll()
        ids.removeAll()
        plainPage.removeAll()
        pageRows = 0
        usingDictionary = true
        hasBounds = false
        statisticsValid = true
        nextGeneration(keyCount: 0)
    }
}
