import ExportCore
import ExportParquet
import Foundation
import NIOCore
import Testing

@testable import ExportInput

#if canImport(Glibc)
import Glibc
#endif

/// Parquet read from a pipe (copied to a temporary file first, which is gone once the file is
/// open) reads as the file does; a truncated stream is an input error leaving nothing behind;
/// Parquet history files go through the history column rules.
@Suite struct ParquetStreamTests {
    static let schema = try! ExportSchema(forecastTypes: [.quantile(hundredths: 10), .mean])

    /// A small backtest (with a missing target) as our encoder writes it, in small row groups.
    static func parquetFile() throws -> [UInt8] {
        var batch = ForecastBatch(forecastTypeCount: 2)
        let day: Int64 = 86_400_000
        for item in 0..<7 {
            batch.series.append(SeriesKey(itemId: "item \(item) é", dimensions: []))
            for d in 0..<30 {
                let row = batch.seriesIndex.count
                batch.seriesIndex.append(Int32(item))
                batch.timestamp.append(1_700_000_000_000 + Int64(d) * day)
                batch.windowStart.append(1_700_000_000_000)
                batch.windowEnd.append(1_700_000_000_000 + 30 * day)
                batch.target.append(row % 11 == 4 ? nil : Double(row) * 1.25)
                batch.forecasts[0].append(Double(row) * 0.5)
                batch.forecasts[1].append(Double(row) + 0.1)
            }
        }
        let format = ParquetFormat(
            codec: .snappy,
            limits: .init(
                rowGroupRows: 64,
                rowGroupBytes: 1 << 30,
                pageRows: 20,
                pageBytes: 600,
                dictionaryPageBytes: 300
            )
        )
        let context = PartContext(
            jobName: try JobName("stream_test"),
            timestamp: ExportTimestamp(epochSeconds: 1_709_802_300),
            schema: schema,
            table: .forecastedValues
        )
        var encoder = format.makeEncoder(for: context)
        var file: [UInt8] = []
        for range in batch.seriesRuns() {
            try encoder.append(batch, rows: range)
            while var chunk = encoder.takeReadyBytes() { file += chunk.readBytes(length: chunk.readableBytes)! }
        }
        var tail = try encoder.finish()
        file += tail.readBytes(length: tail.readableBytes)!
        return file
    }

    /// A fresh empty folder under /tmp.
    static func folder() throws -> String {
        var template = Array("/tmp/export-input-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        try #require(made != nil)
        return String(cString: made!)
    }

    static func entries(_ folder: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    }

    /// A pipe whose write end a thread fills with `bytes`; returns the read end's path.
    static func pipePath(feeding bytes: [UInt8]) throws -> (path: String, readEnd: Int32, writer: Thread) {
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        let writeEnd = ends[1]
        let writer = Thread {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                offset += n
            }
            close(writeEnd)
        }
        writer.start()
        return ("/proc/self/fd/\(ends[0])", ends[0], writer)
    }

    /// Every row of `input`, flattened: (item, timestamp, target bits, forecasts' bits).
    static func rows(_ input: inout BacktestInput) throws -> [String] {
        var out: [String] = []
        while let batch = try input.nextBatch() {
            for r in 0..<batch.rowCount {
                let key = batch.series[Int(batch.seriesIndex[r])]
                let values = ([batch.target] + batch.forecasts).map { $0[r].map { String($0.bitPattern) } ?? "-" }
                out.append(
                    "\(key.itemId)|\(batch.timestamp[r])|\(batch.windowStart[r])|\(batch.windowEnd[r])|"
                        + values.joined(separator: ",")
                )
            }
        }
        return out
    }

    @Test func parquetThroughAPipeReadsAsTheFile() throws {
        let bytes = try Self.parquetFile()
        let work = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let path = work + "/in.parquet"
        try #require(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        var fromFile = try BacktestInput(files: [InputFile(path: path, kind: .parquet)], batchSize: 50)
        let expected = try Self.rows(&fromFile)
        #expect(expected.count == 210)

        let spool = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let (pipe, readEnd, _) = try Self.pipePath(feeding: bytes)
        defer { close(readEnd) }
        var fromPipe = try BacktestInput(
            files: [InputFile(path: pipe, kind: .csv)],
            batchSize: 50,
            temporaryDirectory: spool
        )
        // The copy is removed as soon as it is open.
        #expect(Self.entries(spool) == [])
        #expect(fromPipe.schema == fromFile.schema)
        #expect(try Self.rows(&fromPipe) == expected)
    }

    @Test func aTruncatedParquetStreamIsAnInputErrorAndLeavesNothing() throws {
        let bytes = try Self.parquetFile()
        let spool = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: spool) }
        for cut in [4, 100, bytes.count / 2, bytes.count - 1] {
            let (pipe, readEnd, _) = try Self.pipePath(feeding: Array(bytes[0..<cut]))
            defer { close(readEnd) }
            let error = try #require(throws: ExportError.self) {
                try BacktestInput(files: [InputFile(path: pipe, kind: .csv)], temporaryDirectory: spool)
            }
            #expect(error.code == .input)
            #expect(error.message.contains("'\(pipe)'"), "\(error.message)")
            #expect(!error.message.contains(spool), "the copy's path is not the user's: \(error.message)")
            #expect(Self.entries(spool) == [])
        }
    }

    @Test func aTemporaryFolderThatCannotBeWrittenIsASinkError() throws {
        let bytes = try Self.parquetFile()
        let (pipe, readEnd, _) = try Self.pipePath(feeding: bytes)
        defer { close(readEnd) }
        let error = try #require(throws: ExportError.self) {
            try BacktestInput(files: [InputFile(path: pipe, kind: .csv)], temporaryDirectory: "/nonexistent/folder")
        }
        #expect(error.code == .sink)
        #expect(error.message.contains("/nonexistent/folder"))
    }

    @Test func parquetHistoryFollowsTheHistoryColumnRules() throws {
        // A forecast file read as history: the window and forecast columns count as dimensions.
        let bytes = try Self.parquetFile()
        let work = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let path = work + "/history.parquet"
        try #require(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        var wrongDimensions = TargetInput(files: [InputFile(path: path, kind: .parquet)], expectedDimensions: [])
        let mismatch = try #require(throws: ExportError.self) { try wrongDimensions.nextBatch() }
        #expect(mismatch.code == .input)
        #expect(mismatch.message.contains("dimensions"), "\(mismatch.message)")
        #expect(mismatch.description.contains(path), "\(mismatch.description)")
        // With those "dimensions" expected, a timestamp column cannot be a key.
        let extra = ["backtestwindow_start_time", "backtestwindow_end_time", "p10", "mean"]
        var timeKey = TargetInput(files: [InputFile(path: path, kind: .csv)], expectedDimensions: extra)
        let refused = try #require(throws: ExportError.self) { try timeKey.nextBatch() }
        #expect(refused.message.contains("backtestwindow_start_time") && refused.message.contains("key column"))
    }

    @Test func parquetHistoryThroughAPipeIsCheckedAndLeavesNoCopy() throws {
        let bytes = try Self.parquetFile()
        let spool = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: spool) }
        let (pipe, readEnd, _) = try Self.pipePath(feeding: bytes)
        defer { close(readEnd) }
        var input = TargetInput(
            files: [InputFile(path: pipe, kind: .csv)],
            expectedDimensions: [],
            temporaryDirectory: spool
        )
        // Read as Parquet (its columns named), not as CSV text.
        let error = try #require(throws: ExportError.self) { try input.nextBatch() }
        #expect(error.message.contains("backtestwindow_start_time"), "\(error.message)")
        #expect(error.description.contains(pipe))
        #expect(Self.entries(spool) == [])
    }
}
