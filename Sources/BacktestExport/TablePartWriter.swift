import ExportCore
import ExportSinks
import NIOCore

/// Writes one table as parts: asks for whole series, lets the ``PartRoller`` decide where parts
/// end, streams each part's chunks to the sink as the encoder fills them, and hashes them.
///
/// Row ranges are held back and handed to the encoder together (``TableEncoder/append(pieces:)``,
/// which CSV spreads over two threads) in runs of about ``heldRows`` rows, as long as the part's
/// bytes plus the held rows' ``TableEncoder/byteBound(_:rows:)`` stay below the byte limit; the
/// roller is then given that sum, which is on the same side of the limit as the real size, so
/// parts end exactly where appending row range by row range would end them.
///
/// Always publishes at least `part0` (a table with no rows gets a header-only or zero-row part).
struct TablePartWriter<Sink: PartSink, Format: TableFormat> {
    let sink: Sink
    let format: Format
    let context: PartContext
    let maxPartBytes: Int?
    let maxPartRows: Int?
    /// Rows held back before they are encoded together.
    var heldRows = 32_768

    /// - Parameters:
    ///   - nextSeries: the next whole series as slices of batches, or nil at the end.
    ///   - progress: called after every series with the rows and bytes written so far.
    /// - Returns: the parts, in order. On error, parts already published stay (the caller removes them).
    func write<Batch: ColumnarBatch>(
        published: inout [PublishedPart],
        nextSeries: () async throws -> [(batch: Batch, rows: Range<Int>)]?,
        progress: (_ rows: Int, _ bytes: Int) -> Void = { _, _ in }
    ) async throws {
        var roller = PartRoller(maxBytes: maxPartBytes, maxRows: maxPartRows)
        var queue: [(batch: Batch, rows: Range<Int>, startsNewPart: Bool)] = []
        var head = 0
        var exhausted = false
        var index = 0
        var totalRows = 0
        var totalBytes = 0
        repeat {
            let name = PartName(
                jobName: context.jobName,
                timestamp: context.timestamp,
                index: index,
                fileExtension: format.fileExtension
            )
            let key = name.key(in: context.table)
            let part = try await sink.withPart(named: key) { writer in
                var encoder = format.makeEncoder(for: context)
                var hasher = BackgroundHasher()
                var rows = 0
                var bytes = 0
                var held: [(batch: Batch, rows: Range<Int>)] = []
                var heldBound = 0
                var heldCount = 0
                func send(_ chunk: ByteBuffer) async throws {
                    try await hasher.update(chunk)
                    bytes += chunk.readableBytes
                    try await writer.write(chunk)
                }
                func encodeHeld() async throws {
                    guard !held.isEmpty else { return }
                    try encoder.append(pieces: held)
                    held.removeAll(keepingCapacity: true)
                    heldBound = 0
                    heldCount = 0
                    while let chunk = encoder.takeReadyBytes() { try await send(chunk) }
                }
                while true {
                    if head == queue.count {
                        try Task.checkCancellation()  // once a series: a cancelled export stops within one
                        queue.removeAll(keepingCapacity: true)
                        head = 0
                        guard !exhausted, let series = try await nextSeries() else {
                            exhausted = true
                            break
                        }
                        let count = series.reduce(0) { $0 + $1.rows.count }
                        var bytesInOpenPart = encoder.byteCount + heldBound
                        if bytesInOpenPart >= (maxPartBytes ?? .max) && !held.isEmpty {
                            try await encodeHeld()
                            bytesInOpenPart = encoder.byteCount
                        }
                        let placements = roller.place(seriesRows: count, bytesInOpenPart: bytesInOpenPart)
                        Self.split(series, by: placements, into: &queue)
                        progress(totalRows + rows, totalBytes + bytes)
                        continue
                    }
                    if queue[head].startsNewPart && rows > 0 {
                        queue[head].startsNewPart = false
                        break
                    }
                    let piece = queue[head]
                    head += 1
                    rows += piece.rows.count
                    let bound = encoder.byteBound(piece.batch, rows: piece.rows)
                    if bound == .max || bound > (maxPartBytes ?? .max) - heldBound {
                        try await encodeHeld()
                        try encoder.append(piece.batch, rows: piece.rows)
                        while let chunk = encoder.takeReadyBytes() { try await send(chunk) }
                        continue
                    }
                    held.append((piece.batch, piece.rows))
                    heldBound += bound
                    heldCount += piece.rows.count
                    if heldCount >= heldRows { try await encodeHeld() }
                }
                try await encodeHeld()
                try await send(try encoder.finish())
                let digest = try await hasher.finalize()
                return PublishedPart(table: context.table, key: key, rowCount: rows, byteCount: bytes, sha256: digest)
            }
            published.append(part)
            totalRows += part.rowCount
            totalBytes += part.byteCount
            index += 1
        } while !(exhausted && head == queue.count)
        progress(totalRows, totalBytes)
    }

    /// Cuts a series' slices into the pieces the roller placed.
    private static func split<Batch>(
        _ series: [(batch: Batch, rows: Range<Int>)],
        by placements: [PartRoller.Placement],
        into queue: inout [(batch: Batch, rows: Range<Int>, startsNewPart: Bool)]
    ) {
        var slices = series[...]
        for placement in placements {
            var needed = placement.rowCount
            var startsNew = placement.startsNewPart
            while needed > 0, var slice = slices.first {
                let take = min(needed, slice.rows.count)
                let piece = slice.rows.lowerBound..<(slice.rows.lowerBound + take)
                queue.append((slice.batch, piece, startsNew))
                startsNew = false
                needed -= take
                slice.rows = piece.upperBound..<slice.rows.upperBound
                if slice.rows.isEmpty {
                    slices = slices.dropFirst()
                } else {
                    slices[slices.startIndex] = slice
                }
            }
        }
    }
}
