public import ExportS3
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `backtest-export serve`: the Forecast API over HTTP/1.1 (Hummingbird), the job service and
/// its runner.
///
/// Lifecycle: ``run(onListening:)`` opens the job store, re-runs jobs left pending or running,
/// listens, calls `onListening` once connections are accepted, and returns after SIGINT or
/// SIGTERM once open requests are answered. Running exports are then signalled and awaited;
/// their jobs keep their status, so the next start runs them again.
public struct ForecastServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var stateDirectory: String
        public var names: ResourceNames
        public var predictors: [Predictor]
        public var maxRunning: Int
        /// Credentials whose signatures are accepted; ignored when ``allowUnsigned``.
        public var credentials: [S3Credentials]
        public var allowUnsigned: Bool

        public init(
            host: String,
            port: Int,
            stateDirectory: String,
            names: ResourceNames,
            predictors: [Predictor],
            maxRunning: Int,
            credentials: [S3Credentials],
            allowUnsigned: Bool
        ) {
            self.host = host
            self.port = port
            self.stateDirectory = stateDirectory
            self.names = names
            self.predictors = predictors
            self.maxRunning = maxRunning
            self.credentials = credentials
            self.allowUnsigned = allowUnsigned
        }
    }

    public let configuration: Configuration
    public let executor: any JobExecutor

    public init(configuration: Configuration, executor: any JobExecutor) {
        self.configuration = configuration
        self.executor = executor
    }

    /// Runs until SIGINT or SIGTERM. `onListening` gets the bound host and port.
    public func run(onListening: @escaping @Sendable (String, Int) -> Void) async throws {
        let store = try JobStore(path: configuration.stateDirectory + "/jobs.sqlite")
        let service = JobService(
            store: store,
            names: configuration.names,
            predictors: configuration.predictors,
            executor: executor,
            maxRunning: configuration.maxRunning
        )
        try await service.start()
        let verifier =
            configuration.allowUnsigned
            ? nil
            : SigV4Verifier(
                credentials: configuration.credentials,
                region: configuration.names.region,
                service: "forecast"
            )
        let api = ForecastAPI(service: service, verifier: verifier)
        let router = Router()
        router.post("/") { request, _ in try await Self.respond(api, request) }
        var logger = Logger(label: "backtest-export-serve")
        logger.logLevel = .error
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: nil
            ),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.port
                onListening(configuration.host, port)
            },
            logger: logger
        )
        do {
            try await app.runService()
        } catch {
            await service.shutdown()
            throw error
        }
        await service.shutdown()
    }

    static func respond(_ api: ForecastAPI, _ request: Request) async throws -> Response {
        var body: [UInt8] = []
        var tooLarge = false
        for try await chunk in request.body {
            if body.count + chunk.readableBytes > ForecastAPI.maxBodyBytes {
                tooLarge = true
                body = []
                break  // Hummingbird discards the rest of the body after the response
            }
            body.append(contentsOf: chunk.readableBytesView)
        }
        var headers: [(name: String, value: String)] = []
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        if let authority = request.head.authority, !headers.contains(where: { $0.name == "host" }) {
            headers.append(("host", authority))  // HTTP/1.1 `Host` arrives as the authority
        }
        let path = request.uri.path
        let query = request.uri.query ?? ""
        let answer = await api.handle(
            ForecastAPI.Request(
                method: request.method.rawValue,
                path: path,
                rawQuery: query,
                headers: headers,
                body: body,
                bodyTooLarge: tooLarge
            )
        )
        var fields = HTTPFields()
        fields[.contentType] = ForecastAPI.contentType
        fields[HTTPField.Name("x-amzn-RequestId")!] = UUID().uuidString.lowercased()
        if let type = answer.errorType { fields[HTTPField.Name("x-amzn-ErrorType")!] = type }
        fields[.contentLength] = String(answer.body.count)
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }
}
