/// When and how long to retry a failed S3 request.
///
/// Retried: connection errors and timeouts, HTTP 500/502/503/504, 429, and the S3 error codes
/// `RequestTimeout`, `SlowDown`, `Throttling`, `InternalError`, … (the AWS SDKs' "standard" set).
/// Never retried: other 4xx such as `SignatureDoesNotMatch`, `AccessDenied`, `NoSuchBucket`,
/// `EntityTooSmall`. Delay before retry `n` (1-based) is full jitter:
/// `random(0…1) × min(base × 2^(n-1), maxDelay)`, with a larger base for throttling.
/// Every attempt is signed afresh.
public struct S3RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included (≥ 1).
    public var maxAttempts: Int
    public var baseDelay: Duration
    /// Base delay after a throttling answer (429, 503 `SlowDown`).
    public var throttleBaseDelay: Duration
    public var maxDelay: Duration

    public init(
        maxAttempts: Int = 6,
        baseDelay: Duration = .milliseconds(100),
        throttleBaseDelay: Duration = .seconds(1),
        maxDelay: Duration = .seconds(20)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.throttleBaseDelay = throttleBaseDelay
        self.maxDelay = maxDelay
    }

    static let throttlingCodes: Set<String> = [
        "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
        "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "ProvisionedThroughputExceededException", "EC2ThrottledException",
        "PriorRequestNotComplete",
    ]
    static let transientCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable",
    ]

    /// Whether an HTTP error answer is worth another attempt.
    static func isRetryable(status: Int, code: String?) -> Bool {
        if [500, 502, 503, 504, 429].contains(status) { return true }
        if let code { return throttlingCodes.contains(code) || transientCodes.contains(code) }
        return false
    }

    static func isThrottling(status: Int, code: String?) -> Bool {
        status == 429 || code.map { throttlingCodes.contains($0) } ?? false
    }

    /// The delay before retry number `retry` (1 = the first retry).
    func delay(beforeRetry retry: Int, throttled: Bool) -> Duration {
        let base = throttled ? throttleBaseDelay : baseDelay
        let exponent = min(max(retry - 1, 0), 30)
        let capped = min(base * (1 << exponent), maxDelay)
        return capped * Double.random(in: 0...1)
    }
}
