import ArgumentParser
import BacktestExport
import ExportCSV
import ExportCore
import ExportParquet
import ExportSinks
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `backtest-export export`: backtest forecasts in (files, folders, globs, standard input; CSV,
/// gzip, Parquet), both export folders out.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export backtest forecasts and their accuracy metrics, laid out like Amazon Forecast's export."
    )

    @Option(help: "The export job's name: 1-63 characters, ^[a-zA-Z][a-zA-Z0-9_]*$ (with --plan: the plan's).")
    var jobName: String?

    @Option(
        help: """
            Backtest forecasts in the forecasted-values layout (any row order): a CSV, .csv.gz or .parquet file, \
            a folder of them (recursive; names starting with . or _ skipped), a quoted glob, or - for standard input. \
            Repeat to read several.
            """
    )
    var input: [String]

    @Option(
        help: """
            The dimension columns, comma-separated, in output order (e.g. store,region; '' for none). \
            Default: every column that is neither required nor a forecast type.
            """
    )
    var dimensions: String?

    @Option(help: "Target time series (item_id, dimensions, timestamp, target_value) for MASE; same forms as --input.")
    var history: [String] = []

    @Option(help: "A local folder, or s3://bucket/prefix.")
    var destination: String

    @Option(help: "S3 only: a KMS key (ARN or id) for SSE-KMS encryption of every object.")
    var kmsKeyArn: String?

    @Option(help: "csv or parquet.")
    var format = "csv"

    @Option(help: "CSV: none or gzip (default none). Parquet: snappy (default), gzip, zstd or none.")
    var compression: String?

    @Option(parsing: .unconditional, help: "A part closes at the first series boundary past this size (e.g. 128MiB).")
    var maxPartBytes = "128MiB"

    @Option(parsing: .unconditional, help: "No part holds more rows than this.")
    var maxPartRows: String?

    @Option(
        help: """
            When the destination holds another export's parts (another job name or timestamp): \
            error (stop, write nothing), overwrite (remove them first) or append (keep them, as Amazon Forecast does).
            """
    )
    var ifExists = "error"

    @Option(help: "The job's timestamp, yyyy-MM-ddTHH:mm:ssZ (default: now, UTC, whole seconds).")
    var exportTimestamp: String?

    @Option(
        help: "Item-level WAPE: absolute (Σ|y-ŷ|, as in Forecast's files; default) or normalized (Σ|y-ŷ|/Σ|y|)."
    )
    var wapeMode = "absolute"

    @Option(
        help:
            "Data frequency for MASE's seasonality (Y, M, W, D, H, 30min, 15min, 10min, 5min, 1min); inferred when absent."
    )
    var frequency: String?

    @Option(
        parsing: .unconditional,
        help: "Memory for grouping unsorted input before spilling sorted runs to disk (e.g. 1GiB)."
    )
    var memoryLimit = "1GiB"

    @Option(help: "The longest input record accepted (e.g. 64MiB); a longer one is an input error naming its line.")
    var maxRecordBytes = ByteCount(argument: "64MiB")!

    @Option(help: "Where spilled runs and a copy of Parquet from standard input go (default: $TMPDIR or /tmp).")
    var tempDir: String?

    @Option(
        help:
            "Seconds the whole export may take; past it the export is cancelled and fails (default: no limit). S3 requests also fail after 10 s without a connection or 30 s without a byte either way."
    )
    var timeout: Double?

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

    @Flag(help: "Print nothing but errors (and the --json object when asked): no progress, no summary.")
    var quiet = false

    func run() async throws {
        if let timeout, !(timeout > 0 && timeout <= 1e9) {
            throw ExportError.validation("Invalid --timeout \(timeout): must be a positive number of seconds")
        }
        let plan = try ExportPlan(command: self)
        let start = Monotonic.now
        // A progress line only on a terminal, redrawn in place about 4 times a second.
        let meter: ProgressMeter? = !quiet && Self.progressLineIsInPlace ? ProgressMeter() : nil
        let ticker = meter.map { meter in
            Task {
                // Writing starts (for its rate) no earlier than the last tick that saw none written.
                var writingStart = start
                while !Task.isCancelled {
                    try await Task.sleep(for: .milliseconds(250))
                    let snapshot = meter.snapshot
                    if snapshot.rowsRead == 0 { continue }  // nothing to show yet
                    let now = Monotonic.now
                    let reading = snapshot.forecastRowsWritten == 0
                    let seconds = now - (reading ? start : writingStart)
                    writeStandardError("\r\u{1B}[K" + ProgressLine.text(snapshot, seconds: seconds))
                    if reading { writingStart = now }
                }
            }
        }
        defer { ticker?.cancel() }
        let result = try await Self.runCancellable(timeout: timeout, json: json) {
            try await plan.execute(meter: meter)
        }
        ticker?.cancel()
        _ = await ticker?.result  // its last line drawn before the summary clears it
        let seconds = Monotonic.now - start
        report(result, plan: plan, seconds: seconds)
    }

    /// Runs `export` in a task that SIGINT, SIGTERM and `--timeout` cancel. On a signal the
    /// process exits with 128 + the signal's number once the export has cleaned up (at most
    /// 0.7 s later, see ``InterruptWatcher``); past the timeout the export fails with a
    /// `SINK_ERROR` saying so.
    static func runCancellable<T: Sendable>(
        timeout: Double?,
        json: Bool,
        _ export: sending @escaping () async throws -> T
    ) async throws -> T {
        // The watcher is in place before the export starts: a signal at any moment of it cancels it.
        let canceller = TaskCanceller()
        let watcher = InterruptWatcher(cancel: { canceller.cancel() })
        let task = Task { try await export() }
        canceller.watch(task)
        let timedOut = TimeoutFlag()
        let deadline = timeout.map { seconds in
            Task {
                try await Task.sleep(for: .seconds(seconds))
                timedOut.value.store(true, ordering: .relaxed)
                task.cancel()
            }
        }
        defer { deadline?.cancel() }
        do {
            return try await task.value
        } catch {
            if let signalNumber = watcher.signalReceived {
                let name = InterruptWatcher.name(of: signalNumber)
                BacktestExportCommand.fail(
                    code: ExportError.Code.internal.rawValue,
                    message: "Interrupted by \(name): the export was cancelled and nothing was published",
                    status: 128 + signalNumber,
                    json: json
                )
            }
            if timedOut.value.load(ordering: .relaxed), let timeout {
                throw ExportError.sink(
                    "The export did not finish within --timeout \(formatted(timeout)) s: it was cancelled and "
                        + "nothing was published"
                )
            }
            throw error
        }
    }

    /// Cancels a task that may not exist yet: a ``cancel()`` before ``watch(_:)`` cancels the task
    /// as soon as it is handed over.
    private final class TaskCanceller: Sendable {
        private let state = Mutex<(cancelTask: (@Sendable () -> Void)?, cancelled: Bool)>((nil, false))

        /// Hands the task over; cancels it at once when ``cancel()`` came first.
        func watch<T: Sendable>(_ task: Task<T, any Error>) {
            let cancelledBefore = state.withLock { state in
                state.cancelTask = { task.cancel() }
                return state.cancelled
            }
            if cancelledBefore { task.cancel() }
        }

        func cancel() {
            let cancelTask = state.withLock { state in
                state.cancelled = true
                return state.cancelTask
            }
            cancelTask?()
        }
    }

    /// Set when `--timeout` cancelled the export.
    private final class TimeoutFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    private func report(_ result: ExportResult, plan: ExportPlan, seconds: Double) {
        if json {
            let parts: [JSONOutput.Value] = result.parts.map { part in
                .object([
                    ("key", .string(part.key)), ("rows", .integer(part.rowCount)), ("bytes", .integer(part.byteCount)),
                    ("sha256", .string(part.sha256)),
                ])
            }
            print(
                JSONOutput.success([
                    ("id", .string(plan.configuration.jobName.rawValue)),
                    ("created_at", .string(plan.configuration.timestamp.iso8601)),
                    ("destination", .string(destination)),
                    ("format", .string(plan.formatName)), ("compression", .string(plan.codecName)),
                    ("forecast_rows", .integer(result.forecastRowCount)),
                    ("metrics_rows", .integer(result.metricsRowCount)),
                    ("bytes", .integer(result.byteCount)), ("seconds", .finite(seconds)),
                    ("schema", Self.json(plan.schema, declared: plan.dimensionsWereDeclared)),
                    ("wape_mode", .string(plan.configuration.metrics.wapeMode.rawValue)),
                    ("input_was_in_export_order", .bool(result.inputWasInExportOrder)),
                    ("spilled_runs", .integer(result.spilledRunCount)),
                    ("parts", .array(parts)),
                    ("predictor_metrics", result.predictorMetrics.json),
                    ("staging", plan.shard.map { .string($0.prefix) } ?? .null),
                ])
            )
            return
        }
        if quiet { return }
        if Self.progressLineIsInPlace { writeStandardError("\r\u{1B}[K") }
        let rate = seconds > 0 ? Double(result.forecastRowCount) / seconds : 0
        if let shard = plan.shard {
            printError("shard \(shard.index): staged below \(destination)/\(shard.prefix); commit publishes it")
        }
        printError(
            "exported \(result.forecastRowCount) forecast rows and \(result.metricsRowCount) metric rows "
                + "in \(result.parts.count) parts (\(formatted(Double(result.byteCount) / 1e6)) MB) to \(destination) "
                + "in \(formatted(seconds)) s (\(formatted(rate / 1e6)) M rows/s)"
        )
        printError(Self.schemaLine(plan.schema, declared: plan.dimensionsWereDeclared))
        for part in result.parts { printError("  \(part.key)  \(part.rowCount) rows  \(part.byteCount) bytes") }
        printError(Self.table(result.predictorMetrics))
    }

    /// The schema as JSON: dimensions (and whether `--dimensions` declared them) and the forecast
    /// types in output order.
    static func json(_ schema: ExportSchema, declared: Bool) -> JSONOutput.Value {
        .object([
            ("dimensions", .array(schema.dimensions.map { .string($0) })),
            ("dimensions_source", .string(declared ? "declared" : "detected")),
            ("forecast_types", .array(schema.outputForecastTypes.map { .string($0.columnName) })),
        ])
    }

    /// `schema: dimensions store, region (detected); forecast types mean, p10, p50, p90`.
    static func schemaLine(_ schema: ExportSchema, declared: Bool) -> String {
        let dimensions = schema.dimensions.isEmpty ? "none" : schema.dimensions.joined(separator: ", ")
        return "schema: dimensions \(dimensions) (\(declared ? "declared" : "detected")); forecast types "
            + schema.outputForecastTypes.map(\.columnName).joined(separator: ", ")
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

extension ExportCommand {
    /// Whether standard error is a terminal: the progress line is drawn (and redrawn in place)
    /// only there, never into a log file or a pipe.
    static var progressLineIsInPlace: Bool { isatty(2) == 1 }
}

/// Writes `text` to standard error as it is, without a line end.
func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
