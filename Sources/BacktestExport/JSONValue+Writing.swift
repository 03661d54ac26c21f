/// The one JSON writer of the project: `_manifest.json`, the predictor metrics, the CLI's `--json`
/// output. Members keep the order they are given in, so the same value always gives the same bytes.
extension JSONValue {
    /// An integer.
    public static func integer(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }

    /// A double in Swift's shortest round-trip digits, or `null` when absent or not finite (a metric
    /// that is not defined).
    public static func finite(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .number("\(value)")
    }

    /// On one line: `{"a": 1, "b": [true, null]}`.
    public var text: String { text(expanding: { _ in false }) }

    /// Objects and arrays for whose member path `expand` answers true are written one member per
    /// line, indented by two spaces a level; the others on one line, as ``text``. The path of a
    /// member is the names leading to it, `"[]"` standing for an array item; the whole document's
    /// is `[]`.
    public func text(expanding expand: ([String]) -> Bool) -> String {
        var out = ""
        var path: [String] = []
        write(to: &out, indent: 0, path: &path, expand: expand)
        return out
    }

    private func write(to out: inout String, indent: Int, path: inout [String], expand: ([String]) -> Bool) {
        switch self {
        case .string(let text): out += JSONText.quote(text)
        case .number(let text): out += text
        case .bool(let value): out += value ? "true" : "false"
        case .null: out += "null"
        case .array(let items):
            let expanded = !items.isEmpty && expand(path)
            out += expanded ? "[\n" : "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += expanded ? ",\n" : ", " }
                if expanded { out += String(repeating: " ", count: indent + 2) }
                path.append("[]")
                item.write(to: &out, indent: indent + 2, path: &path, expand: expand)
                path.removeLast()
            }
            if expanded { out += "\n" + String(repeating: " ", count: indent) }
            out += "]"
        case .object(let members):
            let expanded = !members.isEmpty && expand(path)
            out += expanded ? "{\n" : "{"
            for (index, (name, value)) in members.enumerated() {
                if index > 0 { out += expanded ? ",\n" : ", " }
                if expanded { out += String(repeating: " ", count: indent + 2) }
                out += JSONText.quote(name) + ": "
                path.append(name)
                value.write(to: &out, indent: indent + 2, path: &path, expand: expand)
                path.removeLast()
            }
            if expanded { out += "\n" + String(repeating: " ", count: indent) }
            out += "}"
        }
    }
}
