public import ExportCore

/// Everything the S3 sink needs besides the destination: region, endpoint, credentials,
/// addressing, multipart sizing, retries, server-side encryption.
///
/// Addressing: with a custom ``endpoint`` requests are path-style (`http://host:port/bucket/key`),
/// which is what S3-compatible servers expect; against AWS (no endpoint) they are virtual-hosted
/// (`https://bucket.s3.region.amazonaws.com/key`) unless the bucket name has a dot (TLS wildcard)
/// or ``forcePathStyle`` says otherwise.
///
/// Memory per part upload in flight is ``partSize``; one multipart upload holds at most
/// `partSize × (maxPartsInFlight + 1)` bytes (the parts uploading and the one filling).
public struct S3Configuration: Sendable, CustomStringConvertible {
    /// How the request body is covered by the signature.
    public enum PayloadSigning: Sendable, Equatable {
        /// `x-amz-content-sha256` = hex SHA-256 of the body: AWS verifies it, so it is an
        /// end-to-end integrity check even over plain HTTP. Costs one SHA-256 pass per byte.
        case sha256
        /// `x-amz-content-sha256: UNSIGNED-PAYLOAD`: no hashing; integrity rests on TLS.
        /// Refused for `http://` endpoints by ``validate()``.
        case unsigned
    }

    public static let minimumPartSize = 5 * 1024 * 1024
    public static let maximumPartSize = 5 * 1024 * 1024 * 1024

    public var region: String
    /// `nil`: AWS (`s3.<region>.amazonaws.com`, HTTPS).
    public var endpoint: S3Endpoint?
    public var credentials: S3Credentials
    /// `nil`: path-style for a custom endpoint or a bucket with dots, virtual-hosted otherwise.
    public var forcePathStyle: Bool?
    /// Bytes per multipart part (5 MiB … 5 GiB); a part file up to this size is one PutObject.
    public var partSize: Int
    /// UploadPart requests in flight per part file (≥ 1); the writer waits when they are all busy.
    public var maxPartsInFlight: Int
    public var retry: S3RetryPolicy
    /// SSE-KMS key id or ARN: sends `x-amz-server-side-encryption: aws:kms` and
    /// `x-amz-server-side-encryption-aws-kms-key-id` on PutObject and CreateMultipartUpload.
    public var kmsKeyId: String?
    public var payloadSigning: PayloadSigning
    /// Deadline of one HTTP request (one attempt), however many bytes flow.
    public var requestTimeout: Duration
    /// How long establishing a connection (TCP and TLS) may take.
    public var connectTimeout: Duration
    /// How long a request may stall with no byte sent or received before it fails. A stalled or
    /// unconnectable attempt is retried only once the endpoint has answered some request: an
    /// endpoint that never answers fails the export after one stall, not after every retry.
    public var stallTimeout: Duration
    /// Told about each retry, before its delay: one line naming the operation, the key, what
    /// failed, the attempt and the delay; never a secret (the CLI prints it on stderr).
    public var retryLog: (@Sendable (String) -> Void)?

    public init(
        region: String,
        endpoint: S3Endpoint? = nil,
        credentials: S3Credentials,
        forcePathStyle: Bool? = nil,
        partSize: Int = 8 * 1024 * 1024,
        maxPartsInFlight: Int = 4,
        retry: S3RetryPolicy = S3RetryPolicy(),
        kmsKeyId: String? = nil,
        payloadSigning: PayloadSigning = .sha256,
        requestTimeout: Duration = .seconds(300),
        connectTimeout: Duration = .seconds(10),
        stallTimeout: Duration = .seconds(30),
        retryLog: (@Sendable (String) -> Void)? = nil
    ) {
        self.region = region
        self.endpoint = endpoint
        self.credentials = credentials
        self.forcePathStyle = forcePathStyle
        self.partSize = partSize
        self.maxPartsInFlight = maxPartsInFlight
        self.retry = retry
        self.kmsKeyId = kmsKeyId
        self.payloadSigning = payloadSigning
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.retryLog = retryLog
    }

    /// Checks the settings; the message names the setting and the allowed range.
    public func validate() throws(ExportError) {
        guard (Self.minimumPartSize...Self.maximumPartSize).contains(partSize) else {
            throw ExportError.validation(
                "S3 part size \(partSize) bytes is out of range: it must be 5 MiB (5242880) to 5 GiB"
            )
        }
        guard maxPartsInFlight >= 1 else {
            throw ExportError.validation("S3 parts in flight must be at least 1 (got \(maxPartsInFlight))")
        }
        guard !region.isEmpty else { throw ExportError.validation("S3 region is empty: set AWS_REGION") }
        if payloadSigning == .unsigned, let endpoint, !endpoint.useTLS {
            throw ExportError.validation(
                "S3 unsigned payloads need an https:// endpoint (\(endpoint) is plain HTTP): use signed payloads"
            )
        }
    }

    /// Scheme, `Host` header and the path before the key for requests on `bucket`.
    func addressing(bucket: String) -> (scheme: String, host: String, bucketPath: String) {
        let pathStyle = forcePathStyle ?? (endpoint != nil || bucket.contains("."))
        if let endpoint {
            if pathStyle { return (endpoint.scheme, endpoint.hostHeader, "/" + bucket) }
            return (endpoint.scheme, bucket + "." + endpoint.hostHeader, "")
        }
        let awsHost = "s3.\(region).amazonaws.com"
        if pathStyle { return ("https", awsHost, "/" + bucket) }
        return ("https", "\(bucket).\(awsHost)", "")
    }

    public var description: String {
        "S3Configuration(region: \(region), endpoint: \(endpoint?.description ?? "AWS"), credentials: \(credentials), "
            + "partSize: \(partSize), maxPartsInFlight: \(maxPartsInFlight), kms: \(kmsKeyId == nil ? "no" : "yes"))"
    }

    /// Reads the standard AWS settings, highest precedence first:
    /// - credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`), else the
    ///   profile `AWS_PROFILE` (default `default`) in `AWS_SHARED_CREDENTIALS_FILE` (default
    ///   `~/.aws/credentials`), else the same profile in `AWS_CONFIG_FILE` (default `~/.aws/config`,
    ///   section `[profile NAME]` or `[default]`);
    /// - region: `AWS_REGION` > `AWS_DEFAULT_REGION` > the profile's `region` > `us-east-1` when a
    ///   custom endpoint is set (an error for AWS);
    /// - endpoint: `AWS_ENDPOINT_URL_S3` > `AWS_ENDPOINT_URL` > the profile's `endpoint_url`,
    ///   all ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`.
    ///
    /// Not supported (documented so the error can say so): SSO, `credential_process`, web
    /// identity, container and instance-metadata credentials. Errors never contain a secret.
    public static func fromEnvironment(
        _ env: [String: String],
        readFile: (String) -> String? = { AWSSharedConfigFile.readFile(atPath: $0) }
    ) throws(ExportError) -> S3Configuration {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(" \t\r\n"), !v.isEmpty else { return nil }
            return v
        }
        let explicitProfile = value("AWS_PROFILE")
        let profile = explicitProfile ?? "default"
        let home = value("HOME") ?? "~"
        let credentialsPath = value("AWS_SHARED_CREDENTIALS_FILE") ?? home + "/.aws/credentials"
        let configPath = value("AWS_CONFIG_FILE") ?? home + "/.aws/config"
        let credentialsFile = readFile(credentialsPath).map(AWSSharedConfigFile.init(parsing:))
        let configFile = readFile(configPath).map(AWSSharedConfigFile.init(parsing:))
        let fromCredentialsFile = credentialsFile?.sections[profile]
        let fromConfigFile = configFile?.sections[profile == "default" ? "default" : "profile " + profile]
        if explicitProfile != nil, fromCredentialsFile == nil, fromConfigFile == nil {
            throw ExportError.validation(
                "AWS profile '\(profile)' (AWS_PROFILE) was not found in \(credentialsPath) nor in \(configPath)"
            )
        }
        func fromProfile(_ key: String) -> String? {
            if let v = fromCredentialsFile?[key], !v.isEmpty { return v }
            if let v = fromConfigFile?[key], !v.isEmpty { return v }
            return nil
        }

        let credentials: S3Credentials
        switch (value("AWS_ACCESS_KEY_ID"), value("AWS_SECRET_ACCESS_KEY")) {
        case (let id?, let secret?):
            credentials = S3Credentials(
                accessKeyId: id,
                secretAccessKey: secret,
                sessionToken: value("AWS_SESSION_TOKEN")
            )
        case (_?, nil), (nil, _?):
            throw ExportError.validation(
                "AWS credentials are incomplete: set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither"
            )
        case (nil, nil):
            switch (fromProfile("aws_access_key_id"), fromProfile("aws_secret_access_key")) {
            case (let id?, let secret?):
                credentials = S3Credentials(
                    accessKeyId: id,
                    secretAccessKey: secret,
                    sessionToken: fromProfile("aws_session_token")
                )
            case (_?, nil), (nil, _?):
                throw ExportError.validation(
                    "AWS profile '\(profile)' needs both aws_access_key_id and aws_secret_access_key (\(credentialsPath))"
                )
            case (nil, nil):
                throw ExportError.validation(
                    "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with a "
                        + "profile in \(credentialsPath) (SSO, credential_process, web identity and instance "
                        + "credentials are not supported)"
                )
            }
        }

        let ignoreEndpoints = value("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")?.lowercased() == "true"
        var endpoint: S3Endpoint?
        if !ignoreEndpoints {
            if let url = value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL") ?? fromProfile("endpoint_url") {
                endpoint = try S3Endpoint(parsing: url)
            }
        }
        guard
            let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? fromProfile("region")
                ?? (endpoint != nil ? "us-east-1" : nil)
        else {
            throw ExportError.validation(
                "no AWS region set: set AWS_REGION (or AWS_DEFAULT_REGION, or 'region' in the profile '\(profile)')"
            )
        }
        return S3Configuration(region: region, endpoint: endpoint, credentials: credentials)
    }
}
