import ExportCore
import NIOCore
import NIOHTTP1

/// The S3 operations the sink uses, on top of ``S3Client/send``.
extension S3Client {
    func putObject(key: String, body: ByteBuffer, headers: [(name: String, value: String)]) async throws {
        _ = try await send("PutObject", method: .PUT, key: key, headers: headers, body: body)
    }

    /// CreateMultipartUpload; returns the upload id.
    func createMultipartUpload(key: String, headers: [(name: String, value: String)]) async throws -> String {
        let response = try await send(
            "CreateMultipartUpload",
            method: .POST,
            key: key,
            query: [("uploads", "")],
            headers: headers
        )
        guard let uploadId = S3XML.firstValue(of: "UploadId", in: response.bodyText), !uploadId.isEmpty else {
            throw ExportError.sink("S3 CreateMultipartUpload s3://\(bucket)/\(key) answered without an UploadId")
        }
        return uploadId
    }

    /// UploadPart; returns the part's ETag.
    func uploadPart(key: String, uploadId: String, number: Int, body: ByteBuffer) async throws -> String {
        let response = try await send(
            "UploadPart \(number)",
            method: .PUT,
            key: key,
            query: [("partNumber", String(number)), ("uploadId", uploadId)],
            body: body
        )
        guard let etag = response.headers.first(name: "etag"), !etag.isEmpty else {
            throw ExportError.sink("S3 UploadPart \(number) s3://\(bucket)/\(key) answered without an ETag")
        }
        return etag
    }

    /// Uploads the parts `queue` hands out, each in its own child task (the queue bounds how many
    /// are outstanding). The first failure fails the queue, which stops the writer, and is thrown.
    func uploadParts(from queue: PartUploadQueue, key: String) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            while let part = try await queue.next() {
                guard let uploadId = queue.uploadId else {
                    throw ExportError.internal("S3 part \(part.number) queued before its multipart upload existed")
                }
                group.addTask {
                    do {
                        let etag = try await uploadPart(
                            key: key,
                            uploadId: uploadId,
                            number: part.number,
                            body: part.bytes
                        )
                        queue.partUploaded(number: part.number, etag: etag)
                    } catch {
                        queue.fail(error)
                        throw error
                    }
                }
            }
        }
    }

    /// CompleteMultipartUpload with the parts in ascending order; an `<Error>` in a 200 answer is
    /// a failure (retried when it is `InternalError`).
    func completeMultipartUpload(key: String, uploadId: String, parts: [(number: Int, etag: String)]) async throws {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        xml.reserveCapacity(80 + parts.count * 90)
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(S3XML.escapeText(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        _ = try await send(
            "CompleteMultipartUpload",
            method: .POST,
            key: key,
            query: [("uploadId", uploadId)],
            headers: [("content-type", "application/xml")],
            body: ByteBuffer(string: xml),
            embeddedErrorIn200: true
        )
    }

    /// AbortMultipartUpload, run to its end even if the calling task is cancelled; `NoSuchUpload`
    /// counts as done. Returns a description of the failure, or `nil` when aborted.
    func abortMultipartUpload(key: String, uploadId: String) async -> String? {
        let client = self
        let outcome = await Task.detached { () -> String? in
            do {
                _ = try await client.send(
                    "AbortMultipartUpload",
                    method: .DELETE,
                    key: key,
                    query: [("uploadId", uploadId)],
                    accept: [404]
                )
                return nil
            } catch {
                return String(describing: error)
            }
        }.value
        return outcome
    }

    /// The multipart uploads in progress under `prefix`, every page of them.
    func listMultipartUploads(prefix: String) async throws -> [(key: String, uploadId: String)] {
        var uploads: [(key: String, uploadId: String)] = []
        var markers: [(name: String, value: String)] = []
        while true {
            let response = try await send(
                "ListMultipartUploads",
                method: .GET,
                key: nil,
                query: [("uploads", ""), ("prefix", prefix)] + markers
            )
            let text = response.bodyText
            uploads += S3XML.allValues(of: "Upload", in: text).map {
                (S3XML.firstValue(of: "Key", in: $0) ?? "", S3XML.firstValue(of: "UploadId", in: $0) ?? "")
            }
            guard S3XML.firstValue(of: "IsTruncated", in: text) == "true",
                let keyMarker = S3XML.firstValue(of: "NextKeyMarker", in: text), !keyMarker.isEmpty
            else { return uploads }
            markers = [("key-marker", keyMarker)]
            if let uploadMarker = S3XML.firstValue(of: "NextUploadIdMarker", in: text), !uploadMarker.isEmpty {
                markers.append(("upload-id-marker", uploadMarker))
            }
        }
    }

    /// PutObject with `If-None-Match: *`: creates `key` only if no object is there. Returns false
    /// when one is (412 Precondition Failed, or 409 for a concurrent conditional write).
    func putObjectIfAbsent(
        key: String,
        body: ByteBuffer,
        headers: [(name: String, value: String)]
    ) async throws
        -> Bool
    {
        let response = try await send(
            "PutObject (If-None-Match)",
            method: .PUT,
            key: key,
            headers: headers + [("if-none-match", "*")],
            body: body,
            accept: [409, 412]
        )
        return (200..<300).contains(response.status)
    }

    /// ListObjectsV2: every key that starts with `prefix`, all pages.
    func listObjects(prefix: String) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("ListObjectsV2", method: .GET, key: nil, query: query)
            let text = response.bodyText
            keys += S3XML.allValues(of: "Key", in: text)
            token =
                S3XML.firstValue(of: "IsTruncated", in: text) == "true"
                ? S3XML.firstValue(of: "NextContinuationToken", in: text) : nil
        } while token != nil
        return keys
    }

    /// GetObject into memory (tests and small files); `nil` when the key does not exist.
    func getObject(key: String, maxBytes: Int) async throws -> ByteBuffer? {
        let response = try await send("GetObject", method: .GET, key: key, maxResponseBytes: maxBytes, accept: [404])
        return response.status == 404 ? nil : response.body
    }
}
