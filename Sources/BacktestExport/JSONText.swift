/// JSON string literals: the quoting under ``JSONValue/text`` (the one JSON writer) and the shard files.
public enum JSONText {
    /// A JSON string literal for `text`: quotes, backslashes and control characters escaped,
    /// everything else (including non-ASCII) as UTF-8.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
