import ArgumentParser
import BacktestExport
import BacktestSample
import ExportCore

/// `backtest-export sample`: writes a deterministic synthetic backtest CSV to try the tool with.
struct SampleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write a deterministic synthetic backtest CSV (and optionally its target history)."
    )

    @Option(name: .shortAndLong, help: "The CSV file to write.")
    var output: String

    @Option(help: "Also write the target time series (history before the windows) here, for MASE.")
    var historyOutput: String?

    @Option(help: "Number of items.") var items = 100
    @Option(help: "Dimension columns, 0-3 (store, region, channel).") var dimensions = 0
    @Option(help: "Backtest windows.") var windows = 3
    @Option(help: "Points per window (the forecast horizon).") var horizon = 14
    @Option(help: "History points before the first window.") var historyLength = 56
    @Option(help: "Frequency: D, H, W, M or <n>min.") var frequency = "D"
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Option(help: "Forecast types, comma-separated (mean, p10, …).") var forecastTypes = "p10,p50,p90,mean"
    @Option(help: "Row order: sorted (byte-wise, the export's), window-major, shuffled or reversed.") var order =
        "sorted"
    @Flag(help: "Include item ids with commas, quotes, line breaks and non-ASCII letters.") var awkwardIds = false
    @Flag(help: "Print the result as one JSON object.") var json = false

    func run() async throws {
        var sample = SampleBacktest()
        sample.items = items
        sample.dimensions = dimensions
        sample.windows = windows
        sample.horizon = horizon
        sample.historyLength = historyLength
        sample.frequency = frequency
        sample.seed = seed
        sample.awkwardIdentifiers = awkwardIds
        guard let order = SampleBacktest.RowOrder(rawValue: order) else {
            throw ExportError.validation("Invalid --order '\(order)': use sorted, window-major, shuffled or reversed")
        }
        sample.order = order
        sample.forecastTypes = try forecastTypes.split(separator: ",").map { name in
            guard let type = try ForecastType(columnName: String(name)) else {
                throw ExportError.validation("Invalid forecast type '\(name)': use mean or p1…p99")
            }
            return type
        }
        let rows = try sample.write(to: output, historyPath: historyOutput)
        if json {
            print(
                JSONOutput.success([
                    ("id", .string(output)), ("rows", .integer(rows)),
                    ("history", historyOutput.map { .string($0) } ?? .null),
                ])
            )
        } else {
            printError(
                "wrote \(rows) backtest rows to \(output)" + (historyOutput.map { " and history to \($0)" } ?? "")
            )
        }
    }
}
