internal import ExportCore

/// Finds a column name that would become a dimension but reads as a forecast type or a required
/// column to a person: written with look-alike characters (Cyrillic `р10`, fullwidth `ｐ１０`, a
/// zero-width space, Arabic-Indic digits), in other letter case (`Timestamp`), or in another
/// spelling of a quantile (`10%`, `quantile_0.1`, `1e-1`). Taken as a dimension, such a column
/// would cut every series into one per value, silently; so it is refused, and the user renames
/// it or names it with `--dimensions`.
///
/// Cost: one pass over the name's scalars; only for the few columns that are not forecast types
/// or required columns, once per header.
enum LookalikeColumnNames {
    /// Why `name` is ambiguous, or nil when it is a plain dimension name.
    static func ambiguity(of name: String, requiredColumns: [String]) -> String? {
        let plain = plainSpelling(of: name)
        let advice = "rename it if it is one, or name it with --dimensions if it is a dimension"
        if let invisible = name.unicodeScalars.first(where: { $0.properties.generalCategory == .format }) {
            return "Column \(quotedForMessage(name)) holds an invisible character (\(codePoint(invisible))):"
                + " remove it from the header"
        }
        if let required = requiredColumns.first(where: { $0 == plain.lowercased() }) {
            // Only letter case apart: not even a declared dimension may have that name.
            let only = name.lowercased() == required
            return "Column '\(name)' reads as the required column '\(required)' (\(how(name, plain))): "
                + (only
                    ? "rename it (no dimension may share a column's name, ignoring case, as Athena, Glue and DuckDB"
                        + " compare names)"
                    : advice)
        }
        if plain != name, let type = forecastType(plain) {
            return "Column '\(name)' reads as the forecast type '\(type)' (\(how(name, plain))): \(advice)"
        }
        if let type = quantileSpelling(plain) {
            let kind = type.first == "p" || type.first?.isNumber == true ? "quantile" : "forecast type"
            return "Column '\(name)' reads as the \(kind) '\(type)' in a spelling Forecast does not use: \(advice)"
        }
        return nil
    }

    /// What differs between `name` and its plain spelling, for the message.
    private static func how(_ name: String, _ plain: String) -> String {
        if name.lowercased() == plain.lowercased() { return "in other letter case" }
        let odd = name.unicodeScalars.filter { !$0.isASCII }.prefix(3).map(codePoint)
        return "written with look-alike characters " + odd.joined(separator: ", ")
    }

    /// `U+0440`.
    private static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The forecast type `text` names (its output column name), or nil; a name that has the shape
    /// of one but names none also counts (it was meant as one).
    private static func forecastType(_ text: String) -> String? {
        do {
            return try ForecastType(columnName: text)?.columnName
        } catch {
            return text
        }
    }

    /// Words around a number that make a column name read as a quantile (`q0.1`, `tau_0.1`,
    /// `percentile_10`, `p10_forecast`, `forecast_p10`, `0.1q`).
    private static let quantileWords = [
        "percentile", "quantile", "forecast", "quant", "pctl", "pct", "tau", "q", "p",
    ]

    /// `10%`, `0.1%`, `p10%`, `quantile_0.1`, `q0.1`, `q10`, `tau_0.1`, `percentile_10`,
    /// `p10_forecast`, `forecast_mean`, `0,1` (a decimal comma), `1e-1`: the quantile (or forecast
    /// type) they spell, or nil. Quantile words are taken off both ends (a word followed by a
    /// separator or a digit, so `pressure` or `quantity` stay whole), a `%` or an ordinal `th`
    /// off the end; what remains must be a number, or a forecast type's name. A number needs some
    /// such word or a decimal comma, and a single digit after a bare `q` or `p` stays a dimension
    /// (`q1`: a quarter).
    private static func quantileSpelling(_ text: String) -> String? {
        var body = Substring(text.lowercased())
        if let e = body.firstIndex(of: "e"), isDecimal(body[..<e]),
            case let exponent = body[body.index(after: e)...].drop(while: { $0 == "-" || $0 == "+" }),
            !exponent.isEmpty, exponent.allSatisfy(\.isASCII), exponent.allSatisfy(\.isNumber)
        {
            return String(body)
        }
        let isSeparator: (Character) -> Bool = { $0 == "_" || $0 == " " || $0 == "-" }
        var stripped: [String] = []
        var changed = true
        while changed {
            changed = false
            for word in quantileWords where body.hasPrefix(word) {
                let rest = body.dropFirst(word.count)
                let afterSeparator = rest.drop(while: isSeparator)
                guard afterSeparator.count < rest.count || rest.first?.isNumber == true, !afterSeparator.isEmpty
                else { continue }
                body = afterSeparator
                stripped.append(word)
                changed = true
                break
            }
            for word in quantileWords + ["th"] where body.hasSuffix(word) {
                let rest = body.dropLast(word.count)
                let beforeSeparator = rest.reversed().drop(while: isSeparator)
                guard beforeSeparator.count < rest.count || rest.last?.isNumber == true, !beforeSeparator.isEmpty
                else { continue }
                body = rest.dropLast(rest.count - beforeSeparator.count)
                stripped.append(word)
                changed = true
                break
            }
            if body.hasSuffix("%") {
                body = body.dropLast()
                stripped.append("%")
                changed = true
            }
        }
        if isDecimal(body) {
            let number = String(body.map { $0 == "," ? "." : $0 })
            let hasPoint = number.contains(".")
            guard hasPoint || !stripped.isEmpty else { return nil }
            if !hasPoint {
                guard let value = Int(number), (1...99).contains(value) else { return nil }
                let bare = stripped.allSatisfy { $0 == "q" || $0 == "p" }
                if bare && number.count == 1 { return nil }
                return "p" + String(value)
            }
            return stripped.contains("%") ? "p" + number : number
        }
        guard !stripped.isEmpty, !stripped.allSatisfy({ $0 == "%" || $0 == "th" }) else { return nil }
        return forecastType(String(body))
    }

    /// Digits with at most one decimal point or comma (ASCII only).
    private static func isDecimal(_ text: Substring) -> Bool {
        !text.isEmpty && text.contains(where: \.isNumber)
            && text.allSatisfy { $0.isASCII && ($0.isNumber || $0 == "." || $0 == ",") }
            && text.filter { $0 == "." || $0 == "," }.count <= 1
    }

    /// `name` with invisible format characters dropped, any decimal digit as its ASCII digit,
    /// fullwidth ASCII as ASCII, and the Cyrillic and Greek letters that look like Latin ones as
    /// those.
    static func plainSpelling(of name: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            if scalar.isASCII {
                result.append(scalar)
            } else if scalar.properties.generalCategory == .format {
                continue  // zero-width space, joiners, a BOM inside the name
            } else if scalar.properties.numericType == .decimal, let digit = scalar.properties.numericValue,
                let ascii = Unicode.Scalar(UInt32(0x30) + UInt32(digit))
            {
                result.append(ascii)
            } else if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFEE0) {
                result.append(ascii)
            } else if let latin = latinLookalikes[scalar] {
                result.append(latin)
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    private static let latinLookalikes: [Unicode.Scalar: Unicode.Scalar] = [
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        "ԁ": "d", "һ": "h", "ԝ": "w", "к": "k", "м": "m", "т": "t", "п": "n",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
        "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
        "ο": "o", "ρ": "p", "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "τ": "t", "υ": "u",
        "Ο": "O", "Ρ": "P", "Α": "A", "Ε": "E", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Τ": "T",
    ]
}
