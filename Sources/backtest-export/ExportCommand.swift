import ArgumentParser
import BacktestExport
import ExportCSV
import ExportCore
import ExportParquet
import ExportSinks

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `backtest-export export`: one backtest CSV in, both export folders out.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export backtest forecasts and their accuracy metrics, laid out like Amazon Forecast's export."
    )

    @Option(help: "The export job's name: 1-63 characters, ^[a-zA-Z][a-zA-Z0-9_]*$ (with --plan: the plan's).")
    var jobName: String?

    @Option(help: "Backtest forecasts, CSV in the forecasted-values layout (header required, any row order).")
    var input: String

    @Option(help: "Target time series (item_id, dimensions, timestamp, target_value) for MASE.")
    var history: String?

    @Option(help: "A local folder, or s3://bucket/prefix.")
    var destination: String

    @Option(help: "S3 only: a KMS key (ARN or id) for SSE-KMS encryption of every object.")
    var kmsKeyArn: String?

    @Option(help: "csv or parquet.")
    var format = "csv"

    @Option(help: "CSV: none or gzip (default none). Parquet: snappy (default), gzip, zstd or none.")
    var compression: String?

    @Option(help: "A part closes at the first series boundary past this size (e.g. 128MiB).")
    var maxPartBytes = ByteCount(argument: "128MiB")!

    @Option(help: "No part holds more rows than this.")
    var maxPartRows: Int?

    @Option(help: "The job's timestamp, yyyy-MM-ddTHH:mm:ssZ (default: now, UTC, whole seconds).")
    var exportTimestamp: String?

    @Option(help: "WAPE: normalized (Σ|y-ŷ|/Σ|y|, default) or absolute (Σ|y-ŷ|, as in Forecast's item-level files).")
    var wapeMode = "normalized"

    @Option(
        help:
            "Data frequency for MASE's seasonality (Y, M, W, D, H, 30min, 15min, 10min, 5min, 1min); inferred when absent."
    )
    var frequency: String?

    @Option(help: "Memory for grouping unsorted input before spilling sorted runs to disk (e.g. 1GiB).")
    var memoryLimit = ByteCount(argument: "1GiB")!

    @Option(help: "Where spilled runs go (default: $TMPDIR or /tmp).")
    var tempDir: String?

    @Flag(help: .hidden)
    var trustInputOrder = false

    @Option(help: "Sharded export: the plan written by `plan` (job name, timestamp, split points).")
    var plan: String?

    @Option(
        help:
            "With --plan: this worker's shard, 0-based, or auto (from JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX or SLURM_ARRAY_TASK_ID). It writes to the destination's _staging/ folder; `commit` publishes."
    )
    var shard: String?

    @Flag(help: "Print the result as one JSON object on stdout.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    func run() async throws {
        TemporaryFiles.installInterruptHandlers()
        let plan = try ExportPlan(command: self)
        let start = Monotonic.now
        var lastReport = start
        let progress: (ExportProgress) -> Void = { progress in
            guard !quiet else { return }
            let now = Monotonic.now
            guard now - lastReport >= 1.0 else { return }
            lastReport = now
            let seconds = now - start
            printError(
                "exporting: \(progress.forecastRowsWritten) rows, "
                    + "\(formatted(Double(progress.bytesWritten) / 1e6)) MB, "
                    + "\(formatted(Double(progress.bytesWritten) / 1e6 / seconds)) MB/s"
            )
        }
        let result = try await plan.execute(progress: progress)
        let seconds = Monotonic.now - start
        report(result, plan: plan, seconds: seconds)
    }

    private func report(_ result: ExportResult, plan: ExportPlan, seconds: Double) {
        if json {
            let parts: [JSONOutput.Value] = result.parts.map { part in
                .object([
                    ("key", .string(part.key)), ("rows", .int(part.rowCount)), ("bytes", .int(part.byteCount)),
                    ("sha256", .string(part.sha256)),
                ])
            }
            print(
                JSONOutput.success([
                    ("id", .string(plan.configuration.jobName.rawValue)),
                    ("created_at", .string(plan.configuration.timestamp.iso8601)),
                    ("destination", .string(destination)),
                    ("format", .string(plan.formatName)), ("compression", .string(plan.codecName)),
                    ("forecast_rows", .int(result.forecastRowCount)), ("metrics_rows", .int(result.metricsRowCount)),
                    ("bytes", .int(result.byteCount)), ("seconds", .double(seconds)),
                    ("input_was_in_export_order", .bool(result.inputWasInExportOrder)),
                    ("spilled_runs", .int(result.spilledRunCount)),
                    ("parts", .array(parts)),
                    ("predictor_metrics", Self.json(result.predictorMetrics)),
                    ("staging", plan.shard.map { .string($0.prefix) } ?? .null),
                ])
            )
            return
        }
        let rate = seconds > 0 ? Double(result.forecastRowCount) / seconds : 0
        if let shard = plan.shard {
            printError("shard \(shard.index): staged below \(destination)/\(shard.prefix); commit publishes it")
        }
        printError(
            "exported \(result.forecastRowCount) forecast rows and \(result.metricsRowCount) metric rows "
                + "in \(result.parts.count) parts (\(formatted(Double(result.byteCount) / 1e6)) MB) to \(destination) "
                + "in \(formatted(seconds)) s (\(formatted(rate / 1e6)) M rows/s)"
        )
        for part in result.parts { printError("  \(part.key)  \(part.rowCount) rows  \(part.byteCount) bytes") }
        printError(Self.table(result.predictorMetrics))
    }

    /// Predictor-level metrics (every series pooled) as JSON: per window and the summary.
    static func json(_ metrics: PredictorMetrics) -> JSONOutput.Value {
        func values(_ values: [Double?]) -> JSONOutput.Value {
            .object(zip(metrics.metricNames, values).map { ($0, .double($1)) })
        }
        let windows: [JSONOutput.Value] = metrics.windows.map { window in
            .object([
                ("start", .string(ExportTimestamp(epochSeconds: window.start / 1000).iso8601)),
                ("end", .string(ExportTimestamp(epochSeconds: window.end / 1000).iso8601)),
                ("items", .int(window.itemCount)), ("metrics", values(window.values)),
            ])
        }
        return .object([
            ("series", .int(metrics.seriesCount)), ("summary", values(metrics.summary)), ("windows", .array(windows)),
        ])
    }

    /// Predictor-level metrics as a small text table: one row per window, then the summary.
    static func table(_ metrics: PredictorMetrics) -> String {
        func cell(_ value: Double?) -> String {
            guard let value else { return "not defined" }
            return String(format6: value)
        }
        let header = ["window"] + metrics.metricNames
        var rows = metrics.windows.map { window in
            [
                ExportTimestamp(epochSeconds: window.start / 1000).iso8601.prefix(10) + "…"
                    + ExportTimestamp(epochSeconds: window.end / 1000).iso8601.prefix(10)
            ]
                + window.values.map(cell)
        }
        rows.append(["Summary"] + metrics.summary.map(cell))
        let widths = header.indices.map { column in
            ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ fields: [String]) -> String {
            zip(fields, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
        }
        return "predictor metrics (\(metrics.seriesCount) series pooled):\n"
            + ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    /// `value` with 6 significant digits, without Foundation.
    init(format6 value: Double) {
        guard value.isFinite, value != 0 else {
            self = "\(value)"
            return
        }
        let magnitude = Int((abs(value)).log10Floor())
        let scale = pow10(5 - magnitude)
        let rounded = (value * scale).rounded() / scale
        self = "\(rounded)"
    }
}

extension Double {
    fileprivate func log10Floor() -> Double {
        var exponent = 0.0
        var x = self
        while x >= 10 {
            x /= 10
            exponent += 1
        }
        while x < 1 {
            x *= 10
            exponent -= 1
        }
        return exponent
    }
}

private func pow10(_ n: Int) -> Double {
    var result = 1.0
    for _ in 0..<abs(n) { result *= 10 }
    return n >= 0 ? result : 1 / result
}

func formatted(_ value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    return "\(rounded)"
}

/// Seconds from a monotonic clock.
enum Monotonic {
    static var now: Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
