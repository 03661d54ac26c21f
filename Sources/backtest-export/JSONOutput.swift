import BacktestExport
import ExportCore

/// The `--json` envelope of SPEC §9, written by hand so that its key order is fixed.
enum JSONOutput {
    /// A JSON value, enough for the CLI's output.
    indirect enum Value {
        case string(String)
        case int(Int)
        case double(Double?)
        case bool(Bool)
        case array([Value])
        case object([(String, Value)])
        case null

        var text: String {
            switch self {
            case .string(let s): return JSONText.quote(s)
            case .int(let i): return String(i)
            case .double(let d):
                guard let d, d.isFinite else { return "null" }
                return "\(d)"
            case .bool(let b): return b ? "true" : "false"
            case .null: return "null"
            case .array(let items): return "[" + items.map(\.text).joined(separator: ", ") + "]"
            case .object(let pairs):
                return "{" + pairs.map { "\(JSONText.quote($0.0)): \($0.1.text)" }.joined(separator: ", ") + "}"
            }
        }
    }

    static func success(_ data: [(String, Value)]) -> String {
        Value.object([("success", .bool(true)), ("data", .object(data))]).text
    }

    static func failure(code: String, message: String) -> String {
        Value.object([
            ("success", .bool(false)), ("error", .object([("code", .string(code)), ("message", .string(message))])),
        ]).text
    }
}
