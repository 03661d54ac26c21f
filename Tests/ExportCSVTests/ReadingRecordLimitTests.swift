import ExportCore
import Testing

@testable import ExportCSV

/// A record longer than `maxRecordBytes` (an endless line, an unterminated quoted field) is an
/// input error naming the line it starts on, and the reader's memory stays near the limit.
@Suite("Reading: record size limit")
struct ReadingRecordLimitTests {
    static let header = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,mean"
    static let row = "i1,2020-01-01,1,2020-01-01,2020-01-07,1"

    func read(_ text: String, limit: Int, blockSize: Int) throws -> (ExportError?, String, [Int64]) {
        let path = try writeReadingInput(text)
        var lines: [Int64] = []
        do {
            var reader = try BacktestCSVReader(path: path, batchSize: 3, blockSize: blockSize)
            reader.maxRecordBytes = limit
            while let batch = try reader.nextBatch() {
                #expect(batch.sourceLine.count == batch.rowCount && batch.sourceName == path)
                lines += batch.sourceLine
            }
        } catch {
            return (error, path, lines)
        }
        return (nil, path, lines)
    }

    @Test("a long line fails at its own line, whatever the block size", arguments: [16, 64, 4096])
    func longLine(blockSize: Int) throws {
        let long = "i2," + String(repeating: "x", count: 500) + ",1,2020-01-01,2020-01-07,1"
        let text = [Self.header, Self.row, "", Self.row, long, Self.row].joined(separator: "\n") + "\n"
        let (error, path, lines) = try read(text, limit: 200, blockSize: blockSize)
        #expect(error?.code == .input)
        #expect(error?.location == .init(file: path, line: 5))
        #expect(error?.message.contains("longer than 200 bytes") == true)
        #expect(error?.message.contains("--max-record-bytes") == true)
        #expect(lines.allSatisfy { $0 == 2 || $0 == 4 })
    }

    @Test("an unterminated quoted field longer than the limit fails at the line where it starts")
    func unterminatedQuote() throws {
        let text =
            [Self.header, Self.row, "\"open quote,2020-01-01,1"].joined(separator: "\n") + "\n"
            + String(repeating: "more text\n", count: 100)
        let (error, path, _) = try read(text, limit: 300, blockSize: 32)
        #expect(error?.location == .init(file: path, line: 3))
        #expect(error?.message.contains("longer than 300 bytes") == true)
    }

    @Test("records up to the limit are read, with the line each starts on")
    func withinTheLimit() throws {
        let quoted = "\"multi\nline\",2020-01-01,1,2020-01-01,2020-01-07,1"
        let text = [Self.header, Self.row, quoted, "", Self.row].joined(separator: "\n") + "\n"
        let (error, _, lines) = try read(text, limit: 60, blockSize: 8)
        #expect(error == nil)
        #expect(lines == [2, 3, 6])
    }

    @Test("/dev/zero fails fast with the default limit")
    func devZero() throws {
        let error = readingError { () throws(ExportError) in
            var reader = try BacktestCSVReader(path: "/dev/zero")
            while try reader.nextBatch() != nil {}
        }
        #expect(error?.code == .input)
        #expect(error?.location == .init(file: "/dev/zero", line: 1))
        #expect(error?.message.contains("longer than \(64 << 20) bytes") == true)
    }
}
