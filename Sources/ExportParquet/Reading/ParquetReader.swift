public import ExportCore

#if canImport(Glibc)
internal import Glibc
#endif

/// Reads flat Parquet files as pipelines write them (pyarrow, pandas, polars, DuckDB, Spark,
/// fastparquet; `research/parquet-inputs.md`): the footer, then one row group at a time through
/// ``ParquetColumnCursor``s, page by page.
///
/// Handles data pages v1 and v2, PLAIN and dictionary (PLAIN_DICTIONARY / RLE_DICTIONARY, also
/// mixed with PLAIN pages in one chunk), RLE/bit-packed definition levels (OPTIONAL columns),
/// SNAPPY, GZIP, ZSTD and uncompressed pages, and the types listed in ``ParquetColumnKind``.
/// Anything else (a nested or repeated column, another encoding or codec, encryption) is an input
/// error naming the file, the column and the feature: never a guess.
///
/// Memory: the footer, plus per open cursor one compressed and one decompressed page and the
/// chunk's dictionary; never the whole file. Needs a seekable file (reads at offsets with `pread`).
public final class ParquetReader {
    /// The path as the user gave it (in error messages).
    public let path: String
    /// The columns, in file order.
    public let columnNames: [String]
    /// What each column holds.
    public let columnKinds: [ParquetColumnKind]
    let leaves: [ParquetLeaf]
    let footer: ParquetFooter
    let fileDescriptor: Int32
    /// Where the footer starts: every page lies before it.
    let dataEnd: Int64

    /// The magic at both ends of a Parquet file.
    public static let magic: [UInt8] = Array("PAR1".utf8)

    /// Opens `path` and reads its footer and schema. Throws an input error when the file cannot
    /// be read, is not Parquet or is truncated, is encrypted, or has a nested or repeated column.
    /// With `name`, errors (and ``path``) name the input so: for a copy of standard input, `-`.
    public init(path: String, name: String? = nil) throws(ExportError) {
        let shownPath = name ?? path
        self.path = shownPath
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw .input("Cannot open input file '\(shownPath)': \(reason)")
        }
        fileDescriptor = fd
        do throws(ParquetFormatError) {
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
                throw ParquetFormatError(
                    "a Parquet input must be a regular file (it is read at offsets); save a piped Parquet stream to a file first"
                )
            }
            let size = Int64(info.st_size)
            guard size >= 12 else { throw ParquetFormatError("the file is too short to be Parquet (truncated?)") }
            var tail = [UInt8](repeating: 0, count: 8)
            try Self.readExactly(fd, into: &tail, at: size - 8)
            var head = [UInt8](repeating: 0, count: 4)
            try Self.readExactly(fd, into: &head, at: 0)
            guard head == Self.magic else {
                throw ParquetFormatError("the file does not start with PAR1: it is not Parquet")
            }
            if Array(tail[4..<8]) == Array("PARE".utf8) {
                throw ParquetFormatError("the file is encrypted (PARE), which is not supported")
            }
            guard Array(tail[4..<8]) == Self.magic else {
                throw ParquetFormatError("the file does not end with PAR1: it is truncated or not Parquet")
            }
            let footerLength = Int64(tail[0]) | Int64(tail[1]) << 8 | Int64(tail[2]) << 16 | Int64(tail[3]) << 24
            guard footerLength > 0, footerLength <= size - 12 else {
                throw ParquetFormatError(
                    "the footer length \(footerLength) does not fit the file (truncated or corrupt)"
                )
            }
            dataEnd = size - 8 - footerLength
            var footerBytes = [UInt8](repeating: 0, count: Int(footerLength))
            try Self.readExactly(fd, into: &footerBytes, at: dataEnd)
            let decoded = footerBytes.withUnsafeBytes { raw in
                Result { () throws(ParquetFormatError) in try ParquetFooter(decoding: raw) }
            }
            footer = try decoded.get()
            leaves = try Self.flatLeaves(footer)
            try Self.checkRowGroups(footer, leaves: leaves, dataEnd: dataEnd)
        } catch {
            close(fd)
            throw .input("Cannot read Parquet file '\(shownPath)': \(error.message)")
        }
        columnNames = leaves.map(\.name)
        columnKinds = leaves.map(\.kind)
    }

    deinit { close(fileDescriptor) }

    /// The number of row groups.
    public var rowGroupCount: Int { footer.rowGroups.count }

    /// The rows in row group `index`.
    public func rowCount(ofRowGroup index: Int) -> Int { Int(footer.rowGroups[index].rowCount) }

    /// A cursor over column `column` of row group `rowGroup`, handing out values as `target`.
    /// Throws when the column's kind cannot give that target, or its codec is not supported.
    public func cursor(
        rowGroup: Int,
        column: Int,
        as target: ParquetValueTarget
    ) throws(ExportError) -> ParquetColumnCursor {
        try ParquetColumnCursor(reader: self, rowGroup: rowGroup, column: column, target: target)
    }

    static func readExactly(_ fd: Int32, into bytes: inout [UInt8], at offset: Int64) throws(ParquetFormatError) {
        let count = bytes.count
        let n = bytes.withUnsafeMutableBytes { raw in
            preadFully(fd, raw.baseAddress!, count, offset)
        }
        guard n == count else {
            throw ParquetFormatError(
                n < 0 ? "read failed: \(String(cString: strerror(errno)))" : "the file ends early (truncated)"
            )
        }
    }

    /// Reads `count` bytes at `offset`; returns fewer only at the end of the file, -1 on error.
    static func preadFully(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: Int64) -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, buffer + done, count - done, off_t(offset) + off_t(done))
            if n > 0 {
                done += n
            } else if n == 0 {
                break
            } else if errno != EINTR {
                return -1
            }
        }
        return done
    }

    private static func flatLeaves(_ footer: ParquetFooter) throws(ParquetFormatError) -> [ParquetLeaf] {
        let schema = footer.schema
        guard let root = schema.first else { throw ParquetFormatError("the footer has an empty schema") }
        var leaves: [ParquetLeaf] = []
        var i = 1
        for _ in 0..<root.childCount {
            guard i < schema.count else { throw ParquetFormatError("the schema has fewer elements than it declares") }
            let node = schema[i]
            if node.childCount > 0 || node.physicalType == nil {
                throw ParquetFormatError(
                    "column '\(node.name)' is a nested column (a group: struct, list or map), which is not supported;"
                        + " flatten it to plain columns"
                )
            }
            if node.repetition == 2 {
                throw ParquetFormatError("column '\(node.name)' is REPEATED (a list), which is not supported")
            }
            leaves.append(ParquetLeaf(node))
            i += 1
        }
        guard i == schema.count else { throw ParquetFormatError("the schema has more elements than its root declares") }
        return leaves
    }

    private static func checkRowGroups(
        _ footer: ParquetFooter,
        leaves: [ParquetLeaf],
        dataEnd: Int64
    ) throws(ParquetFormatError) {
        for (g, group) in footer.rowGroups.enumerated() {
            guard group.rowCount >= 0 else { throw ParquetFormatError("row group \(g) has a negative row count") }
            guard group.columns.count == leaves.count else {
                throw ParquetFormatError(
                    "row group \(g) has \(group.columns.count) column chunks for \(leaves.count) columns"
                )
            }
            for (c, chunk) in group.columns.enumerated() {
                let name = leaves[c].name
                guard chunk.filePath == nil else {
                    throw ParquetFormatError(
                        "row group \(g), column '\(name)': pages in another file are not supported"
                    )
                }
                guard chunk.hasMetadata, chunk.path == [name], chunk.physicalType == leaves[c].physicalType else {
                    throw ParquetFormatError(
                        "row group \(g), column '\(name)': the chunk metadata does not match the schema"
                    )
                }
                // An empty row group's chunks hold no page to read (pyarrow writes a zero-row file's
                // one group with its page offsets at 0); the reader skips such groups.
                if group.rowCount == 0 { continue }
                let start = chunk.start
                guard start >= 4, chunk.totalCompressedSize >= 0,
                    start <= dataEnd, chunk.totalCompressedSize <= dataEnd - start
                else {
                    throw ParquetFormatError(
                        "row group \(g), column '\(name)': its pages (bytes \(start)..<\(start &+ chunk.totalCompressedSize))"
                            + " lie outside the data before the footer at \(dataEnd) (truncated or corrupt)"
                    )
                }
            }
        }
    }
}

extension ParquetFooter.ChunkLocation {
    /// Where the chunk's first page is: the dictionary page when there is one (a positive offset
    /// before the first data page), else the first data page.
    var start: Int64 {
        if let d = dictionaryPageOffset, d > 0, d < dataPageOffset { return d }
        return dataPageOffset
    }
}
