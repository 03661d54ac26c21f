import BacktestExport
import ExportCore

/// The `--json` envelope of SPEC §9, written by the project's one JSON writer (``JSONValue/text``)
/// so that its key order is fixed.
enum JSONOutput {
    typealias Value = JSONValue

    static func success(_ data: [(String, Value)]) -> String {
        Value.object([("success", .bool(true)), ("data", .object(data))]).text
    }

    static func failure(code: String, message: String) -> String {
        Value.object([
            ("success", .bool(false)), ("error", .object([("code", .string(code)), ("message", .string(message))])),
        ]).text
    }
}
