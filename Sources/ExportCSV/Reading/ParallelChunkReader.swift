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
    /// The parsed batches of the last wave, handed out in order, each last one of its chunk with
    /// the chunk's end.
    private var ready: [(batch: ForecastBatch, chunkEnd: Int?)] = []
    private var readyIndex = 0
    /// After a chunk failed: one reader for the rest of the file.
    private var rest: BacktestCSVReader?
    /// The wave being parsed on the pool's threads.
    private var pending: Wave?
    /// The end of the last chunk whose batches are all handed out.
    private var handedOut = 0

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
        handedOut = start
        self.linesBefore = linesBefore
        workers = []
        for _ in 0..<self.threads {
            workers.append(
                try worker(FileRangeByteSource(name: file.name, fileDescriptor: file.fileDescriptor, range: 0..<0))
            )
        }
    }

    /// The next batch in file order; nil at the end. `maxRecordBytes` is the reader's current limit.
    ///
    /// While the batches of one wave are handed out, the next wave is already being parsed on the
    /// pool's threads; taking a wave waits (blocking this thread, the reading thread of a
    /// prefetcher, never a thread of Swift's cooperative pool) until its chunks are parsed.
    func nextBatch(maxRecordBytes: Int) throws(ExportError) -> ForecastBatch? {
        while true {
            if readyIndex < ready.count {
                defer { readyIndex += 1 }
                if let end = ready[readyIndex].chunkEnd { handedOut = end }
                return ready[readyIndex].batch
            }
            if rest != nil { return try rest!.nextBatch() }
            let next: Wave?
            if let pending {
                next = pending
            } else {
                next = startWave(try boundaries(maxRecordBytes: maxRecordBytes), maxRecordBytes)
            }
            guard let wave = next else {
                // The end: the workers' block buffers and batch columns are not needed any more.
                workers.removeAll()
                ready.removeAll()
                return nil
            }
            pending = nil
            wave.group.wait()
            take(wave, maxRecordBytes: maxRecordBytes)
            if rest == nil { pending = startWave(try boundaries(maxRecordBytes: maxRecordBytes), maxRecordBytes) }
        }
    }

    deinit {
        // The pool's threads read through the descriptor the file holds: let them finish first.
        pending?.group.wait()
    }

    /// The chunks of the next wave (none at the end of the file); moves ``nextStart`` past them.
    private func boundaries(maxRecordBytes: Int) throws(ExportError) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        while ranges.count < threads && nextStart < fileSize {
            let end = try boundary(after: nextStart + chunkBytes, maxRecordBytes: maxRecordBytes)
            ranges.append(nextStart..<end)
            nextStart = end
        }
        return ranges
    }

    /// Starts parsing `ranges`, chunk `i` by worker `i` on a thread of the pool; nil for no ranges.
    private func startWave(_ ranges: [Range<Int>], _ maxRecordBytes: Int) -> Wave? {
        guard !ranges.isEmpty else { return nil }
        let wave = Wave(ranges: ranges)
        for (i, range) in ranges.enumerated() {
            let job = ChunkJob(
                worker: workers[i],
                source: bytes(range),
                maxRecordBytes: maxRecordBytes,
                wave: wave,
                slot: i
            )
            DispatchQueue.global().async(group: wave.group) { job.run() }
        }
        return wave
    }

    /// Hands out a parsed wave's batches (their lines shifted by the lines before each chunk), or,
    /// at its first failed chunk, sets up one reader for the rest of the file from there.
    private func take(_ wave: Wave, maxRecordBytes: Int) {
        ready.removeAll(keepingCapacity: true)
        readyIndex = 0
        for i in wave.ranges.indices {
            let result = wave.results[i]
            if result.failed {
                // This chunk starts at a record boundary: one reader takes the rest of the file
                // from here, with the true line numbers, and reports the error (or reads on).
                var reader = workers[0]
                reader.restart(
                    on: bytes(wave.ranges[i].lowerBound..<fileSize),
                    firstLine: linesBefore + 1,
                    maxRecordBytes: maxRecordBytes
                )
                rest = reader
                nextStart = fileSize
                return
            }
            // The worker's series table grew while it parsed the chunk: keep it for its next one.
            if let worker = result.worker { workers[i] = worker }
            let shift = Int64(linesBefore)
            for (k, var batch) in result.batches.enumerated() {
                if shift != 0 {
                    batch.sourceLine.withUnsafeMutableBufferPointer { lines in
                        for j in lines.indices { lines[j] &+= shift }
                    }
                }
                ready.append((batch, k == result.batches.count - 1 ? wave.ranges[i].upperBound : nil))
            }
            if result.batches.isEmpty { handedOut = wave.ranges[i].upperBound }
            linesBefore += result.lines
        }
    }

    /// The bytes of the chunks handed out (after a failed chunk, those before it) and the file's size.
    var inputProgress: InputProgress {
        InputProgress(bytesRead: min(handedOut, fileSize), totalBytes: fileSize)
    }

    /// The bytes `range` of the file, read with `pread`.
    private func bytes(_ range: Range<Int>) -> FileRangeByteSource {
        FileRangeByteSource(name: file.name, fileDescriptor: file.fileDescriptor, range: range)
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
            let source = bytes(offset..<min(fileSize, offset + window))
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

/// What parsing one chunk gave: its batches and physical lines, or that it failed.
private struct ChunkResult {
    var batches: [ForecastBatch] = []
    /// The worker after the chunk (its series table kept for the next chunk); nil if it failed.
    var worker: BacktestCSVReader?
    var lines = 0
    var failed = false
}

/// One wave of chunks being parsed: the pool's threads each fill their own result slot, and the
/// reader reads the slots only after `group` says every thread is done.
private final class Wave: @unchecked Sendable {
    let ranges: [Range<Int>]
    /// One slot per chunk (not an array: the threads write their slots at the same time).
    let results: UnsafeMutablePointer<ChunkResult>
    let group = DispatchGroup()

    init(ranges: [Range<Int>]) {
        self.ranges = ranges
        results = .allocate(capacity: ranges.count)
        results.initialize(repeating: ChunkResult(), count: ranges.count)
    }

    deinit {
        results.deinitialize(count: ranges.count)
        results.deallocate()
    }
}

/// One chunk's work for a thread of the pool: a copy of a worker reader (its scanner and batch
/// columns are used by this job alone while the wave runs) restarted on the chunk.
private struct ChunkJob: @unchecked Sendable {
    var worker: BacktestCSVReader
    let source: FileRangeByteSource
    let maxRecordBytes: Int
    let wave: Wave
    let slot: Int

    func run() {
        var worker = self.worker
        worker.restart(on: source, firstLine: 1, maxRecordBytes: maxRecordBytes)
        var result = ChunkResult()
        do {
            while let batch = try worker.nextBatch() { result.batches.append(batch) }
            result.lines = worker.linesConsumed
            result.worker = worker
        } catch {
            result.failed = true
        }
        wave.results[slot] = result
    }
}
