/// An error as the Forecast JSON 1.1 protocol sends it: `{"__type": "<Name>", "message": "…"}`
/// with an HTTP status. boto3 raises `client.exceptions.<Name>` from `__type`.
///
/// Messages are for the caller and never hold a secret or a signature.
public struct ForecastError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The shape name, e.g. `InvalidInputException`.
    public var type: String
    public var message: String
    /// 400 for every modelled error, as the API reference documents (SDKs read `__type`).
    public var httpStatus: Int

    public init(_ type: String, _ message: String, httpStatus: Int = 400) {
        self.type = type
        self.message = message
        self.httpStatus = httpStatus
    }

    public var description: String { "\(type): \(message)" }

    // The errors of the service model.
    public static func invalidInput(_ message: String) -> Self { Self("InvalidInputException", message) }
    public static func invalidNextToken(_ message: String) -> Self { Self("InvalidNextTokenException", message) }
    public static func limitExceeded(_ message: String) -> Self { Self("LimitExceededException", message) }
    public static func alreadyExists(_ message: String) -> Self { Self("ResourceAlreadyExistsException", message) }
    public static func inUse(_ message: String) -> Self { Self("ResourceInUseException", message) }
    public static func notFound(_ message: String) -> Self { Self("ResourceNotFoundException", message) }

    // The protocol's common errors.
    /// The body is not JSON, or a member has the wrong JSON type.
    public static func serialization(_ message: String) -> Self { Self("SerializationException", message) }
    /// A missing or unknown `X-Amz-Target`.
    public static func unknownOperation(_ message: String) -> Self { Self("UnknownOperationException", message) }
    public static func unrecognizedClient(_ message: String) -> Self { Self("UnrecognizedClientException", message) }
    public static func invalidSignature(_ message: String) -> Self { Self("InvalidSignatureException", message) }
    public static func missingAuthentication(_ message: String) -> Self {
        Self("MissingAuthenticationTokenException", message)
    }
    public static func incompleteSignature(_ message: String) -> Self { Self("IncompleteSignatureException", message) }
    public static func internalFailure(_ message: String) -> Self { Self("InternalFailure", message, httpStatus: 500) }
}
