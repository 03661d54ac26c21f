import ExportCore
import Foundation
import Testing

private typealias F = MetricsFixture

/// Writes a generated backtest input, its history and the accumulator's rows (as an
/// `accuracy-metrics-values` CSV folder) to `$METRICS_ORACLE_OUT`, so that the independent Python
/// oracle can check the Swift engine:
///
///     METRICS_ORACLE_OUT=/tmp/mo swift test --filter MetricsOracleExportTests
///     python3 tests/python/metrics_oracle.py --input /tmp/mo/forecasts.csv \
///         --history /tmp/mo/history.csv --frequency D --check /tmp/mo/export
///
/// Skipped when the variable is not set. Values are printed with Swift's shortest round-trip
/// form (the real CSV encoder's Java format is not this target's business).
@Suite struct MetricsOracleExportTests {
    static let outputDirectory = ProcessInfo.processInfo.environment["METRICS_ORACLE_OUT"]

    @Test(
        .enabled(
            if: outputDirectory != nil,
            "writes the Python oracle's input: run by scripts/test, which sets METRICS_ORACLE_OUT and runs the oracle"
        )
    )
    func writeInputHistoryAndExportForTheOracle() throws {
        let root = URL(fileURLWithPath: Self.outputDirectory!)
        let folder = root.appendingPathComponent("export/accuracy-metrics-values")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let types: [ForecastType] = [
            .quantile(hundredths: 10), .mean, .quantile(hundredths: 50), .quantile(hundredths: 90),
        ]
        let schema = F.schema(types, dimensions: ["region"])
        var rng = SplitMix64(seed: 99)
        var input =
            "item_id,region,timestamp,target_value,backtestwindow_start_time,backtestwindow_end_time,p10,mean,p50,p90\n"
        var history = "item_id,region,timestamp,target_value\n"
        var batch = ForecastBatch(forecastTypeCount: types.count)
        var targets = TargetBatch()
        func text(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }
        let timeStyles = [
            { (t: Int64) in day(t) }, { (t: Int64) in day(t) + " 00:00:00" }, { (t: Int64) in day(t) + "T00:00:00Z" },
        ]
        for s in 0..<60 {
            let key = SeriesKey(itemId: "item\(s % 23)", dimensions: ["r\(s / 23)"])
            for d in 0..<120 {
                let v: Double? = rng.next() % 10 == 0 ? nil : (rng.next() % 5 == 0 ? 0 : Double(rng.next() % 5000) / 37)
                let flat: Double? = s == 5 ? 3 : v  // one series with a zero MASE scale
                targets.append(series: key, timestamp: F.d(Int64(d)), target: flat)
                history += "\(key.itemId),\(key.dimensions[0]),\(day(F.d(Int64(d)))),\(text(flat))\n"
            }
            let windows = s == 7 ? 1 : 3
            for w in 0..<windows {
                let start = F.d(Int64(120 + 10 * w - (s == 9 ? 118 : 0)))  // series 9: no seasonal pair
                let end = start + 9 * F.day
                for p in 0..<10 {
                    let t = start + Int64(p) * F.day
                    var y: Double? = rng.next() % 7 == 0 ? 0 : Double(rng.next() % 10_000) / 41
                    if rng.next() % 11 == 0 { y = nil }
                    if s == 3 && w == 2 { y = nil }
                    let base = y ?? 50
                    var f: [Double?] = [0.7, 1.0, 1.02, 1.4].map {
                        base * $0 + Double(Int64(rng.next() % 300) - 150) / 9
                    }
                    for i in f.indices where rng.next() % 19 == 0 { f[i] = nil }
                    if s == 11 { f[1] = nil }  // no mean for some points: they are skipped
                    batch.append(series: key, timestamp: t, target: y, windowStart: start, windowEnd: end, forecasts: f)
                    let style = timeStyles[(s + p) % 3]
                    input += "\(key.itemId),\(key.dimensions[0]),\(style(t)),\(text(y)),\(style(start)),\(style(end)),"
                    input += f.map(text).joined(separator: ",") + "\n"
                }
            }
        }
        var h = TargetHistory()
        h.add(targets)
        var accumulator = MetricsAccumulator(schema: schema, options: MetricsOptions(frequency: .daily, history: h))
        try accumulator.add(batch, rows: 0..<batch.rowCount)
        let out = accumulator.finish()
        #expect(out.rowCount == 60 * 4 - 2)

        let header =
            (schema.keyColumns + ["backtest_window", "backtestwindow_start_time", "backtestwindow_end_time"]
            + schema.metricNames).joined(separator: ",")
        var parts = [header + "\n", header + "\n"]
        for r in 0..<out.rowCount {
            let key = out.series[Int(out.seriesIndex[r])]
            var line = "\(key.itemId),\(key.dimensions[0]),\(out.backtestWindow[r].label),"
            line += "\(day(out.windowStart[r]))T00:00:00,\(day(out.windowEnd[r]))T00:00:00"
            for column in out.metrics { line += "," + (column[r].map { "\($0)" } ?? ExportSchema.notDefined) }
            parts[r < out.rowCount / 2 ? 0 : 1] += line + "\n"
        }
        try input.write(to: root.appendingPathComponent("forecasts.csv"), atomically: true, encoding: .utf8)
        try history.write(to: root.appendingPathComponent("history.csv"), atomically: true, encoding: .utf8)
        for (i, part) in parts.enumerated() {
            try part.write(
                to: folder.appendingPathComponent("oracle_2024-01-01T00-00-00Z_part\(i).csv"),
                atomically: true,
                encoding: .utf8
            )
        }
    }
}

/// `yyyy-MM-dd` of an instant in milliseconds.
private func day(_ t: Int64) -> String {
    let c = CivilTime(epochSeconds: t / 1000)
    func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(c.year)-\(two(c.month))-\(two(c.day))"
}
