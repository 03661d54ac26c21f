import ExportCSV
import ExportCore
import ExportParquet
import ExportSinks
import NIOCore

/// Writes one table as parts by carrying out what a ``PartPlacementMachine`` decides: opens part N
/// in the sink, reads whole series, measures and encodes the row ranges it is given, streams each
/// part's chunks to the sink as the encoder fills them, hashes them, and publishes the part.
///
/// Always publishes at least `part0` (a table with no rows gets a header-only or zero-row part).
struct TablePartWriter<Sink: PartSink, Format: TableFormat> {
    let sink: Sink
    let format: Format
    let context: PartContext
    let maxPartBytes: Int?
    let maxPartRows: Int?
    /// Rows held back before they are encoded together (see ``PartPlacementMachine``).
    var heldRows = 32_768
    /// Awaited before each part is published (see ``PublishGate``).
    var publishGate: PublishGate?
    /// Called before each part is published, after the gate (the exporter removes an earlier
    /// run's markers there, once).
    var beforePublishing: (@Sendable () async throws -> Void)?

    /// - Parameters:
    ///   - nextSeries: the next whole series as slices of batches, or nil at the end.
    ///   - progress: called after every series with the rows and bytes written so far.
    /// - Returns: the parts, in order. On error, parts already published stay (the caller removes them).
    @_specialize(where Sink == LocalDirectorySink, Format == CSVFormat, Batch == ForecastBatch)
    @_specialize(where Sink == LocalDirectorySink, Format == CSVFormat, Batch == MetricsBatch)
    @_specialize(where Sink == LocalDirectorySink, Format == ParquetFormat, Batch == ForecastBatch)
    @_specialize(where Sink == LocalDirectorySink, Format == ParquetFormat, Batch == MetricsBatch)
    func write<Batch: ColumnarBatch>(
        published: inout [PublishedPart],
        nextSeries: () async throws -> [(batch: Batch, rows: Range<Int>)]?,
        progress: (_ rows: Int, _ bytes: Int) -> Void = { _, _ in }
    ) async throws {
        var machine = PartPlacementMachine<Batch>(maxBytes: maxPartBytes, maxRows: maxPartRows, heldRows: heldRows)
        var totalRows = 0
        var totalBytes = 0
        while let index = machine.nextPart() {
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
                var bytes = 0
                func send(_ chunk: ByteBuffer) async throws {
                    try await hasher.update(chunk)
                    bytes += chunk.readableBytes
                    try await writer.write(chunk)
                }
                machine.partStarted(encodedBytes: encoder.byteCount)
                while true {
                    switch machine.nextAction() {
                    case .readSeries:
                        try Task.checkCancellation()  // once a series: a cancelled export stops within one
                        if let series = try await nextSeries() {
                            machine.seriesRead(series)
                            progress(totalRows + machine.rowsInPart, totalBytes + bytes)
                        } else {
                            machine.inputEnded()
                        }
                    case .measure(let piece):
                        machine.measured(byteBound: encoder.byteBound(piece.batch, rows: piece.rows))
                    case .encode(let pieces):
                        // Adjacent ranges of one batch as one: the same rows, less work per piece.
                        try encoder.append(pieces: Batch.coalescing(pieces))
                        while let chunk = encoder.takeReadyBytes() { try await send(chunk) }
                        machine.encoded(byteCount: encoder.byteCount)
                    case .append(let piece):
                        try encoder.append(piece.batch, rows: piece.rows)
                        while let chunk = encoder.takeReadyBytes() { try await send(chunk) }
                        machine.encoded(byteCount: encoder.byteCount)
                    case .finishPart(let rows):
                        try await send(try encoder.finish())
                        let digest = try await hasher.finalize()
                        // Inside the part's scope: the sink publishes it only after this returns.
                        try await publishGate?.passed()
                        try await beforePublishing?()
                        return PublishedPart(
                            table: context.table,
                            key: key,
                            rowCount: rows,
                            byteCount: bytes,
                            sha256: digest
                        )
                    }
                }
            }
            published.append(part)
            totalRows += part.rowCount
            totalBytes += part.byteCount
        }
        progress(totalRows, totalBytes)
    }
}
