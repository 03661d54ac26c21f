public import ExportCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes a deterministic synthetic backtest CSV (the `forecasted-values` layout) and, optionally,
/// the matching target time series for MASE, so that a newcomer can try the tool at once.
///
/// Values look real: demand levels spread over two orders of magnitude, weekly seasonality,
/// full-precision forecasts, intermittent series with many zeros, some missing actuals. The same
/// options and seed always give the same bytes.
public struct SampleBacktest: Sendable {
    /// `sorted`: the export's order (series byte-wise on the raw values, window start,
    /// timestamp); `windowMajor`: every series' first window, then every series' second, as a
    /// pipeline writes windows one after another; `shuffled`: random; `reversed`: sorted, reversed.
    public enum RowOrder: String, Sendable, CaseIterable {
        case sorted, shuffled, reversed
        case windowMajor = "window-major"
    }

    public var items = 100
    /// Number of dimension columns (0–3: `store`, `region`, `channel`). With one or more, every
    /// item appears in two stores, so series differ by dimension as well as by item.
    public var dimensions = 0
    public var windows = 3
    /// Points per window.
    public var horizon = 14
    /// Points of history before the first window (written to the history file only).
    public var historyLength = 56
    /// `D`, `H`, `W`, `M`, or `<n>min`.
    public var frequency = "D"
    public var seed: UInt64 = 42
    public var forecastTypes: [ForecastType] = [
        .quantile(hundredths: 10), .quantile(hundredths: 50),
        .quantile(hundredths: 90), .mean,
    ]
    /// Adds item ids with commas, quotes, line breaks and non-ASCII letters.
    public var awkwardIdentifiers = false
    public var order = RowOrder.sorted
    /// First timestamp of the history, `yyyy-MM-dd`.
    public var start = CivilTime(year: 2024, month: 1, day: 1)

    public init() {}

    /// Writes the backtest CSV to `path`, and the history CSV to `historyPath` when given.
    /// Returns the number of backtest rows written.
    @discardableResult
    public func write(to path: String, historyPath: String? = nil) throws -> Int {
        guard (0...3).contains(dimensions) else { throw ExportError.validation("--dimensions must be 0…3") }
        guard items > 0, windows > 0, horizon > 0, historyLength >= 0 else {
            throw ExportError.validation("--items, --windows and --horizon must be positive")
        }
        let step = try Self.stepper(for: frequency)
        let dimensionNames = Array(["store", "region", "channel"].prefix(dimensions))
        var random = SplitMix64(seed: seed)
        /// Per series: its key and its rows by window.
        var series: [(key: SeriesKey, windows: [[String]])] = []
        var history: [(key: SeriesKey, rows: [String])] = []
        let header =
            (["item_id"] + dimensionNames + [
                "timestamp", "target_value", "backtestwindow_start_time", "backtestwindow_end_time",
            ] + forecastTypes.map(\.columnName)).joined(separator: ",")
        let historyHeader = (["item_id"] + dimensionNames + ["timestamp", "target_value"]).joined(separator: ",")

        for item in 0..<items {
            let itemId = awkwardIdentifiers && item % 5 == 1 ? Self.awkwardId(item) : "item_\(Self.padded(item, 5))"
            let stores = dimensions == 0 ? [0] : [item % 7, item % 7 + 7]
            for store in stores {
                let values =
                    [itemId] + (dimensions >= 1 ? ["store_\(store)"] : [])
                    + (dimensions >= 2 ? ["region_\(store % 3)"] : []) + (dimensions >= 3 ? ["online"] : [])
                let key = [Self.quoted(itemId)] + values.dropFirst()
                let seriesKey = SeriesKey(itemId: itemId, dimensions: Array(values.dropFirst()))
                var seriesHistory: [String] = []
                var seriesWindows: [[String]] = []
                let level = exp(random.uniform(log(2.0), log(1500.0)))
                let intermittent = random.uniform(0, 1) < 0.15
                func actual(_ t: Int) -> Double? {
                    if random.uniform(0, 1) < 0.03 { return nil }
                    if intermittent && random.uniform(0, 1) < 0.7 { return 0 }
                    let season = 1 + 0.3 * sin(Double(t) * 2 * .pi / 7)
                    return (level * season * exp(random.normal() * 0.25) * 100).rounded() / 100
                }
                for t in 0..<historyLength {
                    let ts = step(start, t)
                    seriesHistory.append(
                        (key + [Self.instant(ts), actual(t).map { "\($0)" } ?? ""]).joined(separator: ",")
                    )
                }
                history.append((seriesKey, seriesHistory))
                for w in 0..<windows {
                    let first = historyLength + w * horizon
                    let windowStart = Self.window(step(start, first))
                    let windowEnd = Self.window(step(start, first + horizon - 1))
                    var rows: [String] = []
                    for h in 0..<horizon {
                        let t = first + h
                        let y = actual(t)
                        let center = level * (1 + 0.3 * sin(Double(t) * 2 * .pi / 7)) * exp(random.normal() * 0.1)
                        let spread = center * random.uniform(0.15, 0.45)
                        let forecasts = forecastTypes.map { type -> String in
                            guard let q = type.quantileLevel else { return "\(center * random.uniform(0.97, 1.03))" }
                            return "\(center + spread * Self.normalQuantile(q))"
                        }
                        rows.append(
                            (key + [Self.instant(step(start, t)), y.map { "\($0)" } ?? "", windowStart, windowEnd]
                                + forecasts).joined(separator: ",")
                        )
                    }
                    seriesWindows.append(rows)
                }
                series.append((seriesKey, seriesWindows))
            }
        }
        // Byte-wise series order (`item_10` before `item_9`, as the export writes them).
        series.sort { $0.key < $1.key }
        history.sort { $0.key < $1.key }
        var rows: [String] = []
        switch order {
        case .windowMajor:
            for w in 0..<windows { for s in series { rows += s.windows[w] } }
        case .sorted, .reversed, .shuffled:
            for s in series { for window in s.windows { rows += window } }
        }
        switch order {
        case .sorted, .windowMajor: break
        case .reversed: rows.reverse()
        case .shuffled:
            for i in stride(from: rows.count - 1, to: 0, by: -1) {
                rows.swapAt(i, Int(random.next() % UInt64(i + 1)))
            }
        }
        try Self.writeFile(path, header: header, rows: rows)
        if let historyPath {
            try Self.writeFile(historyPath, header: historyHeader, rows: history.flatMap(\.rows))
        }
        return rows.count
    }

    // MARK: - Helpers

    static func writeFile(_ path: String, header: String, rows: [String]) throws {
        guard let file = fopen(path, "w") else {
            throw ExportError.sink("Cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        for line in [header] + rows {
            guard fputs(line + "\n", file) >= 0 else {
                throw ExportError.sink("Cannot write '\(path)': \(String(cString: strerror(errno)))")
            }
        }
    }

    static func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    static func awkwardId(_ item: Int) -> String {
        ["a,b \(item)", "say \"hi\" \(item)", "line\nbreak \(item)", "Zürich-東京 \(item)", " \(item)"][item / 5 % 5]
    }

    /// RFC 4180 quoting for the input file.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences("\"", "\"\"") + "\""
    }

    static func instant(_ c: CivilTime) -> String { window(c) + "Z" }

    static func window(_ c: CivilTime) -> String {
        "\(padded(c.year, 4))-\(padded(c.month, 2))-\(padded(c.day, 2))T\(padded(c.hour, 2)):\(padded(c.minute, 2)):\(padded(c.second, 2))"
    }

    /// The time of point `t` counted from `start`.
    static func stepper(for frequency: String) throws -> @Sendable (CivilTime, Int) -> CivilTime {
        func seconds(_ s: Int64) -> @Sendable (CivilTime, Int) -> CivilTime {
            { start, t in CivilTime(epochSeconds: start.epochSeconds + s * Int64(t)) }
        }
        switch frequency {
        case "D": return seconds(86_400)
        case "H": return seconds(3_600)
        case "W": return seconds(7 * 86_400)
        case "M":
            return { start, t in
                let months = start.month - 1 + t
                return CivilTime(year: start.year + months / 12, month: months % 12 + 1, day: min(start.day, 28))
            }
        default:
            if frequency.hasSuffix("min"), let n = Int(frequency.dropLast(3)), n > 0 { return seconds(Int64(n) * 60) }
            throw ExportError.validation("Unknown frequency '\(frequency)': use D, H, W, M or <n>min")
        }
    }

    /// An approximation of the standard normal quantile (Acklam's rational approximation is more
    /// than enough for sample data).
    static func normalQuantile(_ p: Double) -> Double {
        let a = [
            -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.3577518672690, -30.66479806614716,
            2.506628277459239,
        ]
        let b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
        let c = [
            -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
            4.374664141464968, 2.938163982698783,
        ]
        let d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - 0.02425 { return -normalQuantile(1 - p) }
        let q = p - 0.5
        let r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
