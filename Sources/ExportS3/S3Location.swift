public import ExportCore

/// An export destination on S3: `s3://bucket/prefix`.
///
/// The prefix may be empty; a trailing `/` is optional and never doubled: ``key(for:)`` joins
/// `prefix` and a relative key with exactly one `/`. Bucket names are checked against S3's
/// naming rules (3–63 characters of `a-z 0-9 . -`, starting and ending with a letter or digit,
/// no `..`), so a typo is a clear validation error instead of a confusing 4xx later.
public struct S3Location: Sendable, Equatable, CustomStringConvertible {
    public var bucket: String
    /// The key prefix without leading or trailing `/` (may be empty).
    public var prefix: String

    public init(bucket: String, prefix: String = "") throws(ExportError) {
        try Self.validateBucket(bucket)
        var p = Substring(prefix)
        while p.hasSuffix("/") { p = p.dropLast() }
        if p.hasPrefix("/") {
            throw ExportError.validation("S3 prefix '\(prefix)' must not start with '/'")
        }
        if p.contains("//") {
            throw ExportError.validation("S3 prefix '\(prefix)' must not contain an empty folder ('//')")
        }
        self.bucket = bucket
        self.prefix = String(p)
    }

    /// Parses `s3://bucket`, `s3://bucket/`, `s3://bucket/prefix` or `s3://bucket/prefix/`.
    public init(parsing uri: String) throws(ExportError) {
        guard uri.hasPrefix("s3://") else {
            throw ExportError.validation(
                "S3 destination '\(uri)' must start with 's3://' (e.g. s3://my-bucket/exports)"
            )
        }
        let rest = uri.dropFirst(5)
        let bucket: Substring
        let prefix: Substring
        if let slash = rest.firstIndex(of: "/") {
            bucket = rest[..<slash]
            prefix = rest[rest.index(after: slash)...]
        } else {
            bucket = rest
            prefix = ""
        }
        if bucket.isEmpty {
            throw ExportError.validation("S3 destination '\(uri)' has no bucket name (expected s3://bucket/prefix)")
        }
        try self.init(bucket: String(bucket), prefix: String(prefix))
    }

    /// The full object key of `relativeKey` (`forecasted-values/x.csv` → `prefix/forecasted-values/x.csv`).
    public func key(for relativeKey: String) -> String {
        prefix.isEmpty ? relativeKey : prefix + "/" + relativeKey
    }

    /// `s3://bucket/prefix/` or `s3://bucket/`.
    public var description: String { prefix.isEmpty ? "s3://\(bucket)/" : "s3://\(bucket)/\(prefix)/" }

    static func validateBucket(_ bucket: String) throws(ExportError) {
        let bytes = Array(bucket.utf8)
        func fail(_ rule: String) -> ExportError {
            ExportError.validation("S3 bucket name '\(bucket)' is invalid: \(rule)")
        }
        guard (3...63).contains(bytes.count) else { throw fail("it must be 3 to 63 characters long") }
        for b in bytes {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."),
                UInt8(ascii: "-"):
                continue
            default:
                throw fail("only lower-case letters, digits, '.' and '-' are allowed")
            }
        }
        func isAlnum(_ b: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
        }
        guard isAlnum(bytes[0]), isAlnum(bytes[bytes.count - 1]) else {
            throw fail("it must start and end with a letter or digit")
        }
        if bucket.contains("..") { throw fail("it must not contain '..'") }
    }
}
