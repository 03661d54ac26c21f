internal import ExportCore

/// Typed reads of a record's fields, with errors that name the file, line, column and rule.
extension CSVRecordScanner {
    /// The number in field `index` of `record`, nil when the field is empty (a missing value).
    @inline(__always)
    func optionalDouble(_ record: CSVRecord, at index: Int) throws(ExportError) -> Double? {
        let bytes = record.field(index)
        if bytes.isEmpty { return nil }
        guard let value = CSVNumberParser.parseDouble(bytes) else { throw numberError(record, at: index) }
        // A decimal too large for a double (`1e400`) would become ±infinity silently; only the
        // literal spellings (`Infinity`, `-Infinity`, `inf`) may mean infinity.
        if value.isInfinite && !CSVNumberParser.isInfinityLiteral(bytes) { throw numberError(record, at: index) }
        return value
    }

    /// The instant in field `index` of `record`, in milliseconds since the epoch (UTC); `cache`
    /// remembers the last date seen in this column.
    @inline(__always)
    func timestamp(
        _ record: CSVRecord,
        at index: Int,
        cache: inout CSVTimestampParser.DateCache
    ) throws(ExportError) -> Int64 {
        guard let value = CSVTimestampParser.parse(record.field(index), cache: &cache) else {
            throw timestampError(record, at: index)
        }
        return value
    }

    /// The error for a record with the wrong number of fields, at the first column that is
    /// missing (too few fields) or the first one beyond the header (too many).
    @inline(never)
    func fieldCountError(_ record: CSVRecord, expected: Int) -> ExportError {
        let which =
            record.count < expected
            ? "column \(record.count + 1) and after are missing"
            : "column \(expected + 1) is beyond the header's \(expected) columns"
        return .input(
            "Wrong number of fields: expected \(expected) fields, found \(record.count): \(which)"
                + " (every row needs one field per header column)",
            at: .init(
                file: path,
                line: record.line,
                column: min(record.count, expected) + 1,
                columnName: record.count < columnNames.count ? columnNames[record.count] : nil
            )
        )
    }

    @inline(never)
    func numberError(_ record: CSVRecord, at index: Int) -> ExportError {
        let bytes = record.field(index)
        if let error = textError(record, at: index) { return error }
        if let value = CSVNumberParser.parseDouble(bytes), value.isInfinite {
            return .input(
                "The number \(quotedForMessage(bytes)) overflows to infinity: a value must fit a double"
                    + " (at most about 1.8E308); write Infinity or -Infinity for an infinite value",
                at: location(record, of: index)
            )
        }
        return .input(
            "Cannot parse \(quotedForMessage(bytes)) as a number: expected a decimal such as 12.5, -3, 1.5E-4,"
                + " or NaN, Infinity, -Infinity, or an empty field for a missing value",
            at: location(record, of: index)
        )
    }

    @inline(never)
    func timestampError(_ record: CSVRecord, at index: Int) -> ExportError {
        let bytes = record.field(index)
        if let error = textError(record, at: index) { return error }
        return .input(CSVTimestampParser.diagnose(bytes), at: location(record, of: index))
    }

    /// The error for a field whose bytes are not valid UTF-8.
    @inline(never)
    func invalidUTF8Error(_ record: CSVRecord, at index: Int) -> ExportError {
        .input(
            "Invalid UTF-8: the field's bytes are not valid UTF-8 (the input must be UTF-8 text)",
            at: location(record, of: index)
        )
    }

    /// The error for field `index` when its bytes are not text a field may hold: invalid UTF-8, or
    /// a carriage return outside quotes (RFC 4180 ends lines with CRLF or LF and quotes a field
    /// that holds a CR; a lone CR is most likely a line end of a file written with CR only).
    @inline(never)
    func textError(_ record: CSVRecord, at index: Int) -> ExportError? {
        let bytes = record.field(index)
        if String(validating: bytes, as: UTF8.self) == nil { return invalidUTF8Error(record, at: index) }
        guard !fieldWasQuoted(index) && bytes.contains(UInt8(ascii: "\r")) else { return nil }
        return .input(
            "A carriage return (CR) inside an unquoted field: lines must end with LF or CRLF, and a value"
                + " that holds a CR must be quoted (was the file written with CR-only line endings?)",
            at: location(record, of: index)
        )
    }

    /// The location of field `index` (0-based) of `record`.
    func location(_ record: CSVRecord, of index: Int) -> ExportError.Location {
        .init(
            file: path,
            line: record.line,
            column: index + 1,
            columnName: index < columnNames.count ? columnNames[index] : nil
        )
    }
}
