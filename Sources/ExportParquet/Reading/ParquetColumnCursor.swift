public import ExportCore

/// Walks one column chunk of one row group, a data page at a time, and hands out the current
/// page's values by row: ``count`` rows, of which the first ``position`` are consumed.
///
/// Row `r` of the page (`0..<count`) is null when ``validity`` is non-nil and `validity[r] == 0`;
/// otherwise its value is `doubles[r]`, `integers[r]` (for `.millis` and `.integer`) or the bytes
/// `byteBase + byteStarts[r]` of length `byteLengths[r]`, as the cursor's target says. Pointers are
/// valid until the next ``nextPage()``.
///
/// Memory: one compressed and one decompressed page, the chunk's dictionary, and the page's
/// values by row; all reused from page to page.
public final class ParquetColumnCursor {
    public let rowGroup: Int
    public let columnName: String
    public let target: ParquetValueTarget
    /// Rows in the current page.
    public private(set) var count = 0
    /// Rows of the current page already consumed (the caller advances it).
    public var position = 0
    /// Rows of the row group before the current page.
    public private(set) var rowsBeforePage = 0
    public private(set) var validity: UnsafePointer<UInt8>?
    public var doubles: UnsafePointer<Double> { UnsafePointer(doubleValues.base) }
    public var integers: UnsafePointer<Int64> { UnsafePointer(integerValues.base) }
    public private(set) var byteBase: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!
    public var byteStarts: UnsafePointer<Int> { UnsafePointer(starts.base) }
    public var byteLengths: UnsafePointer<Int32> { UnsafePointer(lengths.base) }

    private let reader: ParquetReader
    private let leaf: ParquetLeaf
    private let chunk: ParquetFooter.ChunkLocation
    private let rowGroupRows: Int
    private let decompressor: PageDecompressor
    private var offset: Int64
    private let end: Int64
    private var valuesRead = 0

    private let compressed = ReadBuffer<UInt8>(capacity: 1 << 16)
    private let page = ReadBuffer<UInt8>(capacity: 1 << 16)
    private let dictionaryPage = ReadBuffer<UInt8>(capacity: 1 << 10)
    private var dictionaryCount = -1
    private let dictionaryDoubles = ReadBuffer<Double>()
    private let dictionaryIntegers = ReadBuffer<Int64>()
    private let dictionaryStarts = ReadBuffer<Int>()
    private let dictionaryLengths = ReadBuffer<Int32>()
    private let levels = ReadBuffer<UInt32>()
    private let valid = ReadBuffer<UInt8>()
    private let indices = ReadBuffer<UInt32>()
    private let doubleValues = ReadBuffer<Double>()
    private let integerValues = ReadBuffer<Int64>()
    private let starts = ReadBuffer<Int>()
    private let lengths = ReadBuffer<Int32>()

    init(reader: ParquetReader, rowGroup: Int, column: Int, target: ParquetValueTarget) throws(ExportError) {
        self.reader = reader
        self.rowGroup = rowGroup
        self.target = target
        leaf = reader.leaves[column]
        columnName = leaf.name
        chunk = reader.footer.rowGroups[rowGroup].columns[column]
        rowGroupRows = Int(reader.footer.rowGroups[rowGroup].rowCount)
        offset = chunk.start
        end = chunk.start + chunk.totalCompressedSize
        let supported: Bool
        switch (target, leaf.kind) {
        case (.bytes, .string), (.double, .floatingPoint), (.double, .integer), (.millis, .instant),
            (.integer, .integer):
            supported = true
        default: supported = false
        }
        do throws(ParquetFormatError) {
            guard supported else {
                throw ParquetFormatError(
                    "a \(leaf.kind.description) column (\(ParquetLeaf.physicalName(leaf.physicalType))) cannot be read here"
                )
            }
            decompressor = try PageDecompressor(codec: chunk.codec)
        } catch {
            throw Self.error(reader.path, rowGroup, 0, leaf.name, error.message)
        }
    }

    /// Rows of the current page not yet consumed.
    @inline(__always)
    public var available: Int { count - position }

    /// The location of row `row` of the current page, for an error about its value.
    public func location(ofRow row: Int) -> ExportError.Location {
        .init(file: reader.path, line: rowsBeforePage + row, columnName: columnName, rowGroup: rowGroup)
    }

    /// Loads the next data page. Returns false when the chunk has no more pages (every value
    /// read); throws for a corrupt, truncated or unsupported page, or a chunk whose pages hold
    /// more or fewer values than the row group's rows.
    public func nextPage() throws(ExportError) -> Bool {
        rowsBeforePage += count
        count = 0
        position = 0
        do throws(ParquetFormatError) {
            while offset < end {
                let header = try readHeader()
                let bodyStart = offset + Int64(header.headerSize)
                guard Int64(header.compressedSize) <= end - bodyStart else {
                    throw ParquetFormatError(
                        "the page at byte \(offset) runs past the end of its column chunk (truncated or corrupt)"
                    )
                }
                offset = bodyStart + Int64(header.compressedSize)
                switch header.kind {
                case .dictionary:
                    try loadDictionary(header, at: bodyStart)
                case .dataV1, .dataV2:
                    try loadDataPage(header, at: bodyStart)
                    valuesRead += count
                    guard valuesRead <= rowGroupRows else {
                        throw ParquetFormatError(
                            "the column chunk holds more values than the row group's \(rowGroupRows) rows"
                        )
                    }
                    if count > 0 { return true }
                case .other:
                    continue
                }
            }
            guard valuesRead == rowGroupRows else {
                throw ParquetFormatError(
                    "the column chunk ends after \(valuesRead) of the row group's \(rowGroupRows) values (truncated or corrupt)"
                )
            }
            return false
        } catch {
            throw Self.error(reader.path, rowGroup, rowsBeforePage, columnName, error.message)
        }
    }

    private static func error(
        _ path: String,
        _ group: Int,
        _ row: Int,
        _ column: String,
        _ message: String
    ) -> ExportError {
        .input(
            "Cannot read Parquet column '\(column)': \(message)",
            at: .init(file: path, line: row, columnName: column, rowGroup: group)
        )
    }

    // MARK: pages

    private func readHeader() throws(ParquetFormatError) -> ParquetPageHeader {
        var window = Int(min(Int64(256), end - offset))
        while true {
            let buffer = compressed.reserve(window)
            let n = ParquetReader.preadFully(reader.fileDescriptor, buffer, window, offset)
            guard n == window else { throw ParquetFormatError("the file ends inside a page header (truncated)") }
            do {
                return try ParquetPageHeader(decoding: UnsafeRawBufferPointer(start: buffer, count: n))
            } catch {
                let left = end - offset
                guard Int64(window) < left, window < 1 << 24 else {
                    throw ParquetFormatError("a page header at byte \(offset) is corrupt: \(error.message)")
                }
                window = Int(min(Int64(window) * 4, left))
            }
        }
    }

    /// Reads `size` bytes at `at` into `compressed`.
    private func readBody(_ size: Int, at: Int64) throws(ParquetFormatError) -> UnsafeRawBufferPointer {
        let buffer = compressed.reserve(size)
        let n = ParquetReader.preadFully(reader.fileDescriptor, buffer, size, at)
        guard n == size else { throw ParquetFormatError("the file ends inside a page (truncated)") }
        return UnsafeRawBufferPointer(start: buffer, count: size)
    }

    private func loadDictionary(_ header: ParquetPageHeader, at bodyStart: Int64) throws(ParquetFormatError) {
        guard dictionaryCount < 0 else { throw ParquetFormatError("the column chunk has a second dictionary page") }
        guard header.encoding == 0 || header.encoding == 2 else {
            throw ParquetFormatError(
                "a dictionary page in \(Self.encodingName(header.encoding)) encoding is not supported"
            )
        }
        let body = try readBody(header.compressedSize, at: bodyStart)
        let data = dictionaryPage.reserve(header.uncompressedSize)
        try decompressor.decompress(
            body,
            into: UnsafeMutableRawBufferPointer(start: data, count: header.uncompressedSize)
        )
        let n = header.valueCount
        let bytes = UnsafeRawBufferPointer(start: data, count: header.uncompressedSize)
        switch target {
        case .double: try decodePlainDoubles(bytes, n, into: dictionaryDoubles.reserve(n))
        case .millis, .integer: try decodePlainIntegers(bytes, n, into: dictionaryIntegers.reserve(n))
        case .bytes:
            try decodePlainByteArrays(
                bytes,
                n,
                starts: dictionaryStarts.reserve(n),
                lengths: dictionaryLengths.reserve(n)
            )
        }
        dictionaryCount = n
    }

    private func loadDataPage(_ header: ParquetPageHeader, at bodyStart: Int64) throws(ParquetFormatError) {
        let n = header.valueCount
        let body = try readBody(header.compressedSize, at: bodyStart)
        let data = page.reserve(max(header.uncompressedSize, 1))
        var levelBytes: UnsafeRawBufferPointer
        var valueBytes: UnsafeRawBufferPointer
        if header.kind == .dataV1 {
            try decompressor.decompress(
                body,
                into: UnsafeMutableRawBufferPointer(start: data, count: header.uncompressedSize)
            )
            let all = UnsafeRawBufferPointer(start: data, count: header.uncompressedSize)
            if leaf.maxDefinitionLevel > 0 {
                guard header.definitionLevelEncoding == 3 else {
                    throw ParquetFormatError(
                        "definition levels in \(Self.encodingName(header.definitionLevelEncoding)) encoding are not supported"
                    )
                }
                guard all.count >= 4 else { throw ParquetFormatError("a data page ends before its definition levels") }
                let length = Int(all.loadUnaligned(as: UInt32.self).littleEndian)
                guard length <= all.count - 4 else {
                    throw ParquetFormatError("the definition levels run past the page")
                }
                levelBytes = UnsafeRawBufferPointer(rebasing: all[4..<(4 + length)])
                valueBytes = UnsafeRawBufferPointer(rebasing: all[(4 + length)...])
            } else {
                levelBytes = UnsafeRawBufferPointer(start: nil, count: 0)
                valueBytes = all
            }
        } else {
            guard header.repetitionLevelsByteLength == 0 else {
                throw ParquetFormatError(
                    "a data page has repetition levels (a repeated column), which is not supported"
                )
            }
            let levelLength = header.definitionLevelsByteLength
            guard levelLength <= body.count, levelLength <= header.uncompressedSize else {
                throw ParquetFormatError("the definition levels run past the page")
            }
            if levelLength > 0 {
                data.update(from: body.baseAddress!.assumingMemoryBound(to: UInt8.self), count: levelLength)
            }
            let valuesSize = header.uncompressedSize - levelLength
            let compressedValues = UnsafeRawBufferPointer(rebasing: body[levelLength...])
            let output = UnsafeMutableRawBufferPointer(start: data + levelLength, count: valuesSize)
            if header.isCompressed {
                try decompressor.decompress(compressedValues, into: output)
            } else {
                guard compressedValues.count == valuesSize else {
                    throw ParquetFormatError("an uncompressed v2 page has the wrong size")
                }
                if valuesSize > 0 {
                    output.baseAddress!.copyMemory(from: compressedValues.baseAddress!, byteCount: valuesSize)
                }
            }
            levelBytes = UnsafeRawBufferPointer(start: data, count: levelLength)
            valueBytes = UnsafeRawBufferPointer(start: data + levelLength, count: valuesSize)
        }
        // Definition levels: which rows have a value.
        var nonNull = n
        validity = nil
        if leaf.maxDefinitionLevel > 0 {
            let lv = levels.reserve(n)
            try RLEHybridDecoder.decode(levelBytes, bitWidth: 1, count: n, into: lv)
            let flags = valid.reserve(n)
            var present = 0
            for r in 0..<n {
                let f = UInt8(truncatingIfNeeded: lv[r])
                flags[r] = f
                present &+= Int(f)
            }
            nonNull = present
            if present < n { validity = UnsafePointer(flags) }
        }
        // Values, packed at the front of the row arrays.
        switch header.encoding {
        case 0:
            switch target {
            case .double: try decodePlainDoubles(valueBytes, nonNull, into: doubleValues.reserve(n))
            case .millis, .integer: try decodePlainIntegers(valueBytes, nonNull, into: integerValues.reserve(n))
            case .bytes:
                try decodePlainByteArrays(valueBytes, nonNull, starts: starts.reserve(n), lengths: lengths.reserve(n))
                byteBase = UnsafePointer(data)
            }
        case 2, 8:
            guard dictionaryCount >= 0 else {
                throw ParquetFormatError("a dictionary-encoded page comes before any dictionary page")
            }
            let ids = indices.reserve(nonNull)
            if nonNull > 0 {
                guard valueBytes.count >= 1 else {
                    throw ParquetFormatError("a dictionary-encoded page has no bit width")
                }
                let width = Int(valueBytes[0])
                try RLEHybridDecoder.decode(
                    UnsafeRawBufferPointer(rebasing: valueBytes[1...]),
                    bitWidth: width,
                    count: nonNull,
                    into: ids
                )
            }
            let limit = UInt32(truncatingIfNeeded: dictionaryCount)
            for i in 0..<nonNull where ids[i] >= limit {
                throw ParquetFormatError(
                    "dictionary index \(ids[i]) is out of range (the dictionary has \(dictionaryCount) entries)"
                )
            }
            switch target {
            case .double:
                let out = doubleValues.reserve(n)
                let dict = dictionaryDoubles.base
                for i in 0..<nonNull { out[i] = dict[Int(ids[i])] }
            case .millis, .integer:
                let out = integerValues.reserve(n)
                let dict = dictionaryIntegers.base
                for i in 0..<nonNull { out[i] = dict[Int(ids[i])] }
            case .bytes:
                let s = starts.reserve(n)
                let l = lengths.reserve(n)
                let ds = dictionaryStarts.base
                let dl = dictionaryLengths.base
                for i in 0..<nonNull {
                    let k = Int(ids[i])
                    s[i] = ds[k]
                    l[i] = dl[k]
                }
                byteBase = UnsafePointer(dictionaryPage.base)
            }
        default:
            throw ParquetFormatError(
                "data pages in \(Self.encodingName(header.encoding)) encoding are not supported"
                    + " (PLAIN and dictionary are; write with the writer's defaults)"
            )
        }
        if let validity, nonNull < n { spread(validity, nonNull: nonNull, rows: n) }
        count = n
    }

    /// Moves the packed values to their rows (from the back, so in place), zeroing null rows.
    private func spread(_ flags: UnsafePointer<UInt8>, nonNull: Int, rows n: Int) {
        var k = nonNull
        switch target {
        case .double:
            let v = doubleValues.base
            for r in stride(from: n - 1, through: 0, by: -1) {
                if flags[r] != 0 {
                    k -= 1
                    v[r] = v[k]
                } else {
                    v[r] = 0
                }
            }
        case .millis, .integer:
            let v = integerValues.base
            for r in stride(from: n - 1, through: 0, by: -1) {
                if flags[r] != 0 {
                    k -= 1
                    v[r] = v[k]
                } else {
                    v[r] = 0
                }
            }
        case .bytes:
            let s = starts.base
            let l = lengths.base
            for r in stride(from: n - 1, through: 0, by: -1) {
                if flags[r] != 0 {
                    k -= 1
                    s[r] = s[k]
                    l[r] = l[k]
                } else {
                    s[r] = 0
                    l[r] = 0
                }
            }
        }
    }

    // MARK: PLAIN values

    private func need(_ bytes: UnsafeRawBufferPointer, _ n: Int, _ width: Int) throws(ParquetFormatError) {
        guard bytes.count / width >= n else {
            throw ParquetFormatError("a page ends before its \(n) values (truncated or corrupt)")
        }
    }

    private func decodePlainDoubles(
        _ bytes: UnsafeRawBufferPointer,
        _ n: Int,
        into out: UnsafeMutablePointer<Double>
    ) throws(ParquetFormatError) {
        guard n > 0 else { return }
        let p = bytes.baseAddress!
        switch leaf.physicalType {
        case 5:
            try need(bytes, n, 8)
            UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: n * 8)
        case 4:
            try need(bytes, n, 4)
            for i in 0..<n {
                out[i] = Double(
                    Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                )
            }
        case 1:
            try need(bytes, n, 4)
            if leaf.isUnsigned {
                for i in 0..<n {
                    out[i] = Double(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                }
            } else {
                for i in 0..<n {
                    out[i] = Double(Int32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                }
            }
        case 2:
            try need(bytes, n, 8)
            if leaf.isUnsigned {
                for i in 0..<n {
                    out[i] = Double(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
                }
            } else {
                for i in 0..<n {
                    out[i] = Double(Int64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)))
                }
            }
        default:
            throw ParquetFormatError("\(ParquetLeaf.physicalName(leaf.physicalType)) values cannot be read as numbers")
        }
    }

    private func decodePlainIntegers(
        _ bytes: UnsafeRawBufferPointer,
        _ n: Int,
        into out: UnsafeMutablePointer<Int64>
    ) throws(ParquetFormatError) {
        guard n > 0 else { return }
        let p = bytes.baseAddress!
        switch (leaf.physicalType, target) {
        case (3, .millis):
            try need(bytes, n, 12)
            let julianEpoch: Int64 = 2_440_588
            for i in 0..<n {
                let nanos = Int64(littleEndian: p.loadUnaligned(fromByteOffset: i * 12, as: Int64.self))
                let day = Int64(Int32(littleEndian: p.loadUnaligned(fromByteOffset: i * 12 + 8, as: Int32.self)))
                out[i] = (day - julianEpoch) * 86_400_000 + Self.floorDivide(nanos, 1_000_000)
            }
        case (1, .millis):
            try need(bytes, n, 4)
            for i in 0..<n {
                out[i] = Int64(Int32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))) * 86_400_000
            }
        case (2, .millis):
            try need(bytes, n, 8)
            let units = leaf.unitsPerMillisecond
            if units == 1 {
                UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: n * 8)
            } else {
                for i in 0..<n {
                    out[i] = Self.floorDivide(
                        Int64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: Int64.self)),
                        units
                    )
                }
            }
        case (1, .integer):
            try need(bytes, n, 4)
            if leaf.isUnsigned {
                for i in 0..<n {
                    out[i] = Int64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                }
            } else {
                for i in 0..<n {
                    out[i] = Int64(Int32(littleEndian: p.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                }
            }
        case (2, .integer):
            try need(bytes, n, 8)
            for i in 0..<n {
                let v = Int64(littleEndian: p.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                guard !leaf.isUnsigned || v >= 0 else {
                    throw ParquetFormatError("an unsigned 64-bit value is too large")
                }
                out[i] = v
            }
        default:
            throw ParquetFormatError(
                "\(ParquetLeaf.physicalName(leaf.physicalType)) values cannot be read as \(target)"
            )
        }
    }

    private func decodePlainByteArrays(
        _ bytes: UnsafeRawBufferPointer,
        _ n: Int,
        starts s: UnsafeMutablePointer<Int>,
        lengths l: UnsafeMutablePointer<Int32>
    ) throws(ParquetFormatError) {
        guard n > 0 else { return }
        guard let p = bytes.baseAddress else {
            throw ParquetFormatError("a page ends before its \(n) values (truncated or corrupt)")
        }
        // Starts are offsets from the start of the buffer the bytes lie in (the page or the dictionary page).
        var q = p - UnsafeRawPointer(bufferBase(for: bytes))
        let end = q + bytes.count
        let buffer = UnsafeRawPointer(bufferBase(for: bytes))
        for i in 0..<n {
            guard end - q >= 4 else {
                throw ParquetFormatError("a page ends before its \(n) values (truncated or corrupt)")
            }
            let length = Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: q, as: UInt32.self)))
            q += 4
            guard length <= end - q else {
                throw ParquetFormatError("a string runs past the end of its page (truncated or corrupt)")
            }
            s[i] = q
            l[i] = Int32(length)
            q += length
        }
    }

    /// The buffer `bytes` lies in: the dictionary page or the data page.
    private func bufferBase(for bytes: UnsafeRawBufferPointer) -> UnsafeMutablePointer<UInt8> {
        let p = UnsafeRawPointer(bytes.baseAddress!)
        let d = UnsafeRawPointer(dictionaryPage.base)
        if p >= d && p < d + dictionaryPage.capacity { return dictionaryPage.base }
        return page.base
    }

    @inline(__always)
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func encodingName(_ encoding: Int32) -> String {
        switch encoding {
        case 0: "PLAIN"
        case 2: "PLAIN_DICTIONARY"
        case 3: "RLE"
        case 4: "BIT_PACKED"
        case 5: "DELTA_BINARY_PACKED"
        case 6: "DELTA_LENGTH_BYTE_ARRAY"
        case 7: "DELTA_BYTE_ARRAY"
        case 8: "RLE_DICTIONARY"
        case 9: "BYTE_STREAM_SPLIT"
        default: "encoding \(encoding)"
        }
    }
}
