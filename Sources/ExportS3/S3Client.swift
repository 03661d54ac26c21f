import AsyncHTTPClient
import ExportCore
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Signed S3 requests on one bucket, with retries: the transport under ``S3Sink``.
///
/// Each attempt is signed afresh (new `x-amz-date`); the payload hash is computed once per
/// request. Retries follow ``S3RetryPolicy``. Failures come out as ``S3RequestFailure``, whose
/// message holds the operation, the key, the HTTP status and S3's error Code and Message, with
/// any secret removed; never a signature.
///
/// Timeouts: connecting and stalls (no byte either way) are bounded by the `HTTPClient`'s
/// configuration (``S3HTTPClients``), each attempt by ``S3Configuration/requestTimeout``. A
/// timed-out attempt is retried only once the endpoint has answered some request of this
/// client; each retry is reported to ``S3Configuration/retryLog``.
struct S3Client: Sendable {
    let configuration: S3Configuration
    let bucket: String
    let httpClient: HTTPClient
    let signer: SigV4Signer
    /// Whether the endpoint has answered any request (with any status) so far.
    private let endpointAnswered = EndpointAnswered()

    private final class EndpointAnswered: Sendable {
        let value = Atomic<Bool>(false)
    }

    init(configuration: S3Configuration, bucket: String, httpClient: HTTPClient) {
        self.configuration = configuration
        self.bucket = bucket
        self.httpClient = httpClient
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
    }

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
        var bodyText: String { String(buffer: body) }
    }

    /// The encoded path of `key` (or of the bucket when `key` is nil), as signed and sent.
    func encodedPath(key: String?) -> String {
        let (_, _, bucketPath) = configuration.addressing(bucket: bucket)
        guard let key else { return bucketPath.isEmpty ? "/" : bucketPath + "/" }
        return bucketPath + "/" + S3URIEncoding.encodePath(key)
    }

    /// The payload hash for `body` under the configured payload signing.
    func payloadHash(_ body: ByteBuffer?) -> String {
        guard let body, body.readableBytes > 0 else { return SigV4Signer.emptyPayloadHash }
        switch configuration.payloadSigning {
        case .unsigned: return SigV4Signer.unsignedPayload
        case .sha256: return body.withUnsafeReadableBytes { Hex.encode(SHA256.hash(data: $0)) }
        }
    }

    /// Sends one request, retrying transient failures; returns the first 2xx answer.
    ///
    /// - Parameters:
    ///   - operation: the S3 operation's name, for messages (`PutObject`, `UploadPart 3`).
    ///   - accept: non-2xx statuses that are answers, not errors (404 for HeadObject).
    ///   - embeddedErrorIn200: treat a 200 whose body is an `<Error>` document as that error
    ///     (CompleteMultipartUpload can fail after its status line was sent).
    func send(
        _ operation: String,
        method: HTTPMethod,
        key: String?,
        query: [(name: String, value: String)] = [],
        headers extraHeaders: [(name: String, value: String)] = [],
        body: ByteBuffer? = nil,
        maxResponseBytes: Int = 1 << 20,
        accept: Set<Int> = [],
        embeddedErrorIn200: Bool = false
    ) async throws -> Response {
        let (scheme, host, _) = configuration.addressing(bucket: bucket)
        let path = encodedPath(key: key)
        let canonicalQuery = SigV4Signer.canonicalQueryString(query)
        let url = "\(scheme)://\(host)\(path)" + (canonicalQuery.isEmpty ? "" : "?" + canonicalQuery)
        let hash = payloadHash(body)
        var extraHeaders = extraHeaders
        if let body, body.readableBytes > 0 {
            // A server that misses part of the body then refuses the request instead of storing
            // what it got (see ``ContentMD5``).
            extraHeaders.append(("content-md5", ContentMD5.headerValue(for: body)))
        }
        let what = key.map { "s3://\(bucket)/\($0)" } ?? "s3://\(bucket)"
        let policy = configuration.retry
        let timeout = TimeAmount(configuration.requestTimeout)
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            let signature = signer.sign(
                method: method.rawValue,
                encodedPath: path,
                query: query,
                headers: [("host", host)] + extraHeaders,
                payloadHash: hash,
                timestamp: .now()
            )
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "host", value: host)
            for (name, value) in extraHeaders { request.headers.add(name: name, value: value) }
            for (name, value) in signature.headersToAdd { request.headers.add(name: name, value: value) }
            if let body {
                request.body = .bytes(body)
            } else if method == .PUT || method == .POST {
                request.headers.add(name: "content-length", value: "0")
            }
            var failure: S3RequestFailure
            do {
                let response = try await httpClient.execute(request, timeout: timeout)
                endpointAnswered.value.store(true, ordering: .relaxed)
                let status = Int(response.status.code)
                let responseBody = try await response.body.collect(upTo: maxResponseBytes)
                if accept.contains(status) {
                    return Response(status: status, headers: response.headers, body: responseBody)
                }
                if (200..<300).contains(status) {
                    guard embeddedErrorIn200, let embedded = S3XML.error(in: String(buffer: responseBody)) else {
                        return Response(status: status, headers: response.headers, body: responseBody)
                    }
                    failure = S3RequestFailure(
                        operation: operation,
                        target: what,
                        status: status,
                        code: embedded.code,
                        message: embedded.message.map(configuration.credentials.redacting),
                        attempts: attempt
                    )
                } else {
                    let parsed = S3XML.error(in: String(buffer: responseBody))
                    failure = S3RequestFailure(
                        operation: operation,
                        target: what,
                        status: status,
                        code: parsed?.code ?? response.headers.first(name: "x-amz-error-code"),
                        message: parsed?.message.map(configuration.credentials.redacting),
                        attempts: attempt
                    )
                }
            } catch let error where Self.isCancellation(error) {
                throw error
            } catch {
                let timeout = Self.timeoutDescription(of: error, configuration)
                failure = S3RequestFailure(
                    operation: operation,
                    target: what,
                    status: nil,
                    code: nil,
                    message: timeout ?? "connection failed: \(Self.connectionFailureDescription(of: error))",
                    attempts: attempt,
                    timedOut: timeout != nil
                )
            }
            let hungEndpoint = failure.timedOut && !endpointAnswered.value.load(ordering: .relaxed)
            guard failure.isRetryable, !hungEndpoint, attempt < policy.maxAttempts else {
                if hungEndpoint { failure.message! += "; the endpoint has not answered any request" }
                throw failure
            }
            let delay = policy.delay(beforeRetry: attempt, throttled: failure.isThrottling)
            configuration.retryLog?(
                "S3 \(operation) \(what): \(failure.reason); attempt \(attempt) of \(policy.maxAttempts) failed, "
                    + "retrying in \(Self.milliseconds(delay)) ms"
            )
            try await Task.sleep(for: delay)
        }
    }

    /// What timed out, for an error that is a timeout; `nil` for any other error.
    static func timeoutDescription(of error: any Error, _ configuration: S3Configuration) -> String? {
        switch error {
        case let error as HTTPClientError where error == .readTimeout || error == .writeTimeout:
            return "timed out: no byte sent or received for \(configuration.stallTimeout)"
        case let error as HTTPClientError where error == .connectTimeout:
            return "timed out: could not connect within \(configuration.connectTimeout)"
        case ChannelError.connectTimeout(_):
            return "timed out: could not connect within \(configuration.connectTimeout)"
        case let error as HTTPClientError where error == .deadlineExceeded:
            return "timed out: the request took longer than \(configuration.requestTimeout)"
        default:
            return nil
        }
    }

    /// A system error as `strerror` says it with its number (`Connection refused (errno 111)`),
    /// instead of NIO's description of it (`connection reset (error set): Connection refused)
    /// (errno: 111)`, which names a reset that did not happen); other errors as they describe
    /// themselves.
    static func connectionFailureDescription(of error: any Error) -> String {
        guard let error = error as? IOError else { return String(describing: error) }
        return "\(String(cString: strerror(error.errnoCode))) (errno \(error.errnoCode))"
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    static func isCancellation(_ error: any Error) -> Bool {
        if error is CancellationError { return true }
        if let e = error as? HTTPClientError, e == .cancelled { return true }
        return Task.isCancelled
    }
}

/// A failed S3 request after its last attempt: what, where, and what S3 said.
struct S3RequestFailure: Error, Sendable, CustomStringConvertible {
    var operation: String
    var target: String
    /// `nil` when no answer came (connection error or timeout).
    var status: Int?
    /// S3's error Code (`SignatureDoesNotMatch`, `NoSuchBucket`, …).
    var code: String?
    var message: String?
    var attempts: Int
    /// No answer came in time (connect, stall or request deadline).
    var timedOut = false

    var isRetryable: Bool {
        guard let status else { return true }
        return S3RetryPolicy.isRetryable(status: status, code: code)
    }
    var isThrottling: Bool { status.map { S3RetryPolicy.isThrottling(status: $0, code: code) } ?? false }

    /// What went wrong, without the operation, the target and the attempts.
    var reason: String {
        var text = ""
        if let status { text += "HTTP \(status)" }
        if let code { text += " \(code)" }
        if let message { text += status == nil ? message : " (" + message + ")" }
        return text
    }

    var description: String {
        var text = "S3 \(operation) \(target) failed: " + reason
        text += attempts == 1 ? " after 1 attempt" : " after \(attempts) attempts"
        if let hint { text += "; " + hint }
        return text
    }

    private var hint: String? {
        switch code {
        case "SignatureDoesNotMatch": "check AWS_SECRET_ACCESS_KEY and the clock"
        case "InvalidAccessKeyId": "check AWS_ACCESS_KEY_ID"
        case "NoSuchBucket": "check the bucket name in the s3:// destination"
        case "AccessDenied": "check the credentials' permissions on the bucket and key"
        case "RequestTimeTooSkewed": "the system clock is more than 15 minutes off"
        default: nil
        }
    }

    var exportError: ExportError { ExportError.sink(description) }
}
