public import ExportCore

/// Checks the AWS Signature Version 4 of an incoming request (header-based auth), with the
/// canonicalization of ``SigV4Signer``: the server side of what boto3 and the AWS CLI send.
///
/// What it guarantees: a request passes only if its `Authorization` names one of the known
/// access keys, a scope of this region and service dated the day of its `x-amz-date`, an
/// `x-amz-date` within ``maxSkewSeconds`` of now, and a signature equal (compared in constant
/// time) to the one computed over the method, path, query, the headers it lists as signed and
/// the SHA-256 of the body. Failures say what is wrong and never contain a secret or the
/// expected signature.
///
/// Cost: one SHA-256 of the body, one of the canonical request and five HMAC-SHA256s.
public struct SigV4Verifier: Sendable {
    public enum Failure: Error, Sendable, Equatable {
        /// No `Authorization` header (`MissingAuthenticationTokenException`).
        case missing
        /// The header cannot be parsed, or `x-amz-date` is missing (`IncompleteSignatureException`).
        case incomplete(String)
        /// Unknown access key (`UnrecognizedClientException`).
        case unknownAccessKey
        /// Wrong scope, a date too far from now, or a wrong signature (`InvalidSignatureException`).
        case invalid(String)
    }

    public var credentials: [S3Credentials]
    public var region: String
    public var service: String
    /// How far `x-amz-date` may be from the server's clock (AWS: 5 minutes for most services).
    public var maxSkewSeconds: Int64

    public init(credentials: [S3Credentials], region: String, service: String, maxSkewSeconds: Int64 = 900) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.maxSkewSeconds = maxSkewSeconds
    }

    /// Verifies one request.
    ///
    /// - Parameters:
    ///   - encodedPath: the request target's path as sent (`/`).
    ///   - rawQuery: the query string as sent, without `?` (percent-encoded).
    ///   - headers: every request header as received, with `host` among them.
    ///   - now: the server's clock, epoch seconds.
    public func verify(
        method: String,
        encodedPath: String,
        rawQuery: String,
        headers: [(name: String, value: String)],
        body: [UInt8],
        now: Int64
    ) throws(Failure) {
        func header(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name }.map(\.value)
        }
        guard let authorization = header("authorization").first else { throw .missing }
        let parsed = try Self.parse(authorization)
        guard let amzDate = header("x-amz-date").first, let epoch = Self.epochSeconds(amzDate: amzDate) else {
            throw .incomplete("The request must carry an x-amz-date header (yyyyMMddTHHmmssZ).")
        }
        let scope = parsed.credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request" else {
            throw .incomplete(
                "The Credential of the Authorization header must be AKID/date/region/service/aws4_request."
            )
        }
        guard let key = credentials.first(where: { $0.accessKeyId == scope[0] }) else { throw .unknownAccessKey }
        guard scope[3] == service else {
            throw .invalid("Credential should be scoped to the correct service: '\(service)' (got '\(scope[3])').")
        }
        guard scope[2] == region else {
            throw .invalid("Credential should be scoped to a valid region: '\(region)' (got '\(scope[2])').")
        }
        guard scope[1] == String(amzDate.prefix(8)) else {
            throw .invalid("Date in Credential scope does not match the date of x-amz-date.")
        }
        guard abs(now - epoch) <= maxSkewSeconds else {
            throw .invalid(
                "Signature expired: x-amz-date \(amzDate) is more than \(maxSkewSeconds) s from the server's time."
            )
        }
        let signedNames = parsed.signedHeaders.split(separator: ";").map { String($0).lowercased() }
        guard signedNames.contains("host") else { throw .invalid("The host header must be signed.") }
        var signed: [(name: String, value: String)] = []
        for name in signedNames {
            let values = header(name)
            guard !values.isEmpty else { throw .invalid("The signed header '\(name)' is missing from the request.") }
            for value in values { signed.append((name, value)) }
        }
        let (canonicalHeaders, signedList) = SigV4Signer.canonicalHeaders(signed)
        let canonicalRequest = [
            method, encodedPath.isEmpty ? "/" : encodedPath,
            SigV4Signer.canonicalQueryString(Self.decodeQuery(rawQuery)),
            canonicalHeaders, signedList, Hex.encode(SHA256.hash(data: body)),
        ].joined(separator: "\n")
        let credentialScope = scope[1...4].joined(separator: "/")
        let stringToSign = SigV4Signer.stringToSign(
            canonicalRequest: canonicalRequest,
            amzDate: amzDate,
            scope: credentialScope
        )
        let signer = SigV4Signer(credentials: key, region: region, service: service)
        let expected = signer.hexSignature(stringToSign, dateStamp: scope[1])
        guard Self.constantTimeEqual(Array(expected.utf8), Array(parsed.signature.lowercased().utf8)) else {
            throw .invalid(
                "The request signature we calculated does not match the signature you provided. "
                    + "Check your AWS Secret Access Key and signing method."
            )
        }
    }

    /// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
    static func parse(
        _ authorization: String
    ) throws(Failure) -> (
        credential: String, signedHeaders: String, signature: String
    ) {
        let prefix = "AWS4-HMAC-SHA256 "
        guard authorization.hasPrefix(prefix) else {
            throw .incomplete("Only AWS4-HMAC-SHA256 signatures are supported.")
        }
        var fields: [String: String] = [:]
        for item in authorization.dropFirst(prefix.count).split(separator: ",") {
            let trimmed = item.drop(while: { $0 == " " })
            guard let eq = trimmed.firstIndex(of: "=") else { continue }
            fields[String(trimmed[..<eq])] = String(trimmed[trimmed.index(after: eq)...]).trimmingCharacters(" ")
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw .incomplete("Authorization header requires Credential, SignedHeaders and Signature.")
        }
        return (credential, signedHeaders, signature)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` as epoch seconds.
    static func epochSeconds(amzDate: String) -> Int64? {
        let bytes = Array(amzDate.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for b in bytes[range] {
                guard b >= 0x30, b <= 0x39 else { return nil }
                value = value * 10 + Int(b - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
            let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        return CivilTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second).epochSeconds
    }

    /// A raw query string's `name=value` pairs, percent-decoded (the signer encodes them again).
    static func decodeQuery(_ raw: String) -> [(name: String, value: String)] {
        guard !raw.isEmpty else { return [] }
        return raw.split(separator: "&").map { pair in
            if let eq = pair.firstIndex(of: "=") {
                return (percentDecode(pair[..<eq]), percentDecode(pair[pair.index(after: eq)...]))
            }
            return (percentDecode(pair), "")
        }
    }

    static func percentDecode(_ text: Substring) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: b - 0x30
            case 0x41...0x46: b - 0x41 + 10
            case 0x61...0x66: b - 0x61 + 10
            default: nil
            }
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count,
                let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2])
            {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
