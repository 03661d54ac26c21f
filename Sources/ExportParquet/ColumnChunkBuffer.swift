import ExportCore
import NIOCore

/// The finished pages of one column chunk while its row group is open: the data pages (each a
/// `PageHeader` plus the stored, possibly compressed, body) and, for dictionary-encoded chunks, the
/// dictionary page, written last but placed first in the file.
///
/// It keeps every count the footer needs (values, sizes with headers, pages per encoding), computed
/// from the bytes actually produced. Memory: the chunk's stored bytes (pages are compressed in place).
struct ColumnChunkBuffer: ~Copyable {
    private(set) var dataPages: RawBuffer
    private(set) var dictionaryPage = RawBuffer(capacity: 64)
    private(set) var numValues: Int64 = 0
    private(set) var uncompressedSize: Int64 = 0
    private(set) var compressedSize: Int64 = 0
    private(set) var plainDataPages: Int32 = 0
    private(set) var dictionaryDataPages: Int32 = 0
    /// Page bytes before and after compression over the writer's whole life (not reset per row group).
    private var lifetimeUncompressed: Int64 = 0
    private var lifetimeCompressed: Int64 = 0

    /// `expectedBytes` reserves the data-page storage up front: a generous bound costs nothing until
    /// written (the pages of a large allocation are only touched, and faulted in, when filled), while
    /// growing by doubling would allocate and copy the chunk about twice per encoder.
    init(expectedBytes: Int = 1 << 16) {
        dataPages = RawBuffer(capacity: expectedBytes)
    }

    /// Stored bytes per body byte so far (1 before the first page): scales the estimate of pages not
    /// yet written.
    var compressionRatio: Double {
        lifetimeUncompressed > 0 ? Double(lifetimeCompressed) / Double(lifetimeUncompressed) : 1
    }

    /// Bytes stored so far (headers and bodies of every page).
    var storedByteCount: Int { dataPages.count + dictionaryPage.count }

    /// Appends a data page v1 of `rows` values (nulls included) whose body is `body`.
    mutating func appendDataPage(
        body: UnsafeRawBufferPointer,
        rows: Int,
        encoding: Encoding,
        compressor: PageCompressor
    ) throws(ExportError) {
        try appendPage(kind: .dataPage, body: body, numValues: rows, encoding: encoding, compressor: compressor)
        numValues += Int64(rows)
        if encoding == .rleDictionary { dictionaryDataPages += 1 } else { plainDataPages += 1 }
    }

    /// Appends an RLE_DICTIONARY data page for the last `rows` ids of `ids` (one `UInt32` each),
    /// at the bit width of a `dictionaryCount`-entry dictionary; `body` is the scratch the page is
    /// encoded into. What the string and the timestamp column writers share.
    mutating func appendDictionaryDataPage(
        lastIDsOf ids: borrowing IDBuffer,
        rows: Int,
        dictionaryCount: Int,
        scratch body: inout RawBuffer,
        compressor: PageCompressor
    ) throws(ExportError) {
        let width = RLEHybridEncoder.bitWidth(forEntryCount: dictionaryCount)
        body.removeAll()
        body.append(byte: UInt8(width))
        RLEHybridEncoder.encode(ids.suffix(rows), bitWidth: width, into: &body)
        try appendDataPage(body: body.bytes, rows: rows, encoding: .rleDictionary, compressor: compressor)
    }

    /// Writes the dictionary page (PLAIN `entries`) if any data page of the chunk uses it.
    mutating func sealDictionary(
        plainEntries: borrowing RawBuffer,
        entries: Int,
        compressor: PageCompressor
    ) throws(ExportError) {
        guard dictionaryDataPages > 0 else { return }
        try setDictionaryPage(body: plainEntries.bytes, entries: entries, compressor: compressor)
    }

    /// Sets the chunk's dictionary page (PLAIN entries).
    mutating func setDictionaryPage(
        body: UnsafeRawBufferPointer,
        entries: Int,
        compressor: PageCompressor
    ) throws(ExportError) {
        precondition(dictionaryPage.count == 0, "one dictionary page per column chunk")
        try appendPage(kind: .dictionaryPage, body: body, numValues: entries, encoding: .plain, compressor: compressor)
    }

    private mutating func appendPage(
        kind: PageHeader.Kind,
        body: UnsafeRawBufferPointer,
        numValues: Int,
        encoding: Encoding,
        compressor: PageCompressor
    ) throws(ExportError) {
        guard body.count < Int(Int32.max) / 2, numValues <= Int(Int32.max) else {
            throw .internal("Parquet page of \(body.count) bytes and \(numValues) values exceeds the format's limits")
        }
        let (headerCount, storedCount): (Int, Int)
        if kind == .dictionaryPage {
            (headerCount, storedCount) = try Self.writePage(
                kind: kind,
                body: body,
                numValues: numValues,
                encoding: encoding,
                compressor: compressor,
                into: &dictionaryPage
            )
        } else {
            (headerCount, storedCount) = try Self.writePage(
                kind: kind,
                body: body,
                numValues: numValues,
                encoding: encoding,
                compressor: compressor,
                into: &dataPages
            )
        }
        uncompressedSize += Int64(headerCount + body.count)
        compressedSize += Int64(headerCount + storedCount)
        lifetimeUncompressed += Int64(body.count)
        lifetimeCompressed += Int64(storedCount)
    }

    /// Appends a page header and the stored body to `out`; returns their sizes. A compressed body is
    /// written in place after a header sized for a compressed size as long as the body (the varint
    /// lengths almost always agree); if the real header is longer or shorter, the compressed bytes
    /// are moved once. So the body is never staged in a second buffer, and headers are encoded
    /// straight into `out` (no allocation per page).
    private static func writePage(
        kind: PageHeader.Kind,
        body: UnsafeRawBufferPointer,
        numValues: Int,
        encoding: Encoding,
        compressor: PageCompressor,
        into out: inout RawBuffer
    ) throws(ExportError) -> (header: Int, stored: Int) {
        func header(_ stored: Int) -> PageHeader {
            PageHeader(
                kind: kind,
                uncompressedPageSize: Int32(body.count),
                compressedPageSize: Int32(stored),
                numValues: Int32(numValues),
                encoding: encoding
            )
        }
        let start = out.count
        let headerRoom = PageHeader.maxEncodedByteCount
        if compressor.codec == .none {
            let h = header(body.count).encode(into: out.reserve(headerRoom))
            out.commit(h)
            out.append(body)
            return (h, body.count)
        }
        let guess = header(body.count).encode(into: out.reserve(headerRoom))
        out.commit(guess)
        let stored = try compressor.compress(body, into: &out)
        _ = out.reserve(headerRoom)
        let real = header(stored)
        let h = real.encode(into: out.base + out.count)  // scratch space past the stored body
        if h != guess {
            // Keep the real header's bytes while the body moves.
            withUnsafeTemporaryAllocation(byteCount: headerRoom, alignment: 1) { scratch in
                let s = scratch.baseAddress!
                s.copyMemory(from: out.base + out.count, byteCount: h)
                (out.base + start + h).copyMemory(from: out.base + start + guess, byteCount: stored)
                (out.base + start).copyMemory(from: s, byteCount: h)
            }
            out.setCount(start + h + stored)
        } else {
            (out.base + start).copyMemory(from: out.base + out.count, byteCount: h)
        }
        return (h, stored)
    }

    /// The chunk's metadata, for a chunk whose first byte is at file offset `chunkOffset`.
    func metadata(
        type: SchemaElement.PhysicalType,
        path: String,
        codec: CompressionCodec,
        chunkOffset: Int64,
        statistics: Statistics
    ) -> ColumnMetaData {
        let hasDictionary = dictionaryPage.count > 0
        var encodings: Set<Encoding> = [.rle]
        if hasDictionary || plainDataPages > 0 { encodings.insert(.plain) }
        if dictionaryDataPages > 0 { encodings.insert(.rleDictionary) }
        var stats: [PageEncodingStats] = []
        if hasDictionary { stats.append(.init(pageKind: .dictionaryPage, encoding: .plain, count: 1)) }
        if dictionaryDataPages > 0 {
            stats.append(.init(pageKind: .dataPage, encoding: .rleDictionary, count: dictionaryDataPages))
        }
        if plainDataPages > 0 { stats.append(.init(pageKind: .dataPage, encoding: .plain, count: plainDataPages)) }
        return ColumnMetaData(
            type: type,
            encodings: encodings.sorted(),
            path: path,
            codec: codec,
            numValues: numValues,
            totalUncompressedSize: uncompressedSize,
            totalCompressedSize: compressedSize,
            dataPageOffset: chunkOffset + Int64(dictionaryPage.count),
            dictionaryPageOffset: hasDictionary ? chunkOffset : nil,
            statistics: statistics,
            encodingStats: stats
        )
    }

    /// Copies the chunk (dictionary page first) to `destination`, which has room for
    /// ``storedByteCount`` bytes.
    func copy(to destination: UnsafeMutableRawPointer) {
        destination.copyMemory(from: dictionaryPage.base, byteCount: dictionaryPage.count)
        (destination + dictionaryPage.count).copyMemory(from: dataPages.base, byteCount: dataPages.count)
    }

    /// Empties the chunk for the next row group, keeping its memory.
    mutating func removeAll() {
        dataPages.removeAll()
        dictionaryPage.removeAll()
        numValues = 0
        uncompressedSize = 0
        compressedSize = 0
        plainDataPages = 0
        dictionaryDataPages = 0
    }
}
