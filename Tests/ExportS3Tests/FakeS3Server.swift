import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

@testable import ExportS3

/// A minimal S3 look-alike on 127.0.0.1 for fault tests: PutObject, multipart (create, upload
/// part, complete, abort), GetObject, HeadObject, DeleteObject, and PutObject with
/// `If-None-Match: *` (412 when the object exists). No signature checks (the real SeaweedFS tests
/// do that); a `Content-MD5` that does not match the body is refused with 400 `BadDigest`, as S3
/// refuses it. ``faults`` decides, per request, to answer normally, with an HTTP error (before or
/// after doing what the request asks), or by closing the connection without an answer; every
/// request is recorded.
final class FakeS3Server: Sendable {
    enum Fault: Sendable, Equatable {
        case status(Int, code: String)
        case dropConnection
        /// Keeps the connection open and never answers.
        case stall
        /// Does what the request asks, then answers with this error instead: an answer lost on
        /// the way back, as the client sees it.
        case statusAfterHandling(Int, code: String)
    }

    struct Request: Sendable {
        var method: String
        var path: String
        var query: [String: String]
        var bodyLength = 0
        /// The request's `Content-MD5` header, if it had one.
        var contentMD5: String? = nil
    }

    private struct State {
        var objects: [String: [UInt8]] = [:]
        var uploads: [String: [Int: [UInt8]]] = [:]
        var uploadKeys: [String: String] = [:]
        var aborted: [String] = []
        var completed: [String] = []
        var log: [Request] = []
        var nextUpload = 1
    }

    private let state = Mutex(State())
    /// Called before each request is handled, with the request and how many earlier requests had
    /// the same method, path and part number; returns a fault or nil.
    let faults: @Sendable (Request, Int) -> Fault?
    private let channel: any Channel
    let port: Int

    init(faults: @escaping @Sendable (Request, Int) -> Fault? = { _, _ in nil }) async throws {
        self.faults = faults
        let box = HandlerBox()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(server: box.server!))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
        box.server = self
    }

    func shutdown() async throws { try await channel.close() }

    var endpoint: String { "http://127.0.0.1:\(port)" }
    var objects: [String: [UInt8]] { state.withLock { $0.objects } }
    var abortedUploads: [String] { state.withLock { $0.aborted } }
    var completedUploads: [String] { state.withLock { $0.completed } }
    var openUploads: [String] { state.withLock { Array($0.uploads.keys) } }
    var requests: [Request] { state.withLock { $0.log } }

    /// Handles one complete request; `nil` means: close the connection without answering.
    func handle(
        method: String,
        uri: String,
        body: [UInt8],
        ifNoneMatch: Bool = false,
        contentMD5: String? = nil
    ) -> (status: Int, headers: [(String, String)], body: String)? {
        let (rawPath, rawQuery) = split(uri)
        let path = percentDecode(rawPath)
        var query: [String: String] = [:]
        for pair in rawQuery.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            query[percentDecode(String(parts[0]))] = parts.count > 1 ? percentDecode(String(parts[1])) : ""
        }
        let request = Request(
            method: method,
            path: path,
            query: query,
            bodyLength: body.count,
            contentMD5: contentMD5
        )
        let earlier = state.withLock { state in
            let n = state.log.filter {
                $0.method == method && $0.path == path && $0.query["partNumber"] == query["partNumber"]
            }.count
            state.log.append(request)
            return n
        }
        let fault = faults(request, earlier)
        switch fault {
        case .dropConnection?: return nil
        case .stall?: return (Self.stalled, [], "")
        case .status(let status, let code)?:
            return (status, [], "<Error><Code>\(code)</Code><Message>injected \(code)</Message></Error>")
        case .statusAfterHandling?, nil: break
        }
        if let contentMD5, body.withUnsafeBytes({ ContentMD5.headerValue(for: $0) }) != contentMD5 {
            return (400, [], "<Error><Code>BadDigest</Code><Message>Content-MD5 does not match</Message></Error>")
        }
        let answer = answer(method: method, path: path, query: query, body: body, ifNoneMatch: ifNoneMatch)
        if case .statusAfterHandling(let status, let code)? = fault {
            return (status, [], "<Error><Code>\(code)</Code><Message>injected \(code)</Message></Error>")
        }
        return answer
    }

    /// What the store does and answers for a request that no fault stops.
    private func answer(
        method: String,
        path: String,
        query: [String: String],
        body: [UInt8],
        ifNoneMatch: Bool
    ) -> (status: Int, headers: [(String, String)], body: String) {
        state.withLock { state -> (Int, [(String, String)], String) in
            switch (method, query["uploads"] != nil, query["uploadId"], query["partNumber"]) {
            case ("POST", true, _, _):
                let id = "upload-\(state.nextUpload)/+="
                state.nextUpload += 1
                state.uploads[id] = [:]
                state.uploadKeys[id] = path
                return (
                    200, [], "<InitiateMultipartUploadResult><UploadId>\(id)</UploadId></InitiateMultipartUploadResult>"
                )
            case ("PUT", false, let id?, let number?):
                guard state.uploads[id] != nil, let n = Int(number) else { return Self.noSuchUpload }
                state.uploads[id]![n] = body
                return (200, [("ETag", "\"etag-\(n)-\(body.count)\"")], "")
            case ("POST", false, let id?, nil):
                guard let parts = state.uploads[id] else { return Self.noSuchUpload }
                let text = String(decoding: body, as: UTF8.self)
                var numbers: [Int] = []
                var rest = text[...]
                while let open = rest.firstRange(of: "<PartNumber>"), let close = rest.firstRange(of: "</PartNumber>") {
                    numbers.append(Int(rest[open.upperBound..<close.lowerBound])!)
                    rest = rest[close.upperBound...]
                }
                guard numbers == numbers.sorted(), numbers.allSatisfy({ parts[$0] != nil }),
                    numbers.count == parts.count
                else {
                    return (400, [], "<Error><Code>InvalidPart</Code><Message>parts \(numbers)</Message></Error>")
                }
                state.objects[path] = numbers.flatMap { parts[$0]! }
                state.uploads[id] = nil
                state.completed.append(id)
                return (
                    200, [],
                    "<CompleteMultipartUploadResult><ETag>&quot;x-\(numbers.count)&quot;</ETag></CompleteMultipartUploadResult>"
                )
            case ("DELETE", false, let id?, nil):
                state.aborted.append(id)
                guard state.uploads.removeValue(forKey: id) != nil else { return Self.noSuchUpload }
                return (204, [], "")
            case ("GET", true, nil, nil):
                let prefix = query["prefix"] ?? ""
                let listed = state.uploadKeys.filter { state.uploads[$0.key] != nil }
                    .map {
                        (
                            id: $0.key,
                            key: String($0.value.drop(while: { $0 == "/" }).drop(while: { $0 != "/" }).dropFirst())
                        )
                    }
                    .filter { $0.key.hasPrefix(prefix) }
                    .sorted { $0.key < $1.key }
                let uploads = listed.map { "<Upload><Key>\($0.key)</Key><UploadId>\($0.id)</UploadId></Upload>" }
                return (
                    200, [],
                    "<ListMultipartUploadsResult>\(uploads.joined())<IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"
                )
            case ("PUT", false, nil, nil):
                if ifNoneMatch && state.objects[path] != nil {
                    return (412, [], "<Error><Code>PreconditionFailed</Code><Message>exists</Message></Error>")
                }
                state.objects[path] = body
                return (200, [("ETag", "\"e\"")], "")
            case ("GET", false, nil, nil), ("HEAD", false, nil, nil):
                guard let object = state.objects[path] else {
                    return (404, [], "<Error><Code>NoSuchKey</Code><Message>no</Message></Error>")
                }
                return (200, [], method == "GET" ? String(decoding: object, as: UTF8.self) : "")
            case ("DELETE", false, nil, nil):
                state.objects[path] = nil
                return (204, [], "")
            default:
                return (400, [], "<Error><Code>NotImplemented</Code><Message>\(method) \(path)</Message></Error>")
            }
        }
    }

    /// The status ``handle(method:uri:body:)`` gives for a request that gets no answer at all.
    static let stalled = -1

    private static let noSuchUpload = (
        404, [(String, String)](), "<Error><Code>NoSuchUpload</Code><Message>no</Message></Error>"
    )

    private func split(_ uri: String) -> (String, String) {
        guard let q = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<q]), String(uri[uri.index(after: q)...]))
    }

    private func percentDecode(_ text: String) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let b = iterator.next() {
            if b == UInt8(ascii: "%"), let h = iterator.next(), let l = iterator.next(),
                let v = UInt8(String(decoding: [h, l], as: UTF8.self), radix: 16)
            {
                bytes.append(v)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private final class HandlerBox: @unchecked Sendable {
        var server: FakeS3Server?
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: FakeS3Server
        var head: HTTPRequestHead?
        var body: [UInt8] = []

        init(server: FakeS3Server) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.removeAll(keepingCapacity: true)
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes)!
            case .end:
                guard let head else { return }
                guard
                    let (status, headers, text) = server.handle(
                        method: head.method.rawValue,
                        uri: head.uri,
                        body: body,
                        ifNoneMatch: head.headers["if-none-match"].first == "*",
                        contentMD5: head.headers["content-md5"].first
                    )
                else {
                    context.close(promise: nil)
                    return
                }
                if status == FakeS3Server.stalled { return }
                var responseHead = HTTPResponseHead(version: head.version, status: .init(statusCode: status))
                for (name, value) in headers { responseHead.headers.add(name: name, value: value) }
                let bytes = ByteBuffer(string: text)
                responseHead.headers.add(
                    name: "content-length",
                    value: String(head.method == .HEAD ? 0 : bytes.readableBytes)
                )
                context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
                if head.method != .HEAD, bytes.readableBytes > 0 {
                    context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                self.head = nil
            }
        }
    }
}
