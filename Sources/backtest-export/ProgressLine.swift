/// The text of the progress line for one ``ProgressMeter/Snapshot``: while the input is read,
/// the rows read, the share of the input read (where its size is known) and the reading rate;
/// once rows are written, the rows written (against the rows read), the writing rate and the bytes.
///
/// Pure: the caller draws it (on a terminal, in place), decides how often, and says how long
/// each phase has lasted (`seconds`: since reading began, or since writing began).
enum ProgressLine {
    static func text(_ snapshot: ProgressMeter.Snapshot, seconds: Double) -> String {
        let elapsed = max(seconds, 1e-3)
        if snapshot.forecastRowsWritten == 0 {
            var line = "reading: \(grouped(snapshot.rowsRead)) rows"
            if snapshot.inputBytesTotal > 0 {
                let share = min(100, 100 * Double(snapshot.inputBytesRead) / Double(snapshot.inputBytesTotal))
                line += " (\(Int(share.rounded(.down)))% of \(megabytes(snapshot.inputBytesTotal)) MB)"
            }
            return line + ", \(rate(snapshot.rowsRead, elapsed)) rows/s"
        }
        var line = "writing: \(grouped(snapshot.forecastRowsWritten))"
        if snapshot.rowsRead >= snapshot.forecastRowsWritten, snapshot.rowsRead > 0 {
            let share = 100 * Double(snapshot.forecastRowsWritten) / Double(snapshot.rowsRead)
            line += " of \(grouped(snapshot.rowsRead)) rows read (\(Int(share.rounded(.down)))%)"
        } else {
            line += " rows"
        }
        return line
            + ", \(rate(snapshot.forecastRowsWritten, elapsed)) rows/s, \(megabytes(snapshot.bytesWritten)) MB written"
    }

    /// 1234567 → "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = value < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    /// Rows per second, shortened: 950, 12.3 k, 4.56 M.
    static func rate(_ rows: Int, _ seconds: Double) -> String {
        let perSecond = Double(rows) / seconds
        if perSecond >= 1e6 { return "\(formatted(perSecond / 1e6)) M" }
        if perSecond >= 1e3 { return "\(formatted(perSecond / 1e3)) k" }
        return "\(Int(perSecond.rounded()))"
    }

    private static func megabytes(_ bytes: Int) -> String { formatted(Double(bytes) / 1e6) }
}
