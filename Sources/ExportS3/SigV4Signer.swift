import ExportCore

/// AWS Signature Version 4, S3 flavour: header-based auth and presigned URLs.
///
/// What it guarantees:
/// - the canonical URI is the caller's already-encoded path, used once as is (S3 does not
///   normalise `.`/`..` or double-encode; build it with ``S3URIEncoding/encodePath(_:)`` and send
///   the very same string);
/// - the canonical query string encodes every name and value with S3's `UriEncode` (`/` → `%2F`)
///   and sorts by encoded name, then value; a parameter without value keeps its `=` (`uploads=`);
/// - header names are lower-cased, values trimmed with inner runs of spaces collapsed, sorted;
/// - for service `s3`, `x-amz-content-sha256` (the payload hash) is added and signed; with
///   credentials that carry a session token, `x-amz-security-token` is added and signed.
///
/// Cost: one SHA-256 of the canonical request and five HMAC-SHA256s per signature; the payload
/// hash is the caller's (see ``S3Sink`` for when it is computed).
public struct SigV4Signer: Sendable {
    public var credentials: S3Credentials
    public var region: String
    public var service: String

    /// `hex(SHA-256(""))`, the payload hash of a request without body.
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// The payload hash of a request whose body the signature does not cover.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The instant of a signature, as SigV4 writes it.
    public struct Timestamp: Sendable, Equatable {
        /// `yyyyMMdd'T'HHmmss'Z'`, the `x-amz-date` value.
        public let amzDate: String
        /// `yyyyMMdd`, the scope's date.
        public var dateStamp: String { String(amzDate.prefix(8)) }

        public init(epochSeconds: Int64) {
            let t = CivilTime(epochSeconds: epochSeconds)
            func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
            amzDate = "\(t.year)\(two(t.month))\(two(t.day))T\(two(t.hour))\(two(t.minute))\(two(t.second))Z"
        }

        /// Now, from the system's real-time clock.
        public static func now() -> Timestamp { Timestamp(epochSeconds: SystemClock.epochSeconds()) }
    }

    /// A computed signature and everything that went into it (the intermediate strings are for
    /// tests and debugging; they hold no secret).
    public struct Signature: Sendable {
        /// Headers to add to the request: `x-amz-date`, `x-amz-content-sha256` (S3),
        /// `x-amz-security-token` (temporary credentials), `authorization`.
        public var headersToAdd: [(name: String, value: String)]
        public var authorization: String
        /// Lower-case hex. Never put it in a message.
        public var signature: String
        public var canonicalRequest: String
        public var stringToSign: String
        public var signedHeaders: String
    }

    /// Signs a request for header-based auth.
    ///
    /// - Parameters:
    ///   - encodedPath: the canonical URI, already encoded (`/bucket/a%20b`), as it is sent.
    ///   - query: raw (unencoded) names and values; the signer encodes and sorts them.
    ///   - headers: every header to sign, including `host` (`host[:port]` as sent); do not pass
    ///     hop-by-hop headers a client may rewrite (`user-agent`, `expect`, `transfer-encoding`).
    ///   - payloadHash: lower-case hex SHA-256 of the body, or ``unsignedPayload``.
    public func sign(
        method: String,
        encodedPath: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)],
        payloadHash: String,
        timestamp: Timestamp
    ) -> Signature {
        var added: [(name: String, value: String)] = [("x-amz-date", timestamp.amzDate)]
        if service == "s3" { added.append(("x-amz-content-sha256", payloadHash)) }
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        let (canonicalHeaders, signedHeaders) = Self.canonicalHeaders(headers + added)
        let canonicalRequest = [
            method, encodedPath.isEmpty ? "/" : encodedPath, Self.canonicalQueryString(query), canonicalHeaders,
            signedHeaders, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(timestamp.dateStamp)/\(region)/\(service)/aws4_request"
        let stringToSign = Self.stringToSign(
            canonicalRequest: canonicalRequest,
            amzDate: timestamp.amzDate,
            scope: scope
        )
        let signature = hexSignature(stringToSign, dateStamp: timestamp.dateStamp)
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope),SignedHeaders=\(signedHeaders),Signature=\(signature)"
        added.append(("authorization", authorization))
        return Signature(
            headersToAdd: added,
            authorization: authorization,
            signature: signature,
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signedHeaders: signedHeaders
        )
    }

    /// A presigned URL's query string (query-string auth): only `host` is signed and the payload
    /// is `UNSIGNED-PAYLOAD`. Returns the canonical query string with `X-Amz-Signature` appended.
    public func presignedQuery(
        method: String,
        encodedPath: String,
        host: String,
        query: [(name: String, value: String)] = [],
        expiresSeconds: Int,
        timestamp: Timestamp
    ) -> (query: String, signature: String) {
        let scope = "\(timestamp.dateStamp)/\(region)/\(service)/aws4_request"
        var params = query
        params.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        params.append(("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope)"))
        params.append(("X-Amz-Date", timestamp.amzDate))
        params.append(("X-Amz-Expires", String(expiresSeconds)))
        if let token = credentials.sessionToken { params.append(("X-Amz-Security-Token", token)) }
        params.append(("X-Amz-SignedHeaders", "host"))
        let canonicalQuery = Self.canonicalQueryString(params)
        let canonicalRequest = [method, encodedPath, canonicalQuery, "host:\(host)\n", "host", Self.unsignedPayload]
            .joined(separator: "\n")
        let stringToSign = Self.stringToSign(
            canonicalRequest: canonicalRequest,
            amzDate: timestamp.amzDate,
            scope: scope
        )
        let signature = hexSignature(stringToSign, dateStamp: timestamp.dateStamp)
        return (canonicalQuery + "&X-Amz-Signature=" + signature, signature)
    }

    /// The signing key for a date: HMAC chain over date, region, service, `aws4_request`.
    func signingKey(dateStamp: String) -> [UInt8] {
        func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
            HMACSHA256.authenticationCode(for: text.utf8, key: key)
        }
        let kSecret = Array(("AWS4" + credentials.secretAccessKey).utf8)
        return hmac(hmac(hmac(hmac(kSecret, dateStamp), region), service), "aws4_request")
    }

    func hexSignature(_ stringToSign: String, dateStamp: String) -> String {
        Hex.encode(
            HMACSHA256.authenticationCode(for: stringToSign.utf8, key: signingKey(dateStamp: dateStamp))
        )
    }

    static func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n" + Hex.encode(SHA256.hash(data: canonicalRequest.utf8))
    }

    /// `name=value` pairs, each encoded with S3's `UriEncode`, sorted by name then value, joined by `&`.
    public static func canonicalQueryString(_ query: [(name: String, value: String)]) -> String {
        query.map { (S3URIEncoding.encodeQueryComponent($0.name), S3URIEncoding.encodeQueryComponent($0.value)) }
            .sorted {
                $0.0 != $1.0
                    ? Array($0.0.utf8).lexicographicallyPrecedes($1.0.utf8)
                    : Array($0.1.utf8).lexicographicallyPrecedes($1.1.utf8)
            }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// The canonical header block (each `name:value\n`) and the signed header list.
    static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signed: String) {
        let normalized = headers.map { (name: $0.name.lowercased(), value: collapseSpaces($0.value)) }
            .sorted { Array($0.name.utf8).lexicographicallyPrecedes($1.name.utf8) }
        // Repeated names are joined with ',' in one line, as SigV4 prescribes.
        var lines: [(name: String, value: String)] = []
        for header in normalized {
            if let last = lines.last, last.name == header.name {
                lines[lines.count - 1].value += "," + header.value
            } else {
                lines.append(header)
            }
        }
        return (lines.map { "\($0.name):\($0.value)\n" }.joined(), lines.map(\.name).joined(separator: ";"))
    }

    static func collapseSpaces(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for ch in value {
            if ch == " " || ch == "\t" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(ch)
            }
        }
        return out
    }
}
