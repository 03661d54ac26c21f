public import ExportCore

/// A custom S3 endpoint (`http://127.0.0.1:9000`, `https://minio.example:443`): scheme, host, port.
///
/// Parsed without Foundation; only `http` and `https`, no path, query or user info, so the URL
/// that is signed is exactly the URL that is sent.
public struct S3Endpoint: Sendable, Equatable, CustomStringConvertible {
    public var useTLS: Bool
    public var host: String
    /// `nil` means the scheme's default port (80 or 443).
    public var port: Int?

    public init(useTLS: Bool, host: String, port: Int? = nil) {
        self.useTLS = useTLS
        self.host = host
        self.port = port
    }

    public init(parsing url: String) throws(ExportError) {
        func fail(_ why: String) -> ExportError {
            ExportError.validation("S3 endpoint URL '\(url)' is invalid: \(why) (expected e.g. http://127.0.0.1:9000)")
        }
        let rest: Substring
        if url.lowercased().hasPrefix("https://") {
            useTLS = true
            rest = url.dropFirst(8)
        } else if url.lowercased().hasPrefix("http://") {
            useTLS = false
            rest = url.dropFirst(7)
        } else {
            throw fail("the scheme must be http:// or https://")
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            if rest[slash...] != "/" { throw fail("a path is not supported") }
            authority = rest[..<slash]
        }
        if authority.contains("@") || authority.contains("?") || authority.contains("#") {
            throw fail("user info, query and fragment are not supported")
        }
        // [v6]:port or host:port
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[...close])
            authority = authority[authority.index(after: close)...]
            if authority.isEmpty {
                port = nil
            } else if authority.hasPrefix(":"), let p = Int(authority.dropFirst()), (1...65535).contains(p) {
                port = p
            } else {
                throw fail("bad port")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw fail("bad port")
            }
            port = p
        } else {
            host = String(authority)
            port = nil
        }
        if host.isEmpty { throw fail("no host") }
    }

    /// `host[:port]` as sent in the `Host` header (the port only when not the scheme's default).
    public var hostHeader: String {
        if let port, port != (useTLS ? 443 : 80) { return "\(host):\(port)" }
        return host
    }

    public var scheme: String { useTLS ? "https" : "http" }

    public var description: String { "\(scheme)://\(hostHeader)" }
}
