import ExportCore
import ExportSinks

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Holds the `accuracy-metrics-values` rows while the forecast table is written (the metrics
/// table is written after it), in bounded memory.
///
/// Rows are gathered into batches of ``batchRows`` rows; up to ``memoryLimit`` bytes of them stay
/// in memory; past that, every batch (those held, then the rest) goes to one temporary file in a
/// compact binary form, read back batch by batch. So memory is one batch plus the limit, whatever
/// the number of series. The file (in a spill folder of its own) is removed when the spool is read
/// to the end, fails, or ends.
final class MetricsSpool {
    let metricCount: Int
    let memoryLimit: Int
    let batchRows: Int
    private let temporaryDirectory: String
    private var held: [MetricsBatch] = []
    private var heldBytes = 0
    private var open: MetricsBatch
    private var file: (path: String, registration: Int, fd: Int32, folder: (path: String, token: Int))?
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var readStorage: [UInt8] = []
    private var readPosition = 0
    private var readEnd = 0
    private var endOfFile = false
    /// Whether rows went to the temporary file (for tests and benchmarks).
    var spilled: Bool { file != nil }

    init(metricCount: Int, temporaryDirectory: String, memoryLimit: Int = 16 << 20, batchRows: Int = 4096) {
        self.metricCount = metricCount
        self.temporaryDirectory = temporaryDirectory
        self.memoryLimit = memoryLimit
        self.batchRows = max(1, batchRows)
        open = MetricsBatch(metricCount: metricCount)
    }

    deinit { removeFile() }

    /// Appends every row of `batch`.
    func append(_ batch: MetricsBatch) throws {
        for row in 0..<batch.rowCount {
            let key = batch.series[Int(batch.seriesIndex[row])]
            if open.series.last != key { open.series.append(key) }
            open.seriesIndex.append(Int32(open.series.count - 1))
            open.backtestWindow.append(batch.backtestWindow[row])
            open.windowStart.append(batch.windowStart[row])
            open.windowEnd.append(batch.windowEnd[row])
            for m in 0..<metricCount { open.metrics[m].append(batch.metrics[m][row]) }
            if open.rowCount >= batchRows { try seal() }
        }
    }

    /// Ends appending; then ``next()`` hands the batches out in order.
    func finishAppending() throws {
        if open.rowCount > 0 { try seal() }
        if let file {
            try flush()
            guard lseek(file.fd, 0, SEEK_SET) == 0 else {
                throw SpillRun.error("cannot read the temporary file", file.path)
            }
        }
    }

    /// The next batch, or nil at the end.
    func next() throws -> MetricsBatch? {
        if file == nil {
            guard readIndex < held.count else { return nil }
            defer { readIndex += 1 }
            return held[readIndex]
        }
        guard let batch = try readBatch() else {
            removeFile()
            return nil
        }
        return batch
    }

    private func seal() throws {
        let batch = open
        open = MetricsBatch(metricCount: metricCount)
        if file == nil {
            held.append(batch)
            heldBytes += Self.estimatedBytes(batch)
            if heldBytes <= memoryLimit { return }
            try createFile()
            for earlier in held { try write(earlier) }
            held.removeAll()
            return
        }
        try write(batch)
    }

    private static func estimatedBytes(_ batch: MetricsBatch) -> Int {
        batch.rowCount * (4 + 1 + 16 + 9 * batch.metrics.count)
            + batch.series.reduce(0) { $0 + 64 + $1.values.reduce(0) { $0 + $1.utf8.count + 16 } }
    }

    // MARK: - File

    /// Creates the file in a spill folder of its own (``TemporaryFiles/makeFolder(in:)``), so that
    /// what a killed run leaves is removed by the next run like any spill folder.
    private func createFile() throws {
        guard let folder = TemporaryFiles.makeFolder(in: temporaryDirectory) else {
            throw SpillRun.error("cannot create a temporary folder (--temp-dir) in", temporaryDirectory)
        }
        let path = folder.path + "/metrics.bin"
        let registration = TemporaryFiles.register(path)
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let error = SpillRun.error("cannot create the temporary file", path)
            TemporaryFiles.unregister(registration)
            TemporaryFiles.removeFolder(folder.path, token: folder.token)
            throw error
        }
        file = (path, registration, fd, folder)
        buffer.reserveCapacity(1 << 20)
    }

    private func removeFile() {
        guard let file else { return }
        _ = Glibc.close(file.fd)
        unlink(file.path)
        TemporaryFiles.unregister(file.registration)
        TemporaryFiles.removeFolder(file.folder.path, token: file.folder.token)
        self.file = nil
        held.removeAll()
        readIndex = 0
    }

    private func put<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    /// Layout: rows, series count, each series' values (count, then length and bytes each), then
    /// per row series index, window label, start, end, then per metric a presence byte and the
    /// value's bits per row.
    private func write(_ batch: MetricsBatch) throws {
        put(UInt32(batch.rowCount))
        put(UInt32(batch.series.count))
        for key in batch.series {
            put(UInt32(key.values.count))
            for value in key.values {
                put(UInt32(value.utf8.count))
                buffer.append(contentsOf: value.utf8)
            }
        }
        for row in 0..<batch.rowCount {
            put(batch.seriesIndex[row])
            buffer.append(batch.backtestWindow[row].rawValue)
            put(batch.windowStart[row])
            put(batch.windowEnd[row])
        }
        for column in batch.metrics {
            for row in 0..<batch.rowCount {
                let value = column[row]
                buffer.append(value == nil ? 0 : 1)
                put((value ?? 0).bitPattern)
            }
        }
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        guard let file else { return }
        try buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(file.fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SpillRun.error("cannot write the temporary file", file.path)
                }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Makes `count` bytes readable at `readPosition`; false at a clean end of file.
    private func ensure(_ count: Int) throws -> Bool {
        if readEnd - readPosition >= count { return true }
        guard let file else { return false }
        readStorage.removeSubrange(0..<readPosition)
        readEnd -= readPosition
        readPosition = 0
        let want = max(count, 1 << 20)
        if readStorage.count < want { readStorage += [UInt8](repeating: 0, count: want - readStorage.count) }
        while readEnd < count && !endOfFile {
            let n = readStorage.withUnsafeMutableBytes {
                Glibc.read(file.fd, $0.baseAddress! + readEnd, $0.count - readEnd)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpillRun.error("cannot read the temporary file", file.path)
            }
            if n == 0 { endOfFile = true }
            readEnd += n
        }
        if readEnd >= count { return true }
        if readEnd == 0 { return false }
        throw ExportError.internal("Temporary file '\(file.path)' is truncated")
    }

    private func get<T: FixedWidthInteger>(_: T.Type) throws -> T {
        guard try ensure(MemoryLayout<T>.size) else {
            throw ExportError.internal("Temporary metrics file is truncated")
        }
        let value = readStorage.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: readPosition, as: T.self) }
        readPosition += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    private func readBatch() throws -> MetricsBatch? {
        guard try ensure(4) else { return nil }
        let rows = Int(try get(UInt32.self))
        var batch = MetricsBatch(metricCount: metricCount)
        let seriesCount = Int(try get(UInt32.self))
        for _ in 0..<seriesCount {
            let count = Int(try get(UInt32.self))
            var values: [String] = []
            for _ in 0..<count {
                let length = Int(try get(UInt32.self))
                guard try ensure(length) else { throw ExportError.internal("Temporary metrics file is truncated") }
                values.append(String(decoding: readStorage[readPosition..<(readPosition + length)], as: UTF8.self))
                readPosition += length
            }
            batch.series.append(SeriesKey(itemId: values[0], dimensions: Array(values.dropFirst())))
        }
        for _ in 0..<rows {
            batch.seriesIndex.append(try get(Int32.self))
            batch.backtestWindow.append(BacktestWindow(rawValue: try get(UInt8.self)) ?? .computed)
            batch.windowStart.append(try get(Int64.self))
            batch.windowEnd.append(try get(Int64.self))
        }
        for m in 0..<metricCount {
            for _ in 0..<rows {
                let present = try get(UInt8.self) == 1
                let bits = try get(UInt64.self)
                batch.metrics[m].append(present ? Double(bitPattern: bits) : nil)
            }
        }
        return batch
    }
}
