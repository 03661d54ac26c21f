import ExportCore
import ExportSinks

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A sorted run of rows in a temporary file, in a compact binary form (not CSV).
///
/// Row layout, little-endian: a flag byte (1 = a new series key follows: for each key value a
/// 4-byte length and its UTF-8 bytes), window start, timestamp and window end as 8-byte integers,
/// the row's provenance (``RowProvenance``, 8 bytes), a presence bitmap of `(1 + forecast types)`
/// bits, then the target and each forecast as 8-byte IEEE doubles. Written through a 1 MiB
/// buffer, read through a buffer of ``Reader``'s choosing.
enum SpillRun {
    static let bufferSize = 1 << 20

    /// Appends rows to a new run file.
    struct Writer {
        let path: String
        private let fd: Int32
        private var buffer: [UInt8] = []
        private var lastKey: SeriesKey?

        init(path: String) throws {
            self.path = path
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SpillRun.error("cannot create the temporary file", path) }
            buffer.reserveCapacity(SpillRun.bufferSize + 4096)
        }

        /// Appends `rows`, which are in the export's order; `keys` are the series of
        /// `rows.seriesIndex`; `provenance` gives each row's provenance.
        mutating func append(
            _ rows: ForecastBatch,
            keys: [SeriesKey],
            provenance: (Int) -> UInt64
        ) throws {
            let columns = [rows.target] + rows.forecasts
            let columnCount = columns.count
            let bitmapBytes = (columnCount + 7) / 8
            // A row's fixed-size fields: three times, provenance, bitmap, values.
            let fixedBytes = 32 + bitmapBytes + 8 * columnCount
            var lastIndex: Int32 = -1
            for row in 0..<rows.rowCount {
                let index = rows.seriesIndex[row]
                // Within one call, an unchanged series index is an unchanged key: no compare.
                if index != lastIndex, case let key = keys[Int(index)], key != lastKey {
                    buffer.append(1)
                    for value in key.values {
                        let count = UInt32(value.utf8.count)
                        withUnsafeBytes(of: count.littleEndian) { buffer.append(contentsOf: $0) }
                        buffer.append(contentsOf: value.utf8)
                    }
                    lastKey = key
                } else {
                    buffer.append(0)
                }
                lastIndex = index
                let rowWindow = RowBuffer.Window(start: rows.windowStart[row], end: rows.windowEnd[row])
                let rowProvenance = provenance(row)
                let at = buffer.count
                buffer.append(contentsOf: repeatElement(0, count: fixedBytes))
                buffer.withUnsafeMutableBytes { out in
                    out.storeBytes(
                        of: UInt64(bitPattern: rowWindow.start).littleEndian,
                        toByteOffset: at,
                        as: UInt64.self
                    )
                    out.storeBytes(
                        of: UInt64(bitPattern: rows.timestamp[row]).littleEndian,
                        toByteOffset: at + 8,
                        as: UInt64.self
                    )
                    out.storeBytes(
                        of: UInt64(bitPattern: rowWindow.end).littleEndian,
                        toByteOffset: at + 16,
                        as: UInt64.self
                    )
                    out.storeBytes(of: rowProvenance.littleEndian, toByteOffset: at + 24, as: UInt64.self)
                    var offset = at + 32 + bitmapBytes
                    // Indexed, not iterated: iterating would copy each column (and count references)
                    // on every row.
                    for i in 0..<columnCount {
                        if columns[i].isPresent?[row] ?? true { out[at + 32 + i / 8] |= 1 << (i % 8) }
                        out.storeBytes(
                            of: columns[i].values[row].bitPattern.littleEndian,
                            toByteOffset: offset,
                            as: UInt64.self
                        )
                        offset += 8
                    }
                }
                if buffer.count >= SpillRun.bufferSize { try flush() }
            }
        }

        mutating func flush() throws {
            try buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw SpillRun.error("cannot write the temporary file", path)
                    }
                    offset += n
                }
            }
            buffer.removeAll(keepingCapacity: true)
        }

        consuming func close() throws {
            try flush()
            guard Glibc.close(fd) == 0 else { throw SpillRun.error("cannot close the temporary file", path) }
        }
    }

    /// Reads a run file row by row, through a buffer it owns.
    ///
    /// One thread uses a reader at a time (the grouper's): its hot properties skip the runtime's
    /// exclusivity bookkeeping, which cost about a tenth of a spilling export's CPU time.
    final class Reader {
        let path: String
        private let fd: Int32
        private let columnCount: Int
        private let keyValueCount: Int
        @exclusivity(unchecked) private var storage: UnsafeMutableRawBufferPointer
        @exclusivity(unchecked) private var position = 0
        @exclusivity(unchecked) private var end = 0
        private var endOfFile = false

        /// The current row (valid after ``advance()`` returned true).
        @exclusivity(unchecked) private(set) var key = SeriesKey(itemId: "")
        @exclusivity(unchecked) private(set) var windowStart: Int64 = 0
        @exclusivity(unchecked) private(set) var timestamp: Int64 = 0
        @exclusivity(unchecked) private(set) var windowEnd: Int64 = 0
        @exclusivity(unchecked) private(set) var provenance: UInt64 = 0
        /// Target, then the forecasts (0 where missing; see ``isPresent(_:)``).
        @exclusivity(unchecked) private(set) var values: [Double]
        @exclusivity(unchecked) private var presence: UInt64 = 0
        @exclusivity(unchecked) private var presenceBytes: [UInt8]
        /// Whether ``advance()`` reads the values and their presence; a reader used only to
        /// compare keys (the duplicate check) skips them.
        @exclusivity(unchecked) var readsValues = true
        /// Counts series changes: equal stamps of one reader mean the same ``key``.
        @exclusivity(unchecked) private(set) var keyStamp = 0

        /// Whether value `column` of the current row is present.
        @inline(__always)
        func isPresent(_ column: Int) -> Bool {
            column < 64 ? presence & (1 << UInt64(column)) != 0 : presenceBytes[column / 8] & (1 << (column % 8)) != 0
        }

        /// Appends the current row to `batch` (its series must already be `batch`'s last).
        func appendRow(to batch: inout ForecastBatch) {
            batch.seriesIndex.append(Int32(batch.series.count - 1))
            batch.timestamp.append(timestamp)
            batch.windowStart.append(windowStart)
            batch.windowEnd.append(windowEnd)
            batch.target.append(isPresent(0) ? values[0] : nil)
            for i in 0..<batch.forecasts.count { batch.forecasts[i].append(isPresent(i + 1) ? values[i + 1] : nil) }
        }

        init(path: String, forecastTypeCount: Int, dimensionCount: Int, bufferSize: Int = 256 << 10) throws {
            self.path = path
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SpillRun.error("cannot open the temporary file", path) }
            columnCount = 1 + forecastTypeCount
            keyValueCount = 1 + dimensionCount
            values = Array(repeating: 0, count: columnCount)
            presenceBytes = Array(repeating: 0, count: (columnCount + 7) / 8)
            storage = .allocate(byteCount: max(bufferSize, 4096), alignment: 8)
        }

        deinit {
            storage.deallocate()
            _ = Glibc.close(fd)
        }

        /// Moves to the next row; false at the end of the run.
        func advance() throws -> Bool {
            guard try ensure(1) else { return false }
            let flag = storage[position]
            position += 1
            if flag == 1 {
                var parts: [String] = []
                for _ in 0..<keyValueCount {
                    guard try ensure(4) else { throw truncated() }
                    let count = Int(readInteger(UInt32.self))
                    guard try ensure(count) else { throw truncated() }
                    parts.append(String(decoding: storage[position..<(position + count)], as: UTF8.self))
                    position += count
                }
                key = SeriesKey(itemId: parts[0], dimensions: Array(parts.dropFirst()))
                keyStamp += 1
            }
            let bitmapBytes = (columnCount + 7) / 8
            guard try ensure(32 + bitmapBytes + 8 * columnCount) else { throw truncated() }
            windowStart = Int64(bitPattern: readInteger(UInt64.self))
            timestamp = Int64(bitPattern: readInteger(UInt64.self))
            windowEnd = Int64(bitPattern: readInteger(UInt64.self))
            provenance = readInteger(UInt64.self)
            guard readsValues else {
                position += bitmapBytes + 8 * columnCount
                return true
            }
            presence = 0
            for i in 0..<bitmapBytes {
                let byte = storage[position + i]
                presenceBytes[i] = byte
                if i < 8 { presence |= UInt64(byte) << UInt64(8 * i) }
            }
            position += bitmapBytes
            for i in 0..<columnCount { values[i] = Double(bitPattern: readInteger(UInt64.self)) }
            return true
        }

        private func readInteger<T: FixedWidthInteger>(_: T.Type) -> T {
            let value = storage.loadUnaligned(fromByteOffset: position, as: T.self)
            position += T.bitWidth / 8
            return T(littleEndian: value)
        }

        /// Makes sure `count` bytes are buffered; false if the file ends first with none buffered.
        private func ensure(_ count: Int) throws -> Bool {
            if end - position >= count { return true }
            // Move what is left to the front, grow if one value is larger than the buffer.
            let left = end - position
            if left > 0, let base = storage.baseAddress { base.copyMemory(from: base + position, byteCount: left) }
            position = 0
            end = left
            if count > storage.count {
                let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: count * 2, alignment: 8)
                larger.baseAddress!.copyMemory(from: storage.baseAddress!, byteCount: left)
                storage.deallocate()
                storage = larger
            }
            while end < count && !endOfFile {
                let n = read(fd, storage.baseAddress! + end, storage.count - end)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SpillRun.error("cannot read the temporary file", path)
                }
                if n == 0 { endOfFile = true }
                end += n
            }
            if end >= count { return true }
            if end == 0 { return false }
            throw truncated()
        }

        private func truncated() -> ExportError { .internal("Temporary file '\(path)' is truncated") }
    }

    static func error(_ what: String, _ path: String) -> ExportError {
        let code = errno
        let hint = code == ENOSPC ? " (the temporary folder's disk is full; use --temp-dir or --memory-limit)" : ""
        return .sink(
            "\(what.prefix(1).uppercased() + what.dropFirst()) '\(path)': \(String(cString: strerror(code)))\(hint)"
        )
    }
}
