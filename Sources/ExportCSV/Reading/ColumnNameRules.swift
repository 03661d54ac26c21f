public import ExportCore

/// The rules every input header obeys, whatever the file's format (CSV, Parquet): each column
/// name is non-empty, holds no line break, has no leading or trailing white space, and appears once.
///
/// Errors are input errors at the header's line with the 1-based column number and the rule.
public enum ColumnNameRules {
    /// Checks `names` (in file order) of the file `file`, whose header is at `line`.
    public static func check(_ names: [String], file: String, line: Int = 1) throws(ExportError) {
        var positions: [String: Int] = [:]
        positions.reserveCapacity(names.count)
        for (i, name) in names.enumerated() {
            guard !name.isEmpty else {
                throw .input(
                    "Empty column name in the header: every column needs a name",
                    at: .init(file: file, line: line, column: i + 1)
                )
            }
            if name.utf8.contains(where: { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\n") }) {
                throw .input(
                    "Column name \(quotedForMessage(name)) holds a line break: lines must end with LF or CRLF"
                        + " (was the file written with CR-only line endings?)",
                    at: .init(file: file, line: line, column: i + 1)
                )
            }
            if let first = name.unicodeScalars.first, let last = name.unicodeScalars.last,
                first.properties.isWhitespace || last.properties.isWhitespace
            {
                throw .input(
                    "Column name '\(name)' has leading or trailing spaces: column names are matched exactly;"
                        + " remove the spaces from the header",
                    at: .init(file: file, line: line, column: i + 1, columnName: name)
                )
            }
            if let first = positions[name] {
                throw .input(
                    "Duplicate column name '\(name)': it is also column \(first + 1); column names must be unique",
                    at: .init(file: file, line: line, column: i + 1, columnName: name)
                )
            }
            positions[name] = i
        }
    }
}
