import ExportCore
import NIOCore

/// Builds the column chunks of one REQUIRED BYTE_ARRAY (UTF-8 string) column, dictionary-encoded:
/// a PLAIN dictionary page first, then RLE_DICTIONARY data pages v1 (a bit-width byte and the
/// hybrid-encoded ids). When the dictionary would pass ``ParquetFormat/Limits/dictionaryPageBytes``,
/// the open page is closed and the rest of the chunk is written as PLAIN pages (the Arrow
/// fallback: one dictionary page, dictionary pages then PLAIN pages). Each row group starts a new
/// dictionary.
///
/// Work per append: one key lookup per run of equal keys (a per-append cache maps a source key to
/// its dictionary id, so each distinct value is hashed at most once per append), then the id is
/// stored once per row. Statistics: exact min/max in unsigned byte order, computed once per new
/// dictionary entry (or per distinct value per append after a fallback); no min/max when a value is
/// longer than 1 KiB.
final class StringColumnWriter {
    static let statisticsLengthLimit = 1024

    let name: String
    private let limits: ParquetFormat.Limits
    private(set) var chunk = ColumnChunkBuffer()
    private var dictionary = ByteDictionary()
    private(set) var usingDictionary = true
    /// Dictionary mode: UInt32 ids; PLAIN mode: length-prefixed values.
    private var page = RawBuffer(capacity: 1 << 14)
    private var body = RawBuffer(capacity: 1 << 12)
    private var pageRows = 0

    private var cacheIDs: [Int32] = []
    private var cacheGeneration: [UInt32] = []
    private var generation: UInt32 = 0

    private var minimum: [UInt8]?
    private var maximum: [UInt8]?
    private var statisticsValid = true

    init(name: String, limits: ParquetFormat.Limits) {
        self.name = name
        self.limits = limits
    }

    var bufferedByteCount: Int { chunk.storedByteCount + page.count + dictionary.byteCount }

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

    func append<Source: StringRunSource>(_ source: Source, rows: Range<Int>, compressor: PageCompressor)
        throws(ExportError)
    {
        nextGeneration(keyCount: source.keyCount)
        var row = rows.lowerBound
        while row < rows.upperBound {
            let key = source.key(at: row)
            let limit = min(rows.upperBound, row + (limits.pageRows - pageRows))
            var end = row + 1
            while end < limit && source.key(at: end) == key { end += 1 }
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
                let n = end - row
                let p = page.reserve(n * 4).assumingMemoryBound(to: UInt32.self)
                for i in 0..<n { p[i] = UInt32(bitPattern: id) }
                page.commit(n * 4)
            } else {
                let firstInAppend = cacheGeneration[key] != generation
                cacheGeneration[key] = generation
                end = source.withBytes(ofKey: key) { bytes in
                    if firstInAppend { noteValue(bytes) }
                    let entry = 4 + bytes.count
                    let fit = max(1, (limits.pageBytes - page.count) / entry)
                    let stop = min(end, row + fit)
                    let p = page.reserve(entry * (stop - row))
                    var offset = 0
                    for _ in row..<stop {
                        (p + offset).storeBytes(of: UInt32(bytes.count).littleEndian, as: UInt32.self)
                        if let b = bytes.baseAddress { (p + offset + 4).copyMemory(from: b, byteCount: bytes.count) }
                        offset += entry
                    }
                    page.commit(offset)
                    return stop
                }
            }
            pageRows += end - row
            row = end
            if pageRows >= limits.pageRows || (!usingDictionary && page.count >= limits.pageBytes) {
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

    private func fallBackToPlain(compressor: PageCompressor, keyCount: Int) throws(ExportError) {
        try flushPage(compressor: compressor)
        usingDictionary = false
        nextGeneration(keyCount: keyCount)
    }

    /// Updates min/max with a value of the chunk.
    private func noteValue(_ bytes: UnsafeRawBufferPointer) {
        guard statisticsValid else { return }
        guard bytes.count <= Self.statisticsLengthLimit else {
            statisticsValid = false
            minimum = nil
            maximum = nil
            return
        }
        if minimum == nil || Self.compare(bytes, minimum!) < 0 { minimum = Array(bytes) }
        if maximum == nil || Self.compare(bytes, maximum!) > 0 { maximum = Array(bytes) }
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
            let width = RLEHybridEncoder.bitWidth(forEntryCount: dictionary.count)
            body.removeAll()
            body.append(byte: UInt8(width))
            page.bytes.withMemoryRebound(to: UInt32.self) { ids in
                RLEHybridEncoder.encode(ids, bitWidth: width, into: &body)
            }
            try chunk.appendDataPage(body: body.bytes, rows: pageRows, encoding: .rleDictionary, compressor: compressor)
        } else {
            try chunk.appendDataPage(body: page.bytes, rows: pageRows, encoding: .plain, compressor: compressor)
        }
        page.removeAll()
        pageRows = 0
    }

    /// Flushes the open page, writes the dictionary page when data pages use it, and returns the
    /// chunk's statistics.
    func seal(compressor: PageCompressor) throws(ExportError) -> Statistics {
        try flushPage(compressor: compressor)
        if chunk.dictionaryDataPages > 0 {
            try chunk.setDictionaryPage(
                body: dictionary.plainEntries.bytes, entries: dictionary.count, compressor: compressor
            )
        }
        return Statistics(nullCount: 0, minValue: minimum, maxValue: maximum, legacyMinMax: false)
    }

    func reset() {
        chunk.removeAll()
        dictionary.removeAll()
        usingDictionary = true
        minimum = nil
        maximum = nil
        statisticsValid = true
        generation &+= 1
        if generation == 0 { nextGeneration(keyCount: 0) }
    }
}
