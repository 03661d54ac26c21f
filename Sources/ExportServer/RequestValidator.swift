/// The model's limits on every input member (botocore `service-2.json` for `forecast`, see
/// research/forecast-spec.md §4.3). Each check throws `InvalidInputException` naming the member
/// and the rule, as a user needs to fix the request. Pure: no state, no I/O.
public enum RequestValidator {
    /// `Name`: 1–63 characters, `^[a-zA-Z][a-zA-Z0-9_]*$` (checked as a full match).
    public static func name(_ value: String?, member: String) throws(ForecastError) -> String {
        let value = try required(value, member: member)
        let bytes = Array(value.utf8)
        guard (1...63).contains(bytes.count) else {
            throw .invalidInput("\(member) must be 1 to 63 characters long (got \(bytes.count))")
        }
        guard isLetter(bytes[0]), bytes.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }) else {
            throw .invalidInput("\(member) '\(value)' must match ^[a-zA-Z][a-zA-Z0-9_]*$")
        }
        return value
    }

    /// `Arn`: at most 256 characters, `arn:([a-z\d-]+):forecast:.*:.*:.+`.
    public static func forecastArn(_ value: String?, member: String) throws(ForecastError) -> String {
        let value = try required(value, member: member)
        try maxLength(value, 256, member: member)
        let fields = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        let partitionOK =
            fields.count == 6 && !fields[1].isEmpty
            && fields[1].utf8.allSatisfy { isLowerLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
        guard fields.count == 6, fields[0] == "arn", partitionOK, fields[2] == "forecast", !fields[5].isEmpty else {
            throw .invalidInput(
                "\(member) '\(value)' is not a valid ARN: it must match arn:([a-z\\d-]+):forecast:.*:.*:.+"
            )
        }
        return value
    }

    /// `RoleArn`: required, at most 256 characters; any IAM role ARN (the real service does not
    /// hold it to the `forecast` pattern its model reuses).
    public static func roleArn(_ value: String?) throws(ForecastError) -> String {
        let value = try required(value, member: "RoleArn")
        try maxLength(value, 256, member: "RoleArn")
        guard value.hasPrefix("arn:") else { throw .invalidInput("RoleArn '\(value)' must be an ARN (arn:…)") }
        return value
    }

    /// `S3Path`: 7–4096 characters, `^s3://[a-z0-9].+$`.
    public static func s3Path(_ value: String?) throws(ForecastError) -> String {
        let value = try required(value, member: "Path")
        let count = value.utf8.count
        guard (7...4096).contains(count) else {
            throw .invalidInput("S3Config.Path must be 7 to 4096 characters long (got \(count))")
        }
        let bytes = Array(value.utf8)
        guard value.hasPrefix("s3://"), isLowerLetter(bytes[5]) || isDigit(bytes[5]) else {
            throw .invalidInput("S3Config.Path '\(value)' must match ^s3://[a-z0-9].+$")
        }
        return value
    }

    /// `KMSKeyArn`: at most 256 characters, `arn:aws:kms:.*:key/.*`.
    public static func kmsKeyArn(_ value: String?) throws(ForecastError) -> String? {
        guard let value else { return nil }
        try maxLength(value, 256, member: "KMSKeyArn")
        guard value.hasPrefix("arn:aws:kms:"), value.contains(":key/") else {
            throw .invalidInput("S3Config.KMSKeyArn '\(value)' must match arn:aws:kms:.*:key/.*")
        }
        return value
    }

    /// `Format`: exactly `CSV` or `PARQUET`; absent means `CSV`.
    public static func format(_ value: String?) throws(ForecastError) -> String {
        guard let value else { return "CSV" }
        guard value == "CSV" || value == "PARQUET" else {
            throw .invalidInput("Format '\(value)' is not valid: use CSV or PARQUET")
        }
        return value
    }

    /// `Tags` (also `TagResource`'s): each key 1–128 and value 0–256 characters of
    /// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, keys not starting with `aws:` (reserved), at most 200 in a list.
    public static func tags(
        _ tags: [ForecastShapes.Tag]?,
        required isRequired: Bool
    ) throws(ForecastError) -> [(
        key: String, value: String
    )] {
        guard let tags else {
            if isRequired { throw .invalidInput("Tags is required") }
            return []
        }
        guard tags.count <= 200 else { throw .invalidInput("Tags has \(tags.count) members: at most 200") }
        var result: [(key: String, value: String)] = []
        for tag in tags {
            let key = try tagKey(tag.Key)
            let value = try required(tag.Value, member: "Tag.Value")
            guard value.count <= 256 else { throw .invalidInput("Tag.Value of '\(key)' is longer than 256 characters") }
            guard isTagText(value) else {
                throw .invalidInput(
                    "Tag.Value of '\(key)' has a character outside letters, digits, spaces and _.:/=+-@"
                )
            }
            result.append((key, value))
        }
        return result
    }

    /// `TagKeys` of `UntagResource`: required, at most 200 keys, each a valid key.
    public static func tagKeys(_ keys: [String]?) throws(ForecastError) -> [String] {
        guard let keys else { throw .invalidInput("TagKeys is required") }
        guard keys.count <= 200 else { throw .invalidInput("TagKeys has \(keys.count) members: at most 200") }
        var result: [String] = []
        for key in keys { result.append(try tagKey(key)) }
        return result
    }

    static func tagKey(_ value: String?) throws(ForecastError) -> String {
        let key = try required(value, member: "Tag.Key")
        guard (1...128).contains(key.count) else {
            throw .invalidInput("Tag.Key must be 1 to 128 characters long (got \(key.count))")
        }
        guard isTagText(key) else {
            throw .invalidInput("Tag.Key '\(key)' has a character outside letters, digits, spaces and _.:/=+-@")
        }
        guard !key.lowercased().hasPrefix("aws:") else {
            throw .invalidInput("Tag.Key '\(key)': the prefix aws: is reserved for AWS use")
        }
        return key
    }

    /// `MaxResults`: 1–100, default 100.
    public static func maxResults(_ value: Int?) throws(ForecastError) -> Int {
        guard let value else { return 100 }
        guard (1...100).contains(value) else {
            throw .invalidInput("MaxResults \(value) is out of range: use 1 to 100")
        }
        return value
    }

    /// `Filters` of `ListPredictorBacktestExportJobs`: `Key` `Status` or `PredictorArn`,
    /// `Condition` `IS` or `IS_NOT`, `Value` required (at most 256 characters).
    public static func filters(_ filters: [ForecastShapes.Filter]?) throws(ForecastError) -> [JobFilter] {
        var result: [JobFilter] = []
        for filter in filters ?? [] {
            let key = try required(filter.Key, member: "Filter.Key")
            let value = try required(filter.Value, member: "Filter.Value")
            try maxLength(value, 256, member: "Filter.Value")
            let condition = try required(filter.Condition, member: "Filter.Condition")
            let negated: Bool
            switch condition {
            case "IS": negated = false
            case "IS_NOT": negated = true
            default: throw .invalidInput("Filter.Condition '\(condition)' is not valid: use IS or IS_NOT")
            }
            switch key {
            case "Status": result.append(JobFilter(field: .status, value: value, negated: negated))
            case "PredictorArn": result.append(JobFilter(field: .predictorArn, value: value, negated: negated))
            default: throw .invalidInput("Filter.Key '\(key)' is not valid: use Status or PredictorArn")
            }
        }
        return result
    }

    /// `NextToken`: 1–3000 characters (its meaning is checked by the store).
    public static func nextToken(_ value: String?) throws(ForecastError) -> String? {
        guard let value else { return nil }
        guard (1...3000).contains(value.utf8.count) else {
            throw .invalidInput("NextToken must be 1 to 3000 characters long")
        }
        return value
    }

    static func required(_ value: String?, member: String) throws(ForecastError) -> String {
        guard let value else { throw .invalidInput("\(member) is required") }
        return value
    }

    static func maxLength(_ value: String, _ limit: Int, member: String) throws(ForecastError) {
        guard value.utf8.count <= limit else {
            throw .invalidInput("\(member) is longer than \(limit) characters")
        }
    }

    private static func isLetter(_ b: UInt8) -> Bool { isLowerLetter(b) || (b >= 0x41 && b <= 0x5A) }
    private static func isLowerLetter(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`.
    static func isTagText(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { scalar in
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                .spaceSeparator, .lineSeparator, .paragraphSeparator,
                .decimalNumber, .letterNumber, .otherNumber:
                return true
            default:
                return "_.:/=+-@".unicodeScalars.contains(scalar)
            }
        }
    }
}

/// One `Filters` member of `ListPredictorBacktestExportJobs`.
public struct JobFilter: Sendable, Equatable {
    public enum Field: Sendable, Equatable {
        case status
        case predictorArn
    }

    public var field: Field
    public var value: String
    /// `IS_NOT`.
    public var negated: Bool

    public init(field: Field, value: String, negated: Bool) {
        self.field = field
        self.value = value
        self.negated = negated
    }
}
