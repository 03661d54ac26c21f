// The backtest-export side of peers/compare: loads a forecasted-values CSV into ForecastBatches
// (BacktestCSVReader) and computes its metrics table (MetricsAccumulator), both untimed, then
// times writing each table to a file as CSV and as Parquet snappy with the real encoders, one
// thread, the way the exporter does (append 65,536-row batches, write each ready chunk, finish).
// One JSON object per timed write on stdout.
//
// `--threads all` writes through the library's LocalDirectorySink instead of plain write(2) calls,
// with the encoders' two threads (CSV: runs of series encoded in two halves at once; Parquet: the
// columns split over two threads): the sink's writer thread does the system calls (and the sink's
// temporary name, fsync and rename), as in a real export. `--threads 1`: one encoding thread.
//
//   PeerWriter --input F.csv --out DIR [--reps N] [--threads 1|all] [--formats csv,parquet]
//              [--tables forecast,metrics]
//   PeerWriter --input F.csv --out DIR --emit-metrics M.csv     (writes the metrics CSV, times nothing)
//
// A warm-up write of the (small) metrics table in each format comes first and is not reported.
import ExportCSV
import ExportCore
import ExportParquet
import ExportSinks
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func fail(_ message: String) -> Never {
    let text = Array("PeerWriter: \(message)\n".utf8)
    _ = text.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return arguments[i + 1]
}
guard let input = option("--input"), let outDir = option("--out") else {
    fail("usage: PeerWriter --input F.csv --out DIR [--reps N] [--emit-metrics M.csv]")
}
let reps = Int(option("--reps") ?? "1") ?? 1
let threads = option("--threads") ?? "1"
guard threads == "1" || threads == "all" else { fail("--threads takes 1 or all") }
/// The formats to time (default both): `--formats parquet` for a profile of one encoder alone.
let formats = (option("--formats") ?? "csv,parquet").split(separator: ",").map(String.init)
/// The tables to time (default both).
let tables = (option("--tables") ?? "forecast,metrics").split(separator: ",").map(String.init)

// MARK: load (untimed)

/// The forecast rows in the reader's batches, their schema and their metrics table.
struct Loaded: Sendable {
    var batches: [ForecastBatch] = []
    var schema: ExportSchema
    var metrics: MetricsBatch
    var forecastRows: Int { batches.reduce(0) { $0 + $1.rowCount } }

    init(path: String) {
        do {
            var reader = try BacktestCSVReader(path: path)
            schema = reader.schema
            while let b = try reader.nextBatch() { batches.append(b) }
            var accumulator = MetricsAccumulator(schema: schema)
            for b in batches { try accumulator.add(b, rows: 0..<b.rowCount) }
            metrics = accumulator.finish()
        } catch {
            fail("cannot load \(path): \(error)")
        }
    }
}
let loaded = Loaded(path: input)
let batches = loaded.batches
let schema = loaded.schema
let metricsBatch = loaded.metrics
let forecastRows = loaded.forecastRows

func context(_ table: ExportTable) -> PartContext {
    PartContext(
        jobName: try! JobName("peer"),
        timestamp: ExportTimestamp(epochSeconds: 1_709_802_300),
        schema: schema,
        table: table
    )
}

// MARK: timing helpers

func cpuSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func wallSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Busy CPU seconds of the whole machine (all processes), from /proc/stat; 0 where absent.
func machineBusySeconds() -> Double {
    guard let f = fopen("/proc/stat", "r") else { return 0 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 512)
    guard fgets(&line, Int32(line.count), f) != nil else { return 0 }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let fields = text.split(separator: " ").dropFirst().prefix(8).compactMap { Double($0) }
    guard fields.count == 8 else { return 0 }
    let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
    return (fields.reduce(0, +) - fields[3] - fields[4]) / hz
}

struct FileOutput {
    let fd: Int32
    var bytes = 0

    init(path: String) {
        unlink(path)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { fail("cannot create \(path): errno \(errno)") }
    }

    mutating func write(_ chunk: ByteBuffer) {
        chunk.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    fail("write failed: errno \(errno)")
                }
                offset += n
            }
        }
        bytes += chunk.readableBytes
    }

    func close() { _ = Glibc.close(fd) }
}

/// Encodes `batches` into `path`: the exporter's loop without grouping, rolling or hashing.
func writeTable<Encoder: TableEncoder, Batch: ColumnarBatch>(
    _ encoder: inout Encoder,
    _ batches: [Batch],
    to path: String
) throws -> Int {
    var out = FileOutput(path: path)
    for b in batches {
        var r = 0
        while r < b.rowCount {
            let end = min(r + 65_536, b.rowCount)
            try encoder.append(b, rows: r..<end)
            while let chunk = encoder.takeReadyBytes() { out.write(chunk) }
            r = end
        }
    }
    out.write(try encoder.finish())
    out.close()
    return out.bytes
}

/// The same loop through `LocalDirectorySink`: writing overlaps encoding.
func writeTableThroughSink<Encoder: TableEncoder, Batch: ColumnarBatch>(
    _ encoder: inout Encoder,
    _ batches: [Batch],
    to path: String
) async throws -> Int {
    unlink(path)
    let slash = path.lastIndex(of: "/")!
    let sink = LocalDirectorySink(root: String(path[..<slash]))
    return try await sink.withPart(named: String(path[path.index(after: slash)...])) { writer in
        // As the exporter hands rows over: runs of 32,768 rows in pieces (series) together, which
        // the encoders spread over their threads.
        for b in batches {
            var r = 0
            while r < b.rowCount {
                let end = min(r + 32_768, b.rowCount)
                let pieces = stride(from: r, to: end, by: 300).map { (b, $0..<min($0 + 300, end)) }
                try encoder.append(pieces: pieces)
                while let chunk = encoder.takeReadyBytes() { try await writer.write(chunk) }
                r = end
            }
        }
        try await writer.write(try encoder.finish())
        return writer.bytesWritten
    }
}

enum Kind: String { case csv, parquet }

/// The table's name in `--tables`, the output file and the JSON records.
func tableName(_ table: ExportTable) -> String { table == .forecastedValues ? "forecast" : "metrics" }

/// One timed write: plain `write(2)` calls with `--threads 1`, through the sink with `all`.
func writeTimed(_ table: ExportTable, _ kind: Kind, path: String) async throws -> Int {
    guard threads == "all" else { return try write(table, kind, path: path) }
    switch (table, kind) {
    case (.forecastedValues, .csv):
        var e = CSVFormat(threads: 2).makeEncoder(for: context(table))
        return try await writeTableThroughSink(&e, batches, to: path)
    case (.forecastedValues, .parquet):
        var e = ParquetFormat(codec: .snappy, threads: 2).makeEncoder(for: context(table))
        return try await writeTableThroughSink(&e, batches, to: path)
    case (.accuracyMetricsValues, .csv):
        var e = CSVFormat(threads: 2).makeEncoder(for: context(table))
        return try await writeTableThroughSink(&e, [metricsBatch], to: path)
    case (.accuracyMetricsValues, .parquet):
        var e = ParquetFormat(codec: .snappy, threads: 2).makeEncoder(for: context(table))
        return try await writeTableThroughSink(&e, [metricsBatch], to: path)
    }
}

func write(_ table: ExportTable, _ kind: Kind, path: String) throws -> Int {
    switch (table, kind) {
    case (.forecastedValues, .csv):
        var e = CSVFormat(threads: 1).makeEncoder(for: context(table))
        return try writeTable(&e, batches, to: path)
    case (.forecastedValues, .parquet):
        var e = ParquetFormat(codec: .snappy, threads: 1).makeEncoder(for: context(table))
        return try writeTable(&e, batches, to: path)
    case (.accuracyMetricsValues, .csv):
        var e = CSVFormat(threads: 1).makeEncoder(for: context(table))
        return try writeTable(&e, [metricsBatch], to: path)
    case (.accuracyMetricsValues, .parquet):
        var e = ParquetFormat(codec: .snappy, threads: 1).makeEncoder(for: context(table))
        return try writeTable(&e, [metricsBatch], to: path)
    }
}

do {
    if let metricsPath = option("--emit-metrics") {
        // Only the metrics table, for the peers to load; nothing is timed.
        _ = try write(.accuracyMetricsValues, .csv, path: metricsPath)
        exit(0)
    }
    // Warm-up (not reported).
    for kind in [Kind.csv, .parquet] {
        let path = "\(outDir)/peer_warmup.\(kind.rawValue)"
        _ = try write(.accuracyMetricsValues, kind, path: path)
        unlink(path)
    }
    for table in [ExportTable.forecastedValues, .accuracyMetricsValues]
    where tables.contains(tableName(table)) {
        for kind in [Kind.csv, .parquet] where formats.contains(kind.rawValue) {
            for _ in 0..<reps {
                let path =
                    "\(outDir)/backtest-export_\(tableName(table)).\(kind.rawValue)"
                unlink(path)
                let b0 = machineBusySeconds()
                let c0 = cpuSeconds()
                let w0 = wallSeconds()
                let bytes = try await writeTimed(table, kind, path: path)
                let w1 = wallSeconds()
                let c1 = cpuSeconds()
                let b1 = machineBusySeconds()
                let wall = w1 - w0
                let other = max(0, (b1 - b0) - (c1 - c0)) / wall
                let rows = table == .forecastedValues ? forecastRows : metricsBatch.rowCount
                print(
                    """
                    {"tool":"backtest-export","threads":"\(threads)","table":"\(tableName(table))",\
                    "format":"\(kind.rawValue)","codec":"\(kind == .csv ? "-" : "snappy")","rows":\(rows),\
                    "wall_s":\(wall),"cpu_s":\(c1 - c0),"bytes":\(bytes),"other_cores":\(other)}
                    """
                )
                unlink(path)
            }
        }
    }
} catch {
    fail("\(error)")
}
