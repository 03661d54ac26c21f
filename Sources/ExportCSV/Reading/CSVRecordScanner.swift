internal import ExportCore

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Splits a CSV byte stream into records and fields, reading it from an ``InputByteSource`` in
/// large blocks (a file, a pipe, standard input, gzip inflated on the fly).
///
/// RFC 4180: fields separated by `,`, records by LF or CRLF, a field that starts with `"` runs to
/// the matching `"` and may hold `,`, CR, LF and `""` (an escaped quote). A `"` inside an unquoted
/// field is kept as data. A UTF-8 byte order mark at the start of the file is skipped; empty lines
/// are skipped (they still count as lines).
///
/// Cost: one pass over the bytes to find the field boundaries, no allocation per record. Memory
/// is one block buffer (``blockSize``, grown only for a single record longer than it) and the
/// field offsets of one record. The fields of the current record are views into the block
/// buffer, valid until the next call to ``nextRecord()``.
final class CSVRecordScanner {
    /// The path as the user gave it, for error locations.
    let path: String
    private var source: any InputByteSource
    /// Bytes read from the source so far (not all of them consumed yet).
    private var bytesRead = 0
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// First byte not yet consumed.
    private var start = 0
    /// End of the valid bytes in `buffer`.
    private var end = 0
    private var atEndOfFile = false
    /// Physical line of the next record (1-based).
    private var nextLine = 1

    /// Physical line (1-based) on which the current record starts.
    private var recordLine = 0
    /// Bytes of the current record, its line end included.
    private var recordBytes = 0
    /// Number of fields in the current record.
    private var fieldCount = 0
    private var fieldStarts: UnsafeMutablePointer<Int>
    private var fieldEnds: UnsafeMutablePointer<Int>
    /// 0: unquoted, 1: quoted, 2: quoted with `""` escapes still to be collapsed.
    private var fieldQuoting: UnsafeMutablePointer<UInt8>
    private var fieldCapacity: Int
    /// Whether a field of the current record still has `""` to collapse.
    private var hasEscapedQuotes = false

    private static let comma = UInt8(ascii: ",")
    private static let quote = UInt8(ascii: "\"")
    private static let lineFeed = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")

    /// The read block size: large enough that `read` calls cost nothing per row.
    static let defaultBlockSize = 4 << 20
    /// The default for ``maxRecordBytes``: 64 MiB.
    static let defaultMaxRecordBytes = 64 << 20

    /// The longest record accepted, in bytes (a quoted field is part of its record). The block
    /// buffer grows for a long record only up to about this size; past it, ``nextRecord()``
    /// throws an input error naming the line where the record starts.
    var maxRecordBytes = defaultMaxRecordBytes

    /// Reads `source` from where it stands (its first byte, for a fresh source). A UTF-8 byte
    /// order mark at its start is skipped unless `skipsByteOrderMark` is false (a source that is
    /// the middle of a file).
    init(
        source: any InputByteSource,
        blockSize: Int = defaultBlockSize,
        skipsByteOrderMark: Bool = true
    ) throws(ExportError) {
        self.path = source.name
        self.source = source
        self.capacity = max(blockSize, 4)
        self.buffer = .allocate(capacity: capacity)
        self.fieldCapacity = 32
        self.fieldStarts = .allocate(capacity: fieldCapacity)
        self.fieldEnds = .allocate(capacity: fieldCapacity)
        self.fieldQuoting = .allocate(capacity: fieldCapacity)
        if skipsByteOrderMark {
            while end < 3 && !atEndOfFile { try refill() }
            if end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { start = 3 }
        }
    }

    /// Starts over on `source` (the middle of a file: no byte order mark is looked for), keeping
    /// the block buffer; the first record of `source` is on line `firstLine`.
    func restart(on source: any InputByteSource, firstLine: Int = 1) {
        self.source = source
        start = 0
        end = 0
        bytesRead = 0
        atEndOfFile = false
        nextLine = firstLine
        recordLine = 0
        recordBytes = 0
        fieldCount = 0
        hasEscapedQuotes = false
    }

    /// Bytes of the source consumed by the records returned so far (with a skipped byte order
    /// mark): where the next record starts.
    var consumedBytes: Int { bytesRead - (end - start) }

    /// Physical lines consumed so far: every line of the source once the end is reached.
    var linesConsumed: Int { nextLine - 1 }

    deinit {
        buffer.deallocate()
        fieldStarts.deallocate()
        fieldEnds.deallocate()
        fieldQuoting.deallocate()
    }

    /// The header's column names, once known (error messages name the column).
    var columnNames: [String] = []

    /// The current record. Valid until the next ``nextRecord()``.
    var record: CSVRecord {
        CSVRecord(base: buffer, starts: fieldStarts, ends: fieldEnds, count: fieldCount, line: recordLine)
    }

    /// Advances to the next non-empty record and returns it; nil at the end of the input.
    /// Throws for an unterminated quoted field, a character after a closing quote, or a read error.
    @inline(__always)
    func nextRecord() throws(ExportError) -> CSVRecord? {
        while true {
            switch scanRecord() {
            case .complete:
                if recordBytes > maxRecordBytes { throw recordTooLong(line: recordLine) }
                if fieldCount == 1 && fieldQuoting[0] == 0 && fieldStarts[0] == fieldEnds[0] { continue }
                if hasEscapedQuotes { collapseEscapedQuotes() }
                return record
            case .endOfInput:
                return nil
            case .needMoreData:
                try refill()
            case .unterminatedQuote(let field):
                throw .input(
                    "Unterminated quoted field: the file ends before the closing '\"' of the field that starts here",
                    at: .init(file: path, line: nextLine, column: field + 1)
                )
            case .characterAfterClosingQuote(let field):
                throw .input(
                    "Malformed quoted field: a closing '\"' must be followed by ',' or the end of the line"
                        + " (write a quote inside a quoted field as \"\")",
                    at: .init(file: path, line: nextLine, column: field + 1)
                )
            }
        }
    }

    /// Whether field `index` of the record just read was quoted (a quoted field may hold CR and LF).
    func fieldWasQuoted(_ index: Int) -> Bool { fieldQuoting[index] != 0 }

    private enum ScanResult {
        case complete
        case endOfInput
        case needMoreData
        case unterminatedQuote(field: Int)
        case characterAfterClosingQuote(field: Int)
    }

    /// Scans one record from `start`. Either consumes it whole (`.complete`) or changes nothing.
    private func scanRecord() -> ScanResult {
        let buf = buffer
        let end = self.end
        let eof = atEndOfFile
        var p = start
        var count = 0
        var newlines = 0
        var escapes = false
        if p == end { return eof ? .endOfInput : .needMoreData }
        while true {
            if p < end && buf[p] == Self.quote {
                var q = p + 1
                var escaped = false
                while true {
                    while q < end && buf[q] != Self.quote {
                        if buf[q] == Self.lineFeed { newlines += 1 }
                        q += 1
                    }
                    if q == end { return eof ? .unterminatedQuote(field: count) : .needMoreData }
                    if q + 1 == end && !eof { return .needMoreData }
                    if q + 1 < end && buf[q + 1] == Self.quote {
                        escaped = true
                        q += 2
                        continue
                    }
                    break
                }
                escapes = escapes || escaped
                addField(count, p + 1, q, escaped ? 2 : 1)
                count += 1
                p = q + 1
                if p == end { break }
                let c = buf[p]
                if c == Self.comma {
                    p += 1
                    continue
                }
                if c == Self.lineFeed {
                    p += 1
                    break
                }
                if c == Self.carriageReturn {
                    if p + 1 == end {
                        if !eof { return .needMoreData }
                        p += 1
                        break
                    }
                    if buf[p + 1] == Self.lineFeed {
                        p += 2
                        break
                    }
                }
                return .characterAfterClosingQuote(field: count - 1)
            } else {
                let q = Self.findDelimiter(buf, from: p, to: end)
                if q < end && buf[q] == Self.comma {
                    addField(count, p, q, 0)
                    count += 1
                    p = q + 1
                    continue
                }
                if q == end && !eof { return .needMoreData }
                var fieldEnd = q
                if fieldEnd > p && buf[fieldEnd - 1] == Self.carriageReturn { fieldEnd -= 1 }
                addField(count, p, fieldEnd, 0)
                count += 1
                p = q == end ? q : q + 1
                break
            }
        }
        recordLine = nextLine
        recordBytes = p - start
        nextLine += 1 + newlines
        fieldCount = count
        hasEscapedQuotes = escapes
        start = p
        return .complete
    }

    /// The first `,` or LF in `buf[from..<to]`, or `to`. Eight bytes at a time (SWAR): a byte of
    /// `w ^ pattern` is zero where `w` has the pattern's byte, and `(v - 0x01…) & ~v & 0x80…` marks
    /// the lowest zero byte exactly (borrows only create false marks above it).
    @inline(__always)
    private static func findDelimiter(_ buf: UnsafeMutablePointer<UInt8>, from: Int, to end: Int) -> Int {
        var q = from
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while q &+ 8 <= end {
            let w = UnsafeRawPointer(buf + q).loadUnaligned(as: UInt64.self).littleEndian
            let commas = w ^ 0x2C2C_2C2C_2C2C_2C2C
            let lineFeeds = w ^ 0x0A0A_0A0A_0A0A_0A0A
            let marks = ((commas &- ones) & ~commas | (lineFeeds &- ones) & ~lineFeeds) & highs
            if marks != 0 { return q &+ marks.trailingZeroBitCount >> 3 }
            q &+= 8
        }
        while q < end {
            let c = buf[q]
            if c == comma || c == lineFeed { return q }
            q &+= 1
        }
        return q
    }

    @inline(__always)
    private func addField(_ index: Int, _ fieldStart: Int, _ fieldEnd: Int, _ quoting: UInt8) {
        if index >= fieldCapacity { growFields() }
        fieldStarts[index] = fieldStart
        fieldEnds[index] = fieldEnd
        fieldQuoting[index] = quoting
    }

    @inline(never)
    private func growFields() {
        let newCapacity = fieldCapacity * 2
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
        let ends = UnsafeMutablePointer<Int>.allocate(capacity: newCapacity)
        let quoting = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        starts.update(from: fieldStarts, count: fieldCapacity)
        ends.update(from: fieldEnds, count: fieldCapacity)
        quoting.update(from: fieldQuoting, count: fieldCapacity)
        fieldStarts.deallocate()
        fieldEnds.deallocate()
        fieldQuoting.deallocate()
        fieldStarts = starts
        fieldEnds = ends
        fieldQuoting = quoting
        fieldCapacity = newCapacity
    }

    /// Collapses `""` to `"` in place in the fields that have them. The record is consumed, so its
    /// bytes in the block buffer are free to rewrite.
    private func collapseEscapedQuotes() {
        for i in 0..<fieldCount where fieldQuoting[i] == 2 {
            var read = fieldStarts[i]
            var write = read
            let end = fieldEnds[i]
            while read < end {
                let c = buffer[read]
                buffer[write] = c
                write += 1
                read += c == Self.quote ? 2 : 1
            }
            fieldEnds[i] = write
            fieldQuoting[i] = 1
        }
    }

    @inline(never)
    private func recordTooLong(line: Int) -> ExportError {
        .input(
            "A record longer than \(maxRecordBytes) bytes starts here (a line without an end, or a quoted field"
                + " without its closing '\"'); raise --max-record-bytes if such a record is real",
            at: .init(file: path, line: line)
        )
    }

    /// Moves the unconsumed bytes to the front (growing the buffer when one record fills it) and
    /// reads the next block.
    private func refill() throws(ExportError) {
        if start > 0 {
            let remaining = end - start
            if remaining > 0 { memmove(buffer, buffer + start, remaining) }
            end = remaining
            start = 0
        }
        // What is left is the start of one record that did not fit.
        guard end < maxRecordBytes else { throw recordTooLong(line: nextLine) }
        if end == capacity {
            let newCapacity = min(capacity * 2, maxRecordBytes + 4096)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        let n = try source.read(into: buffer + end, count: capacity - end)
        if n > 0 {
            end += n
            bytesRead += n
        } else {
            atEndOfFile = true
        }
    }
}
