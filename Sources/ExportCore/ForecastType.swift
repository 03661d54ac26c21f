/// A forecast type: the `mean` forecast, or a quantile 0.01…0.99 with at most two decimals.
///
/// Quantiles are held in hundredths so that they compare and print exactly:
/// `0.1` → column `p10`, wQL header `wQL[0.1]`; `0.05` → `p5`, `wQL[0.05]`.
public enum ForecastType: Sendable, Hashable, CustomStringConvertible {
    case mean
    /// A quantile in hundredths, 1…99.
    case quantile(hundredths: Int)

    /// Parses a column name: `mean`, or `p`/`P` followed by a whole percentage 1…99.
    /// Returns nil for a name that is not a forecast type at all (`^[pP]\d+$|^mean$`), and
    /// throws for one that is but names a quantile out of range.
    public init?(columnName: String) throws(ExportError) {
        if columnName == "mean" {
            self = .mean
            return
        }
        let bytes = Array(columnName.utf8)
        guard bytes.count >= 2, bytes[0] | 0x20 == UInt8(ascii: "p"),
            bytes.dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { return nil }
        let digits = bytes.dropFirst().drop(while: { $0 == 0x30 })
        guard digits.count <= 2, let value = Int(String(decoding: digits, as: UTF8.self)), (1...99).contains(value)
        else {
            throw .validation(
                "Forecast type '\(columnName)' is out of range: a quantile must be between p1 (0.01) and p99 (0.99)"
            )
        }
        self = .quantile(hundredths: value)
    }

    /// The quantile as a number (0.1 for p10), or nil for `mean`.
    public var quantileLevel: Double? {
        if case .quantile(let h) = self { return Double(h) / 100 }
        return nil
    }

    /// The output column name: `mean`, `p10`, `p5`.
    public var columnName: String {
        switch self {
        case .mean: "mean"
        case .quantile(let h): "p\(h)"
        }
    }

    /// The quantile printed shortest: `0.1`, `0.05`, `0.65`; nil for `mean`.
    public var shortQuantileText: String? {
        guard case .quantile(let h) = self else { return nil }
        if h % 10 == 0 { return "0.\(h / 10)" }
        return h < 10 ? "0.0\(h)" : "0.\(h)"
    }

    public var description: String { columnName }
}
