public import ExportS3

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The AWS JSON 1.1 protocol of Amazon Forecast over a ``JobService``, independent of the HTTP
/// server: one request in (headers, body), one response out (status, headers, body).
///
/// Checks in order, each failure a `400` with `{"__type", "message"}` and never a crash: body
/// size (at most ``maxBodyBytes``), signature (unless unsigned requests are allowed),
/// `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target: AmazonForecast.<Operation>`, JSON.
public struct ForecastAPI: Sendable {
    public static let maxBodyBytes = 1 << 20
    public static let contentType = "application/x-amz-json-1.1"
    public static let targetPrefix = "AmazonForecast."

    /// One HTTP request as the API needs it.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var rawQuery: String
        /// Every header as received, `host` included.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// The body was longer than ``ForecastAPI/maxBodyBytes`` (and was not kept).
        public var bodyTooLarge: Bool

        public init(
            method: String,
            path: String,
            rawQuery: String = "",
            headers: [(name: String, value: String)],
            body: [UInt8],
            bodyTooLarge: Bool = false
        ) {
            self.method = method
            self.path = path
            self.rawQuery = rawQuery
            self.headers = headers
            self.body = body
            self.bodyTooLarge = bodyTooLarge
        }

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }
    }

    public struct Response: Sendable {
        public var status: Int
        /// Empty for operations without output (Delete, StopResource).
        public var body: [UInt8]
        /// The `__type` of an error response.
        public var errorType: String?
    }

    public let service: JobService
    /// nil: unsigned requests are accepted (`--allow-unsigned`).
    public let verifier: SigV4Verifier?
    private let clock: @Sendable () -> Double

    public init(
        service: JobService,
        verifier: SigV4Verifier?,
        clock: @escaping @Sendable () -> Double = JobService.wallClock
    ) {
        self.service = service
        self.verifier = verifier
        self.clock = clock
    }

    public func handle(_ request: Request) async -> Response {
        do {
            return try await dispatch(request)
        } catch {
            return Self.errorResponse(error)
        }
    }

    private func dispatch(_ request: Request) async throws(ForecastError) -> Response {
        guard !request.bodyTooLarge else {
            throw .serialization("The request body is larger than 1 MiB (1048576 bytes).")
        }
        if let verifier {
            do {
                try verifier.verify(
                    method: request.method,
                    encodedPath: request.path,
                    rawQuery: request.rawQuery,
                    headers: request.headers,
                    body: request.body,
                    now: Int64(clock())
                )
            } catch {
                switch error {
                case .missing:
                    throw .missingAuthentication("Missing Authentication Token: requests must be signed with SigV4.")
                case .incomplete(let message): throw .incompleteSignature(message)
                case .unknownAccessKey:
                    throw .unrecognizedClient("The security token included in the request is invalid.")
                case .invalid(let message): throw .invalidSignature(message)
                }
            }
        }
        guard request.method == "POST" else {
            throw .unknownOperation("Use POST / with X-Amz-Target: AmazonForecast.<Operation>.")
        }
        let contentType = request.header("content-type") ?? ""
        let mediaType = contentType.split(separator: ";").first.map { String($0).trimmingCharacters(" ") } ?? ""
        guard mediaType.lowercased() == Self.contentType else {
            throw .serialization("Content-Type must be \(Self.contentType) (got '\(contentType)').")
        }
        guard let target = request.header("x-amz-target") else {
            throw .unknownOperation("The request has no X-Amz-Target header (AmazonForecast.<Operation>).")
        }
        guard target.hasPrefix(Self.targetPrefix), let operation = Operation(rawValue: String(target.dropFirst(15)))
        else {
            throw .unknownOperation("Unknown operation '\(target)': this server implements " + Operation.names + ".")
        }
        let body = request.body.isEmpty ? Array("{}".utf8) : request.body
        switch operation {
        case .create:
            return try Self.ok(await service.create(try Self.decode(body)))
        case .describe:
            return try Self.ok(await service.describe(try Self.decode(body)))
        case .list:
            return try Self.ok(await service.list(try Self.decode(body)))
        case .delete:
            try await service.delete(try Self.decode(body))
            return Response(status: 200, body: [])
        case .stop:
            try await service.stop(try Self.decode(body))
            return Response(status: 200, body: [])
        case .tag:
            try await service.tagResource(try Self.decode(body))
            return try Self.ok(ForecastShapes.Empty())
        case .untag:
            try await service.untagResource(try Self.decode(body))
            return try Self.ok(ForecastShapes.Empty())
        case .listTags:
            return try Self.ok(await service.listTags(try Self.decode(body)))
        }
    }

    enum Operation: String, CaseIterable {
        case create = "CreatePredictorBacktestExportJob"
        case describe = "DescribePredictorBacktestExportJob"
        case list = "ListPredictorBacktestExportJobs"
        case delete = "DeletePredictorBacktestExportJob"
        case stop = "StopResource"
        case tag = "TagResource"
        case untag = "UntagResource"
        case listTags = "ListTagsForResource"

        static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
    }

    static func decode<T: Decodable>(_ body: [UInt8]) throws(ForecastError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw .serialization("The request body is not valid for this operation: \(describe(error))")
        } catch {
            throw .serialization("The request body is not valid JSON.")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let members = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return members.isEmpty ? "the body" : members.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)) must be of JSON type \(jsonType(type))"
        case .valueNotFound(let type, let context): return "\(path(context)) must be of JSON type \(jsonType(type))"
        case .keyNotFound(let key, _): return "\(key.stringValue) is missing"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "malformed JSON" : "\(path(context)) is malformed"
        @unknown default: return "malformed JSON"
        }
    }

    private static func jsonType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Int.Type, is Double.Type: "number"
        case is Bool.Type: "boolean"
        default: String(describing: type).hasPrefix("Array") ? "array" : "object"
        }
    }

    static func ok<T: Encodable>(_ value: T) throws(ForecastError) -> Response {
        do {
            return Response(status: 200, body: Array(try JSONEncoder().encode(value)))
        } catch {
            throw .internalFailure("Cannot encode the response.")
        }
    }

    static func errorResponse(_ error: ForecastError) -> Response {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(["__type": error.type, "message": error.message]))
        } catch {
            body = Array(#"{"__type":"InternalFailure","message":"internal error"}"#.utf8)
        }
        return Response(status: error.httpStatus, body: body, errorType: error.type)
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
