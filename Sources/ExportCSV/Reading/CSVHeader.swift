package import ExportCore

/// The header row of an input CSV (or the column names of a Parquet file, with the same rules):
/// its column names, checked to be valid UTF-8 and to follow ``ColumnNameRules`` (non-empty, no
/// surrounding spaces, distinct).
package struct CSVHeader {
    /// Column names in file order.
    package let names: [String]
    package let path: String
    /// The physical line of the header (1 unless empty lines precede it).
    package let line: Int

    /// Reads the first record of `scanner` as the header. Throws for an empty file, a name that
    /// is not UTF-8, a name that breaks ``ColumnNameRules``, or a missing required column.
    init(scanner: CSVRecordScanner, expecting required: [String]) throws(ExportError) {
        guard let record = try scanner.nextRecord() else {
            throw .input(
                "The file is empty: expected a header row naming the columns "
                    + required.joined(separator: ", "),
                at: .init(file: scanner.path, line: 1)
            )
        }
        var names: [String] = []
        for i in 0..<record.count {
            guard let name = String(validating: record.field(i), as: UTF8.self) else {
                throw .input(
                    "Invalid UTF-8 in the header: column names must be UTF-8 text",
                    at: .init(file: scanner.path, line: record.line, column: i + 1)
                )
            }
            names.append(name)
        }
        try self.init(names: names, path: scanner.path, line: record.line, expecting: required)
    }

    /// Column names found elsewhere than in a CSV header line (a Parquet file's schema), checked
    /// by the same rules; errors point at `path:line`.
    package init(names: [String], path: String, line: Int, expecting required: [String]) throws(ExportError) {
        self.path = path
        try ColumnNameRules.check(names, file: path, line: line)
        let positions = Set(names)
        let missing = required.filter { !positions.contains($0) }
        guard missing.isEmpty else {
            throw .input(
                "Missing required column\(missing.count == 1 ? "" : "s") "
                    + missing.map { "'\($0)'" }.joined(separator: ", ")
                    + "; the header has: " + names.joined(separator: ", "),
                at: .init(file: path, line: line)
            )
        }
        self.names = names
        self.line = line
    }

    /// The 0-based position of `name` (which must be present).
    func position(of name: String) -> Int { names.firstIndex(of: name)! }

    /// A header-level error that concerns no one column.
    func error(_ code: ExportError.Code, _ message: String) -> ExportError {
        ExportError(code, message, at: .init(file: path, line: line))
    }

    /// A header-level error at column `index` (0-based).
    func error(_ code: ExportError.Code, _ message: String, column index: Int) -> ExportError {
        ExportError(code, message, at: .init(file: path, line: line, column: index + 1, columnName: names[index]))
    }
}
