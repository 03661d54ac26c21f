/// The one error type of the export engine.
///
/// Every failure carries a ``Code`` that maps onto the CLI's JSON error codes and exit status,
/// a message a user can act on, for bad input where in which file the problem is, and, when the
/// failure came from elsewhere (the file system, the network, cancellation), that error as
/// ``cause``. Messages never contain secrets (credentials, signatures).
///
/// Like swift-nio's errors, the code is an extensible struct with static members rather than an
/// enum, so new codes can be added without breaking a caller's `switch` (match with `==` or
/// `case .input:` and keep a `default`).
public struct ExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A broad classification of the failure; ``rawValue`` is the CLI's JSON error code.
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String

        public init(rawValue: String) { self.rawValue = rawValue }

        public var description: String { rawValue }

        /// An argument, a job name or an option is invalid. Nothing was written.
        public static let validation = Code(rawValue: "VALIDATION_ERROR")
        /// The input data is malformed. Nothing was published.
        public static let input = Code(rawValue: "INPUT_ERROR")
        /// The export (or job) already exists.
        public static let alreadyExists = Code(rawValue: "ALREADY_EXISTS")
        /// A named resource does not exist.
        public static let notFound = Code(rawValue: "NOT_FOUND")
        /// The destination (disk or S3) failed.
        public static let sink = Code(rawValue: "SINK_ERROR")
        /// The export was cancelled (its task, or the process by a signal). Nothing was published.
        public static let cancelled = Code(rawValue: "CANCELLED")
        /// A bug, an unexpected state, or an error from elsewhere that has no better code (see
        /// ``ExportError/cause``).
        public static let `internal` = Code(rawValue: "INTERNAL_ERROR")
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
    /// The error this one reports, when it came from elsewhere (a system call, the HTTP client,
    /// a ``CancellationError``…): kept as it was thrown, so that a caller can inspect it.
    public var cause: (any Error)?

    public init(_ code: Code, _ message: String, at location: Location? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause
    }

    public static func validation(_ message: String) -> ExportError { ExportError(.validation, message) }
    public static func input(_ message: String, at location: Location? = nil) -> ExportError {
        ExportError(.input, message, at: location)
    }
    public static func sink(_ message: String, cause: (any Error)? = nil) -> ExportError {
        ExportError(.sink, message, cause: cause)
    }
    public static func cancelled(_ message: String = "The export was cancelled") -> ExportError {
        ExportError(.cancelled, message, cause: CancellationError())
    }
    public static func `internal`(_ message: String, cause: (any Error)? = nil) -> ExportError {
        ExportError(.internal, message, cause: cause)
    }

    /// `error` as an export error, without relabelling what is already classified:
    /// - an ``ExportError`` is returned as it is;
    /// - a `CancellationError` becomes ``Code/cancelled`` (with it as ``cause``);
    /// - any other error becomes `code` with `context` and the error's own text as the message,
    ///   and the error as ``cause``.
    ///
    /// `context` says what was being done (`"Cannot write '/out/x.csv'"`); it is only evaluated
    /// for foreign errors.
    public static func wrapping(
        _ error: any Error,
        as code: Code,
        _ context: @autoclosure () -> String
    ) -> ExportError {
        if let exportError = error as? ExportError { return exportError }
        if error is CancellationError { return ExportError(.cancelled, "The export was cancelled", cause: error) }
        return ExportError(code, "\(context()): \(error)", cause: error)
    }

    /// Whether this error reports cancellation (``Code/cancelled``).
    public var isCancellation: Bool { code == .cancelled }

    /// `file:line:column (column 'name'): message`, or just the message.
    public var description: String {
        if let location { return "\(location): \(message)" }
        return message
    }

    /// The CLI's exit status for this error: 2 for validation and input errors and for an export
    /// already in the destination (nothing was written: SPEC §2), 130 (as for SIGINT) for
    /// cancellation, 1 otherwise.
    public var exitStatus: Int32 {
        switch code {
        case .validation, .input, .alreadyExists: 2
        case .cancelled: 130
        default: 1
        }
    }

    /// Equal code, message and location; the causes are not compared (errors are not `Equatable`).
    public static func == (lhs: ExportError, rhs: ExportError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && lhs.location == rhs.location
    }
}
