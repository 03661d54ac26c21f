import ExportCore
import Testing

@testable import ExportCSV

/// A regular file read in chunks on several threads (``ParallelChunkReader``) gives the rows, the
/// lines and the errors of one reader reading it whole, wherever the chunk boundaries fall:
/// inside quoted fields with line breaks, on CRLF line ends, on empty lines, on a field that
/// starts with a byte order mark.
@Suite("Reading: parallel chunks")
struct ReadingParallelChunkTests {
    static let header = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p10,p50"

    /// A CSV text of `rows` rows whose ids are quoted in every way RFC 4180 allows, with line
    /// breaks (LF and CRLF) inside quotes, CRLF record ends and empty lines mixed in.
    static func text(rows: Int, seed: UInt64) -> String {
        var random = SplitMix64(seed: seed)
        var out = header + "\r\n"
        let ids = [
            "plain", "\"with,comma\"", "\"with \"\"quote\"\"\"", "\"line\nbreak\"", "\"crlf\r\nbreak\"",
            "\"\n\"", "\u{FEFF}bom", "\"\u{FEFF}\nbom\"", "é",
        ]
        for row in 0..<rows {
            let id = ids[Int(random.next() % UInt64(ids.count))]
            let day = 1 + Int(random.next() % 6)
            let target = random.next() % 5 == 0 ? "" : "\(Double(random.next() % 100_000) / 7)"
            let end = random.next() % 3 == 0 ? "\r\n" : "\n"
            out += "\(id),2020-01-0\(day),\(target),2020-01-01,2020-01-07,\(row % 11),1e\(row % 30)\(end)"
            if random.next() % 9 == 0 { out += random.next() % 2 == 0 ? "\n" : "\r\n" }
        }
        return out
    }

    func readAll(
        _ path: String,
        chunkBytes: Int?,
        threads: Int
    ) -> (rows: [ReadRow], lines: [Int64], error: ExportError?) {
        var rows: [ReadRow] = []
        var lines: [Int64] = []
        do {
            var reader = try BacktestCSVReader(
                source: try FileByteSource.openText(path: path),
                batchSize: 5,
                blockSize: 64,
                parallelChunkBytes: chunkBytes,
                threads: threads
            )
            while let batch = try reader.nextBatch() {
                for row in 0..<batch.rowCount {
                    rows.append(
                        ReadRow(
                            key: batch.series[Int(batch.seriesIndex[row])],
                            timestamp: batch.timestamp[row],
                            target: batch.target[row],
                            windowStart: batch.windowStart[row],
                            windowEnd: batch.windowEnd[row],
                            forecasts: batch.forecasts.map { $0[row] }
                        )
                    )
                }
                lines += batch.sourceLine
            }
        } catch {
            return (rows, lines, error)
        }
        return (rows, lines, nil)
    }

    @Test("rows and lines equal one reader's, for any chunk size", arguments: [1, 3, 17, 64, 250, 4096])
    func sameRows(chunkBytes: Int) throws {
        let path = try writeReadingInput(Self.text(rows: 400, seed: UInt64(chunkBytes)))
        let whole = readAll(path, chunkBytes: nil, threads: 1)
        #expect(whole.error == nil)
        #expect(whole.rows.count == 400)
        for threads in [2, 3] {
            let chunked = readAll(path, chunkBytes: chunkBytes, threads: threads)
            #expect(chunked.error == nil)
            #expect(chunked.rows == whole.rows)
            #expect(chunked.lines == whole.lines)
        }
    }

    @Test("an error is reported at the same line and column as by one reader", arguments: [1, 40, 333])
    func sameError(chunkBytes: Int) throws {
        var records = Self.text(rows: 300, seed: 7).components(separatedBy: "\n")
        // A bad number about two thirds in: every row before it is still handed out.
        let bad = records.count * 2 / 3
        records[bad] = "late,2020-01-02,12x,2020-01-01,2020-01-07,1,2"
        let path = try writeReadingInput(records.joined(separator: "\n"))
        let whole = readAll(path, chunkBytes: nil, threads: 1)
        let wholeError = try #require(whole.error)
        #expect(wholeError.code == .input)
        for threads in [2, 3] {
            let chunked = readAll(path, chunkBytes: chunkBytes, threads: threads)
            #expect(chunked.error == wholeError)
            // Batches end elsewhere, so the rows handed out before the error may differ in number,
            // never in content.
            #expect(Self.oneIsPrefix(chunked.rows, whole.rows))
            #expect(Self.oneIsPrefix(chunked.lines, whole.lines))
        }
    }

    @Test("an unterminated quoted field at the end is the same error as one reader's")
    func unterminatedQuote() throws {
        let text = Self.text(rows: 50, seed: 3) + "\"open,2020-01-02,1,2020-01-01,2020-01-07,1,2\n"
        let path = try writeReadingInput(text)
        let whole = readAll(path, chunkBytes: nil, threads: 1)
        let wholeError = try #require(whole.error)
        for chunkBytes in [1, 30, 500] {
            let chunked = readAll(path, chunkBytes: chunkBytes, threads: 2)
            #expect(chunked.error == wholeError)
            #expect(Self.oneIsPrefix(chunked.rows, whole.rows))
        }
    }

    static func oneIsPrefix<T: Equatable>(_ a: [T], _ b: [T]) -> Bool {
        a.count <= b.count ? b.starts(with: a) : a.starts(with: b)
    }

    @Test("a file without a final line feed, and one with only a header")
    func edges() throws {
        let last = try writeReadingInput(Self.header + "\na,2020-01-02,1,2020-01-01,2020-01-07,1,2")
        #expect(readAll(last, chunkBytes: 1, threads: 2).rows == readAll(last, chunkBytes: nil, threads: 1).rows)
        #expect(readAll(last, chunkBytes: 1, threads: 2).rows.count == 1)
        let empty = try writeReadingInput(Self.header + "\n")
        let read = readAll(empty, chunkBytes: 1, threads: 2)
        #expect(read.rows.isEmpty && read.error == nil)
    }
}
