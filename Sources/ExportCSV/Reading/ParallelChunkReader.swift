internal import Dispatch
internal import ExportCore

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Parses the records of a regular CSV file (after its header) on several threads at once: the
/// file is cut into chunks of about ``chunkBytes`` that end just after a line feed, a wave of one
/// chunk per thread is parsed at once (each by its own ``BacktestCSVReader`` reading its byte
/// range with `pread`), and the batches come out in file order with the same lines, values and
/// errors as one reader reading the whole file.
///
/// Why that holds: a chunk that starts at a record boundary is parsed exactly as the whole-file
/// reader would parse those bytes, and it ends exactly at a record boundary unless its last line
/// feed lies inside a quoted field — and then its last record is an unterminated quoted field,
/// an error. So chunks are taken in order while they parse without error (their line numbers
/// shifted by the lines before them); at the first chunk with any error, that chunk's start is
/// still a true record boundary, and the rest of the file is read from there by one reader with
/// the right line numbers, which reports the real error (or, when the error came only from a
/// chunk boundary inside a quoted field, reads on correctly). The chunks after it are dropped.
///
/// Cost: the bytes are read once (plus 64 KiB around each chunk boundary to find a line feed);
/// parsing is spread over the threads; a wave ends when its slowest chunk does. Memory: one
/// reader per thread (its block buffer and batch columns) and the parsed rows of one wave.
final class ParallelChunkReader {
    /// Holds the descriptor open while chunks are read.
    private let file: FileByteSource
    private let fileSize: Int
    private let chunkBytes: Int
    private let threads: Int
    /// One reader per thread, each restarted on one chunk after another.
    private var workers: [BacktestCSVReader]
    /// Where the next wave starts (a record boundary), and the physical lines before it.
    private var nextStart: Int
    private var linesBefore: Int
    /// The parsed batches of the last wave, handed out in order.
    private var ready: [ForecastBatch] = []
    private var readyIndex = 0
    /// After a chunk failed: one reader for the rest of the file.
    private var rest: BacktestCSVReader?

    /// `worker` makes a reader of the file's columns that reads the given source (a byte range).
    init(
        file: FileByteSource,
        fileSize: Int,
        start: Int,
        linesBefore: Int,
        chunkBytes: Int,
        threads: Int,
        worker: (any InputByteSource) throws(ExportError) -> BacktestCSVReader
    ) throws(ExportError) {
        self.file = file
        self.fileSize = fileSize
        self.chunkBytes = max(1, chunkBytes)
        self.threads = max(1, threads)
        nextStart = start
        self.linesBefore = linesBefore
        workers = []
        for _ in 0..<self.threads {
            workers.append(
                try worker(FileRangeByteSource(name: file.name, fileDescriptor: file.fileDescriptor, range: 0..<0))
            )
        }
    }

    /// The next batch in file order; nil at the end. `maxRecordBytes` is the reader's current limit.
    func nextBatch(maxRecordBytes: Int) throws(ExportError) -> ForecastBatch? {
        while true {
            if readyIndex < ready.count {
                defer { readyIndex += 1 }
                return ready[readyIndex]
            }
            if rest != nil { return try rest!.nextBatch() }
            if nextStart >= fileSize { return nil }
            try parseWave(maxRecordBytes: maxRecordBytes)
        }
    }

    private struct ChunkResult {
        var batches: [ForecastBatch] = []
        var lines = 0
        var failed = false
    }

    private func parseWave(maxRecordBytes: Int) throws(ExportError) {
        var ranges: [Range<Int>] = []
        var start = nextStart
        while ranges.count < threads && start < fileSize {
            let end = try boundary(after: start + chunkBytes, maxRecordBytes: maxRecordBytes)
            ranges.append(start..<end)
            start = end
        }
        let chunkRanges = ranges
        var results = [ChunkResult](repeating: ChunkResult(), count: ranges.count)
        let name = file.name
        let descriptor = file.fileDescriptor
        workers.withUnsafeMutableBufferPointer { workers in
            results.withUnsafeMutableBufferPointer { results in
                let shared = WaveSlots(workers: workers, results: results)
                DispatchQueue.concurrentPerform(iterations: ranges.count) { i in
                    let source = FileRangeByteSource(name: name, fileDescriptor: descriptor, range: chunkRanges[i])
                    shared.workers[i].restart(on: source, firstLine: 1, maxRecordBytes: maxRecordBytes)
                    var result = ChunkResult()
                    do {
                        while let batch = try shared.workers[i].nextBatch() { result.batches.append(batch) }
                        result.lines = shared.workers[i].linesConsumed
                    } catch {
                        result.failed = true
                    }
                    shared.results[i] = result
                }
            }
        }
        ready.removeAll(keepingCapacity: true)
        readyIndex = 0
        for (i, result) in results.enumerated() {
            if result.failed {
                // This chunk starts at a record boundary: one reader takes the rest of the file
                // from here, with the true line numbers, and reports the error (or reads on).
                var reader = workers[0]
                reader.restart(
                    on: FileRangeByteSource(
                        name: name,
                        fileDescriptor: descriptor,
                        range: ranges[i].lowerBound..<fileSize
                    ),
                    firstLine: linesBefore + 1,
                    maxRecordBytes: maxRecordBytes
                )
                rest = reader
                nextStart = fileSize
                return
            }
            let shift = Int64(linesBefore)
            for var batch in result.batches {
                if shift != 0 {
                    batch.sourceLine.withUnsafeMutableBufferPointer { lines in
                        for j in lines.indices { lines[j] &+= shift }
                    }
                }
                ready.append(batch)
            }
            linesBefore += result.lines
        }
        nextStart = start
    }

    /// The offset just after the first line feed at or after `nominal - 1` (so a chunk ends with
    /// a whole line), or the file's end. A line longer than the record limit ends the search: that
    /// chunk then fails and the rest of the file is read by one reader, which reports the record.
    private func boundary(after nominal: Int, maxRecordBytes: Int) throws(ExportError) -> Int {
        if nominal >= fileSize { return fileSize }
        let window = 64 << 10
        let probe = UnsafeMutableRawPointer.allocate(byteCount: window, alignment: 16)
        defer { probe.deallocate() }
        var offset = nominal - 1
        let limit = nominal + maxRecordBytes
        while offset < fileSize && offset < limit {
            let source = FileRangeByteSource(
                name: file.name,
                fileDescriptor: file.fileDescriptor,
                range: offset..<min(fileSize, offset + window)
            )
            let n = try source.read(into: probe, count: window)
            if n == 0 { break }
            if let found = memchr(probe, Int32(UInt8(ascii: "\n")), n) {
                return offset + (probe.distance(to: UnsafeMutableRawPointer(found))) + 1
            }
            offset += n
        }
        return min(fileSize, max(offset, nominal))
    }
}

/// The workers and result slots of one wave, shared by its threads: thread `i` touches only
/// slot `i` of each, and the wave's caller waits for all of them.
private struct WaveSlots<Worker, Result>: @unchecked Sendable {
    let workers: UnsafeMutableBufferPointer<Worker>
    let results: UnsafeMutableBufferPointer<Result>
}
