/// The one error type of the export engine.
///
/// Every failure carries a ``Code`` that maps onto the CLI's JSON error codes and exit status,
/// a message a user can act on, and, for bad input, where in which file the problem is.
/// Messages never contain secrets (credentials, signatures).
public struct ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A broad classification of the failure.
    public enum Code: String, Sendable, Equatable {
        /// An argument, a job name or an option is invalid. Nothing was written.
        case validation = "VALIDATION_ERROR"
        /// The input data is malformed. Nothing was published.
        case input = "INPUT_ERROR"
        /// The export (or job) already exists.
        case alreadyExists = "ALREADY_EXISTS"
        /// A named resource does not exist.
        case notFound = "NOT_FOUND"
        /// The destination (disk or S3) failed.
        case sink = "SINK_ERROR"
        /// A bug or an unexpected state.
        case `internal` = "INTERNAL_ERROR"
    }

    /// Where in an input file an input error is.
    public struct Location: Sendable, Equatable, CustomStringConvertible {
        /// The file's path as the user gave it.
        public var file: String
        /// 1-based line number (the header is line 1).
        public var line: Int
        /// 1-based field number, when the problem is in one field.
        public var column: Int?
        /// The column's name from the header, when known.
        public var columnName: String?
        /// For a Parquet file: the 0-based row group, and ``line`` is then the 0-based row within
        /// it (the location reads `file:rowgroup:row`).
        public var rowGroup: Int?

        public init(file: String, line: Int, column: Int? = nil, columnName: String? = nil, rowGroup: Int? = nil) {
            self.file = file
            self.line = line
            self.column = column
            self.columnName = columnName
            self.rowGroup = rowGroup
        }

        public var description: String {
            var text = rowGroup.map { "\(file):\($0):\(line)" } ?? "\(file):\(line)"
            if let column { text += ":\(column)" }
            if let columnName { text += " (column '\(columnName)')" }
            return text
        }
    }

    public var code: Code
    public var message: String
    public var location: Location?

    public init(_ code: Code, _ message: String, at location: Location? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public static func validation(_ message: String) -> ExportError { ExportError(.validation, message) }
    public static func input(_ message: String, at location: Location? = nil) -> ExportError {
        ExportError(.input, message, at: location)
    }
    public static func sink(_ message: String) -> ExportError { ExportError(.sink, message) }
    public static func `internal`(_ message: String) -> ExportError { ExportError(.internal, message) }

    /// `file:line:column (column 'name'): message`, or just the message.
    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }

    /// The CLI's exit status for this error: 2 for validation and input errors, 1 otherwise.
    public var exitStatus: Int32 {
        switch code {
        case .validation, .input: 2
        default: 1
        }
    }
}
