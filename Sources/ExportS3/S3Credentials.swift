/// An AWS access key pair, with an optional session token for temporary credentials.
///
/// Guarantee: `description`, `debugDescription`, string interpolation and `dump` never show the
/// secret or the session token, and show only the last four characters of the access key id
/// (as the AWS CLI does). Use ``accessKeyId``/``secretAccessKey`` only to sign.
public struct S3Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var accessKeyId: String
    public var secretAccessKey: String
    /// Sent (and signed) as `x-amz-security-token` when present.
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The access key id with all but its last four characters masked: `****************MPLE`.
    public var maskedAccessKeyId: String {
        let tail = accessKeyId.count > 4 ? String(accessKeyId.suffix(4)) : ""
        return String(repeating: "*", count: max(accessKeyId.count - tail.count, 4)) + tail
    }

    public var description: String {
        "S3Credentials(accessKeyId: \(maskedAccessKeyId), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": maskedAccessKeyId, "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            ],
            displayStyle: .struct
        )
    }

    /// `text` with every occurrence of the secret and the session token replaced by `<redacted>`:
    /// applied to any text from a server before it goes into an error.
    func redacting(_ text: String) -> String {
        var result = text
        for secret in [secretAccessKey, sessionToken ?? ""] where secret.count >= 4 {
            result = result.replacing(secret, with: "<redacted>")
        }
        return result
    }
}
