import ExportCore
import Foundation
import Testing

@testable import ExportCSV

/// A fresh temporary folder per call, for input files written by a test.
func makeReadingTempDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("reading-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `bytes` to `name` in a fresh temporary folder and returns its path.
func writeReadingInput(_ bytes: [UInt8], name: String = "input.csv") throws -> String {
    let url = try makeReadingTempDirectory().appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url.path
}

/// Writes `text` (UTF-8) to a temporary file and returns its path.
func writeReadingInput(_ text: String, name: String = "input.csv") throws -> String {
    try writeReadingInput(Array(text.utf8), name: name)
}

/// One forecast row, with doubles compared bit for bit (NaN equals NaN).
struct ReadRow: Equatable, CustomStringConvertible {
    var key: SeriesKey
    var timestamp: Int64
    var target: UInt64?
    var windowStart: Int64
    var windowEnd: Int64
    var forecasts: [UInt64?]

    init(
        key: SeriesKey,
        timestamp: Int64,
        target: Double?,
        windowStart: Int64,
        windowEnd: Int64,
        forecasts: [Double?]
    ) {
        self.key = key
        self.timestamp = timestamp
        self.target = target?.bitPattern
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.forecasts = forecasts.map { $0?.bitPattern }
    }

    var description: String {
        let f = forecasts.map { $0.map { "\(Double(bitPattern: $0))" } ?? "nil" }
        return
            "\(key) ts=\(timestamp) y=\(target.map { "\(Double(bitPattern: $0))" } ?? "nil") [\(windowStart), \(windowEnd)] \(f)"
    }
}

/// Reads every batch of `reader`, checking each batch's invariants, and returns the rows and the
/// batch sizes.
func readAllRows(_ reader: inout BacktestCSVReader) throws -> (rows: [ReadRow], batchSizes: [Int]) {
    var rows: [ReadRow] = []
    var sizes: [Int] = []
    while let batch = try reader.nextBatch() {
        #expect(batch.rowCount > 0 && batch.rowCount <= reader.batchSize)
        #expect(Set(batch.series).count == batch.series.count, "each series once per batch")
        #expect(batch.forecasts.count == reader.schema.forecastTypes.count)
        #expect(batch.timestamp.count == batch.rowCount && batch.target.count == batch.rowCount)
        #expect(batch.windowStart.count == batch.rowCount && batch.windowEnd.count == batch.rowCount)
        var used = Set<Int32>()
        for row in 0..<batch.rowCount {
            let index = batch.seriesIndex[row]
            used.insert(index)
            rows.append(
                ReadRow(
                    key: batch.series[Int(index)],
                    timestamp: batch.timestamp[row],
                    target: batch.target[row],
                    windowStart: batch.windowStart[row],
                    windowEnd: batch.windowEnd[row],
                    forecasts: batch.forecasts.map { $0[row] }
                )
            )
        }
        #expect(used.count == batch.series.count, "every listed series is used")
        sizes.append(batch.rowCount)
    }
    #expect(try reader.nextBatch() == nil, "nil stays nil")
    return (rows, sizes)
}

/// Runs `body` and returns the ExportError it throws (failing the test when it throws none).
func readingError(_ body: () throws(ExportError) -> Void) -> ExportError? {
    do {
        try body()
    } catch {
        return error
    }
    Issue.record("expected an ExportError, none was thrown")
    return nil
}

/// Opens `path` and reads it to the end, discarding rows.
func readToEnd(_ path: String, batchSize: Int = 65_536) throws(ExportError) {
    var reader = try BacktestCSVReader(path: path, batchSize: batchSize)
    while try reader.nextBatch() != nil {}
}

/// Milliseconds since the epoch of a UTC date and time, from ExportCore's civil-time arithmetic
/// (checked against Python-computed epochs in `ReadingTimestampTests`).
func utcMillis(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0, ms: Int = 0) -> Int64 {
    CivilTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s).epochSeconds * 1000 + Int64(ms)
}
