import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore

/// The process-wide `HTTPClient`s the S3 sink uses when it is given none: one per pair of
/// timeouts, created on first use, living until the process ends (never shut down, like
/// `HTTPClient.shared`).
///
/// Each has a connect timeout of ``S3Configuration/connectTimeout`` and read and write idle
/// timeouts of ``S3Configuration/stallTimeout``: a request on which no byte moves either way
/// for that long fails with a timeout. A connection that cannot be made fails its request at
/// once (S3Client's retry policy decides what happens next).
enum S3HTTPClients {
    private struct Key: Hashable {
        var connect: Int64
        var stall: Int64
    }

    private static let clients = NIOLockedValueBox<[Key: HTTPClient]>([:])

    static func client(for configuration: S3Configuration) -> HTTPClient {
        let connect = TimeAmount(configuration.connectTimeout)
        let stall = TimeAmount(configuration.stallTimeout)
        let key = Key(connect: connect.nanoseconds, stall: stall.nanoseconds)
        return clients.withLockedValue { clients in
            if let client = clients[key] { return client }
            var settings = HTTPClient.Configuration()
            settings.timeout = HTTPClient.Configuration.Timeout(connect: connect, read: stall, write: stall)
            // A failed connection fails its request at once, to be retried (with backoff, and
            // reported) by S3Client like any other failure: left on, the pool would retry it
            // silently for the whole connect timeout, so an endpoint that refuses connections
            // took six times that (60 s) to fail.
            settings.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: settings)
            clients[key] = client
            return client
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
