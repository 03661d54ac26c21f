import BacktestExport
import Foundation

// Usage: QuickStart OUTPUT_DIR. Writes a small backtest and its history next to OUTPUT_DIR, then
// exports it there as Amazon Forecast would, with MASE from the history.
let output = CommandLine.arguments.dropFirst().first ?? "out"
let forecasts = output + "-input.csv"
let history = output + "-history.csv"

var input = "item_id,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p90,mean,p10\n"
var targets = "item_id,timestamp,target_value\n"
for item in ["store_10", "store_3"] {
    for day in 1...14 {
        targets += "\(item),2024-01-\(day < 10 ? "0" : "")\(day),\(Double(day * day % 11 + 3))\n"
    }
    for day in 15...21 {
        let y = Double(day * day % 11 + 3)
        input += "\(item),2024-01-\(day),\(y),2024-01-15,2024-01-22,\(y + 2),\(y),\(y - 2)\n"
    }
}
try input.write(toFile: forecasts, atomically: true, encoding: .utf8)
try targets.write(toFile: history, atomically: true, encoding: .utf8)

// --- the README's snippet ---
let exporter = BacktestExporter(
    sink: LocalDirectorySink(root: output),
    format: CSVFormat(compression: .none),
    configuration: ExportConfiguration(jobName: try JobName("MyExport"), timestamp: .now())
)
let result = try await exporter.export(csvFile: forecasts, historyFile: history)
for part in result.parts { print(part.key, part.rowCount) }
// ---
