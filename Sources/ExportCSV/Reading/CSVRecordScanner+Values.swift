internal import ExportCore

/// Typed reads of the current record's fields, with errors that name the file, line, column and
/// rule.
extension CSVRecordScanner {
    /// The number in field `index`, nil when the field is empty (a missing value).
    @inline(__always)
    func optionalDouble(at index: Int, columnNames: [String]) throws(ExportError) -> Double? {
        let bytes = field(index)
        if bytes.isEmpty { return nil }
        guard let value = CSVNumberParser.parseDouble(bytes) else {
            throw numberError(at: index, columnNames: columnNames)
        }
        return value
    }

    /// The instant in field `index`, in milliseconds since the epoch (UTC).
    @inline(__always)
    func timestamp(at index: Int, columnNames: [String]) throws(ExportError) -> Int64 {
        guard let value = CSVTimestampParser.parse(field(index)) else {
            throw timestampError(at: index, columnNames: columnNames)
        }
        return value
    }

    /// The error for the current record's field count.
    @inline(never)
    func fieldCountError(expected: Int) -> ExportError {
        .input(
            "Wrong number of fields: expected \(expected) fields, found \(fieldCount)"
                + " (every row needs one field per header column)",
            at: .init(file: path, line: recordLine)
        )
    }

    @inline(never)
    func numberError(at index: Int, columnNames: [String]) -> ExportError {
        let bytes = field(index)
        if String(validating: bytes, as: UTF8.self) == nil {
            return invalidUTF8Error(self, field: index, columnNames: columnNames)
        }
        return .input(
            "Cannot parse \(quotedForMessage(bytes)) as a number: expected a decimal such as 12.5, -3, 1.5E-4,"
                + " or NaN, Infinity, -Infinity, or an empty field for a missing value",
            at: location(of: index, columnNames: columnNames)
        )
    }

    @inline(never)
    func timestampError(at index: Int, columnNames: [String]) -> ExportError {
        let bytes = field(index)
        if String(validating: bytes, as: UTF8.self) == nil {
            return invalidUTF8Error(self, field: index, columnNames: columnNames)
        }
        return .input(CSVTimestampParser.diagnose(bytes), at: location(of: index, columnNames: columnNames))
    }

    /// The location of field `index` (0-based) of the current record.
    func location(of index: Int, columnNames: [String]) -> ExportError.Location {
        .init(file: path, line: recordLine, column: index + 1, columnName: columnNames[index])
    }
}
