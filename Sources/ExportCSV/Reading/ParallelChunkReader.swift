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
/// file is cut into chunks of about ``chunkBytes`` that end just after a line feed, up to two
/// chunks per thread are parsed at once (each by its own ``BacktestCSVReader`` reading its byte
/// range with `pread`; a thread that finishes one chunk starts the next queued one), and the
/// batches come out in file order with the same lines, values and errors as one reader reading
/// the whole file.
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
/// parsing is spread over the threads, which stay busy while the consumer takes the chunks
/// parsed before. Memory: one reader per chunk in flight (its block buffer and batch columns) and
/// the parsed rows of those chunks.
final class ParallelChunkReader {
    /// Holds the descriptor open while chunks are read.
    private let file: FileByteSource
    private let fileSize: Int
    private let chunkBytes: Int
    /// How many chunks are parsed or waiting to be taken at once: two per thread.
    private let depth: Int
    /// One reader per chunk in flight, each restarted on one chunk after another: chunk `n` of the
    /// file is parsed by worker `n % depth`, which the chunk `n - depth` has handed back by then.
    /// A worker is moved out to its chunk's job and back (nil while it is out), never copied: a
    /// copy would share its series table, and the job's first change to it would then copy the
    /// whole table (each chunk, so a cost growing with rows × series).
    private var workers: [BacktestCSVReader?]
    /// Where the next chunk starts (a record boundary), and the physical lines before it.
    private var nextStart: Int
    private var linesBefore: Int
    /// The parsed batches of the last chunk taken, handed out in order, the last one with the
    /// chunk's end.
    private var ready: [(batch: ForecastBatch, chunkEnd: Int?)] = []
    private var readyIndex = 0
    /// After a chunk failed: one reader for the rest of the file.
    private var rest: BacktestCSVReader?
    /// The chunks started on the pool's threads and not taken yet, in file order.
    private var inFlight: [PendingChunk] = []
    private var inFlightHead = 0
    /// How many chunks have been started.
    private var chunksStarted = 0
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
        depth = 2 * max(1, threads)
        nextStart = start
        handedOut = start
        self.linesBefore = linesBefore
        workers = []
        for _ in 0..<depth {
            workers.append(
                try worker(FileRangeByteSource(name: file.name, fileDescriptor: file.fileDescriptor, range: 0..<0))
            )
        }
    }

    /// The next batch in file order; nil at the end. `maxRecordBytes` is the reader's current limit.
    ///
    /// While the batches of one chunk are handed out, the chunks after it are being parsed on the
    /// pool's threads; taking a chunk waits (blocking this thread, the reading thread of a
    /// prefetcher, never a thread of Swift's cooperative pool) until it is parsed.
    func nextBatch(maxRecordBytes: Int) throws(ExportError) -> ForecastBatch? {
        while true {
            if readyIndex < ready.count {
                defer { readyIndex += 1 }
                if let end = ready[readyIndex].chunkEnd { handedOut = end }
                return ready[readyIndex].batch
            }
            if rest != nil { return try rest!.nextBatch() }
            try startChunks(maxRecordBytes: maxRecordBytes)
            guard inFlightHead < inFlight.count else {
                // The end: the workers' block buffers and batch columns are not needed any more.
                workers.removeAll()
                ready.removeAll()
                inFlight.removeAll()
                inFlightHead = 0
                return nil
            }
            let chunk = inFlight[inFlightHead]
            inFlightHead += 1
            if inFlightHead >= depth {
                inFlight.removeFirst(inFlightHead)
                inFlightHead = 0
            }
            chunk.group.wait()
            take(chunk, maxRecordBytes: maxRecordBytes)
            if rest == nil { try startChunks(maxRecordBytes: maxRecordBytes) }
        }
    }

    deinit {
        // The pool's threads read through the descriptor the file holds: let them finish first.
        for chunk in inFlight[inFlightHead...] { chunk.group.wait() }
    }

    /// Starts parsing chunks until ``depth`` are in flight or the file has no more.
    private func startChunks(maxRecordBytes: Int) throws(ExportError) {
        while inFlight.count - inFlightHead < depth && nextStart < fileSize {
            let end = try boundary(after: nextStart + chunkBytes, maxRecordBytes: maxRecordBytes)
            let range = nextStart..<end
            nextStart = end
            let slot = chunksStarted % depth
            chunksStarted += 1
            let chunk = PendingChunk(range: range, slot: slot)
            let job = ChunkJob(
                worker: workers[slot].take()!,
                source: bytes(range),
                maxRecordBytes: maxRecordBytes,
                chunk: chunk
            )
            DispatchQueue.global().async(group: chunk.group) { job.run() }
            inFlight.append(chunk)
        }
    }

    /// Hands out a parsed chunk's batches (their lines shifted by the lines before the chunk), or,
    /// when it failed, sets up one reader for the rest of the file from its start (the chunks after
    /// it are dropped once they finish).
    private func take(_ chunk: PendingChunk, maxRecordBytes: Int) {
        ready.removeAll(keepingCapacity: true)
        readyIndex = 0
        var result = chunk.result
        chunk.result = ChunkResult()
        // The worker comes back with its chunk, failed or not; its series table grew while it
        // parsed the chunk: kept for its next one.
        if let worker = result.worker.take() { workers[chunk.slot] = worker }
        if result.failed {
            // This chunk starts at a record boundary: one reader takes the rest of the file from
            // here, with the true line numbers, and reports the error (or reads on). The chunks
            // still in flight must finish before their workers' descriptor reads stop mattering.
            for later in inFlight[inFlightHead...] { later.group.wait() }
            inFlight.removeAll()
            inFlightHead = 0
            guard var reader = workers[chunk.slot].take() else {
                preconditionFailure("a failed chunk's worker was not handed back")
            }
            reader.restart(
                on: bytes(chunk.range.lowerBound..<fileSize),
                firstLine: linesBefore + 1,
                maxRecordBytes: maxRecordBytes
            )
            rest = reader
            nextStart = fileSize
            return
        }
        let shift = Int64(linesBefore)
        for (k, var batch) in result.batches.enumerated() {
            if shift != 0 {
                batch.sourceLine.withUnsafeMutableBufferPointer { lines in
                    for j in lines.indices { lines[j] &+= shift }
                }
            }
            ready.append((batch, k == result.batches.count - 1 ? chunk.range.upperBound : nil))
        }
        if result.batches.isEmpty { handedOut = chunk.range.upperBound }
        linesBefore += result.lines
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
    /// The worker after the chunk (its series table kept for the next chunk), also when it failed
    /// (its table then holds the series met before the error, each under its own number still).
    var worker: BacktestCSVReader?
    var lines = 0
    var failed = false
}

/// One chunk being parsed: a thread of the pool fills `result`, and the reader reads it only
/// after `group` says that thread is done.
private final class PendingChunk: @unchecked Sendable {
    let range: Range<Int>
    /// The worker parsing it (see ``ParallelChunkReader``).
    let slot: Int
    var result = ChunkResult()
    let group = DispatchGroup()

    init(range: Range<Int>, slot: Int) {
        self.range = range
        self.slot = slot
    }
}

/// One chunk's work for a thread of the pool: a worker reader, moved in (no other reference
/// to it or its series table exists while the chunk is in flight), restarted on the chunk, and
/// moved back out with the result.
private final class ChunkJob: @unchecked Sendable {
    private var worker: BacktestCSVReader?
    let source: FileRangeByteSource
    let maxRecordBytes: Int
    let chunk: PendingChunk

    init(worker: consuming BacktestCSVReader, source: FileRangeByteSource, maxRecordBytes: Int, chunk: PendingChunk) {
        self.worker = worker
        self.source = source
        self.maxRecordBytes = maxRecordBytes
        self.chunk = chunk
    }

    func run() {
        guard var worker = self.worker.take() else { preconditionFailure("a chunk's job ran twice") }
        worker.restart(on: source, firstLine: 1, maxRecordBytes: maxRecordBytes)
        var result = ChunkResult()
        do {
            while let batch = try worker.nextBatch() { result.batches.append(batch) }
            result.lines = worker.linesConsumed
        } catch {
            result.failed = true
        }
        result.worker = consume worker
        chunk.result = result
    }
}
