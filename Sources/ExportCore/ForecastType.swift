/// A forecast type: the `mean` forecast, or a quantile 0.01…0.99 with at most two decimals.
///
/// Quantiles are held in hundredths so that they compare and print exactly:
/// `0.1` → column `p10`, wQL header `wQL[0.1]`; `0.05` → `p5`, `wQL[0.05]`.
///
/// Types compare in Amazon Forecast's column order: `mean` first, then the quantiles ascending
/// (`mean < p10 < p50 < p90`), the order of every real export (SPEC §4).
public enum ForecastType: Sendable, Hashable, Comparable, CustomStringConvertible {
    case mean
    /// A quantile in hundredths, 1…99.
    case quantile(hundredths: Int)

    /// Parses an input column name as Forecast's API and exports spell forecast types: `mean`;
    /// `p`/`P` and a percentage (`p10`, `P10`, `p5`, `p05`, `p10.0`); or the quantile as a
    /// decimal (`0.1`, `0.10`, `.5`). All name the output column `mean` or `p<N>`.
    ///
    /// Returns nil for a name that is not a forecast type at all (it is then a dimension). Throws
    /// an input error for a name that has the shape of one but names no allowed quantile: outside
    /// (0, 1) (`p0`, `p100`, `p-5`, `1.5`, `0`), finer than hundredths (`p50.5`, `0.005`) or with a
    /// `+` sign (`p+9`, `+0.5`: a quantile, but not as Forecast spells one); for `p` and a number
    /// apart (`p 10`, `p_10`), which could be either a quantile or a dimension; and for
    /// `mean` in other letter case (`Mean`, `MEAN`), which could be either.
    public init?(columnName: String) throws(ExportError) {
        if columnName == "mean" {
            self = .mean
            return
        }
        if columnName.lowercased() == "mean" {
            // Ambiguous: Forecast spells the type `mean`; as a dimension it would cut every series
            // into one per forecast value, silently.
            throw .input(
                "Column '\(columnName)' is spelled like the forecast type 'mean' in other letter case:"
                    + " rename it to 'mean' if it is the mean forecast, or name it with --dimensions if it is a dimension"
            )
        }
        let bytes = Array(columnName.utf8)
        guard let first = bytes.first else { return nil }
        let isPercent = first | 0x20 == UInt8(ascii: "p")
        let number = isPercent ? Array(bytes.dropFirst()) : bytes
        guard let decimal = Self.parseDecimal(number) else {
            let separated = number.drop(while: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "_") })
            if isPercent && separated.count < number.count && Self.parseDecimal(Array(separated)) != nil {
                // `p 10`, `p_10`: a quantile column with a separator, or a dimension; not guessed.
                throw .input(
                    "Column '\(columnName)' looks like a quantile forecast column with a separator:"
                        + " rename it to 'p\(String(decoding: separated, as: UTF8.self))' if it is a forecast"
                        + " (Forecast names them p10, p50, …), or name it with --dimensions if it is a dimension"
                )
            }
            return nil
        }
        // decimal = (negative, digits, fraction digits): the value is ±digits / 10^scale.
        let rule =
            isPercent
            ? "a quantile column is p1…p99 (whole percentages, as Forecast names them)"
            : "a quantile is 0.01…0.99 with at most two decimals, as Forecast's API allows"
        func invalid(_ why: String) -> ExportError {
            .input("Forecast type '\(columnName)' \(why): \(rule)")
        }
        // Hundredths = value · 100 (percent form: value itself); must be a whole number 1…99.
        let shift = isPercent ? 0 : 2
        var digits = decimal.digits
        var scale = decimal.scale - shift
        while scale > 0, digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            scale -= 1
        }
        if scale < 0 {
            digits += Array(repeating: UInt8(ascii: "0"), count: -scale)
            scale = 0
        }
        let significant = digits.drop(while: { $0 == UInt8(ascii: "0") })
        if decimal.plusSign {
            throw invalid("has a '+' sign, which Forecast never writes (rename it without the sign)")
        }
        if decimal.negative && !significant.isEmpty { throw invalid("is negative") }
        if significant.isEmpty { throw invalid("is zero") }
        guard scale == 0 else {
            if significant.count - scale > 2 { throw invalid("is out of range") }
            throw invalid("is finer than Forecast allows")
        }
        guard significant.count <= 2, let value = Int(String(decoding: significant, as: UTF8.self)),
            (1...99).contains(value)
        else { throw invalid("is out of range") }
        self = .quantile(hundredths: value)
    }

    /// `[+-]digits[.digits]` or `[+-].digits`: the sign, all digits without the point, and how
    /// many of them follow the point; nil for anything else.
    private static func parseDecimal(
        _ bytes: [UInt8]
    ) -> (negative: Bool, plusSign: Bool, digits: [UInt8], scale: Int)? {
        var i = 0
        var negative = false
        var plusSign = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            plusSign = !negative
            i += 1
        }
        var digits: [UInt8] = []
        var scale = 0
        var seenPoint = false
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else if b >= 0x30 && b <= 0x39 {
                digits.append(b)
                if seenPoint { scale += 1 }
            } else {
                return nil
            }
            i += 1
        }
        guard !digits.isEmpty else { return nil }
        return (negative, plusSign, digits, scale)
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

    /// Forecast's column order: `mean`, then quantiles ascending.
    public static func < (lhs: ForecastType, rhs: ForecastType) -> Bool {
        switch (lhs, rhs) {
        case (.mean, .mean): false
        case (.mean, .quantile): true
        case (.quantile, .mean): false
        case (.quantile(let a), .quantile(let b)): a < b
        }
    }
}
