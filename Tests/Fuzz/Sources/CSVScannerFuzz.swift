import ExportCore

@testable import ExportCSV

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The first input byte picks the scanner's block size (small sizes force refills and growth
/// in the middle of fields, quotes and CRLFs); the rest is the file. Records, fields, lines and
/// errors must equal those of ``ReferenceCSV``.
enum CSVScannerFuzz {
    static let blockSizes = [4, 5, 7, 8, 9, 16, 64, 4096]

    /// A file of this process's own, rewritten for every input (the scanner reads a path), and
    /// removed when the process exits (libFuzzer ends a timed run with `exit`).
    static let path: String = {
        let folder = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        atexit { _ = unlink(CSVScannerFuzz.path) }
        return "\(folder)/backtest-export-fuzz-\(getpid()).csv"
    }()

    static func run(_ data: UnsafeBufferPointer<UInt8>) {
        guard let first = data.first else { return }
        let blockSize = blockSizes[Int(first) % blockSizes.count]
        let file = UnsafeBufferPointer(rebasing: data.dropFirst())
        write(file)
        let expected = ReferenceCSV.parse(Array(file))
        var records: [ReferenceCSV.Record] = []
        var failure: ReferenceCSV.Failure?
        do throws(ExportError) {
            let scanner = try CSVRecordScanner(source: FileByteSource(path: path), blockSize: blockSize)
            while let record = try scanner.nextRecord() {
                var fields: [[UInt8]] = []
                for i in 0..<record.count { fields.append(Array(record.field(i))) }
                records.append(.init(line: record.line, fields: fields))
            }
        } catch {
            guard error.code == .input, let location = error.location else {
                fuzzFailure("scanner threw an unexpected error: \(error)")
            }
            let kind: ReferenceCSV.Failure.Kind =
                error.message.hasPrefix("Unterminated") ? .unterminatedQuote : .characterAfterClosingQuote
            failure = .init(kind: kind, line: location.line, column: location.column ?? 0)
        }
        guard records == expected.records else {
            fuzzFailure(
                "records differ (block size \(blockSize)):\nscanner   \(records)\nreference \(expected.records)"
            )
        }
        guard failure == expected.failure else {
            fuzzFailure(
                "errors differ (block size \(blockSize)): scanner \(String(describing: failure)), reference \(String(describing: expected.failure))"
            )
        }
    }

    static func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fuzzFailure("cannot create \(path)") }
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            guard n > 0 else { fuzzFailure("cannot write \(path)") }
            offset += n
        }
        close(fd)
    }
}

/// A plain, byte-at-a-time reading of the scanner's documented rules, on the whole input:
/// RFC 4180 fields and records (LF or CRLF), `""` inside quotes, a `"` inside an unquoted field
/// kept, a leading UTF-8 BOM skipped, empty lines skipped but counted; a CR is dropped only at
/// the end of a record's last unquoted field.
enum ReferenceCSV {
    struct Record: Equatable, CustomStringConvertible {
        var line: Int
        var fields: [[UInt8]]
        var description: String { "\(line):\(fields.map { String(decoding: $0, as: UTF8.self) })" }
    }

    struct Failure: Equatable {
        enum Kind { case unterminatedQuote, characterAfterClosingQuote }
        var kind: Kind
        var line: Int
        var column: Int
    }

    static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")

    static func parse(_ d: [UInt8]) -> (records: [Record], failure: Failure?) {
        let n = d.count
        var p = n >= 3 && d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF ? 3 : 0
        var line = 1
        var records: [Record] = []
        while p < n {
            var fields: [[UInt8]] = []
            var quoted: [Bool] = []
            var newlines = 0
            record: while true {
                if p < n && d[p] == quote {
                    var q = p + 1
                    var field: [UInt8] = []
                    while true {
                        while q < n && d[q] != quote {
                            if d[q] == lf { newlines += 1 }
                            field.append(d[q])
                            q += 1
                        }
                        if q == n {
                            return (records, Failure(kind: .unterminatedQuote, line: line, column: fields.count + 1))
                        }
                        if q + 1 < n && d[q + 1] == quote {
                            field.append(quote)
                            q += 2
                            continue
                        }
                        break
                    }
                    fields.append(field)
                    quoted.append(true)
                    p = q + 1
                    if p == n { break record }
                    if d[p] == comma {
                        p += 1
                        continue record
                    }
                    if d[p] == lf {
                        p += 1
                        break record
                    }
                    if d[p] == cr && p + 1 == n {
                        p += 1
                        break record
                    }
                    if d[p] == cr && d[p + 1] == lf {
                        p += 2
                        break record
                    }
                    return (records, Failure(kind: .characterAfterClosingQuote, line: line, column: fields.count))
                } else {
                    var q = p
                    while q < n && d[q] != comma && d[q] != lf { q += 1 }
                    if q < n && d[q] == comma {
                        fields.append(Array(d[p..<q]))
                        quoted.append(false)
                        p = q + 1
                        continue record
                    }
                    var fieldEnd = q
                    if fieldEnd > p && d[fieldEnd - 1] == cr { fieldEnd -= 1 }
                    fields.append(Array(d[p..<fieldEnd]))
                    quoted.append(false)
                    p = q == n ? q : q + 1
                    break record
                }
            }
            let recordLine = line
            line += 1 + newlines
            if fields.count == 1 && !quoted[0] && fields[0].isEmpty { continue }
            records.append(Record(line: recordLine, fields: fields))
        }
        return (records, nil)
    }
}
