import ExportCore
import NIOCore
import NIOHTTP1

/// Server-side copies and listing: what a sharded export's commit needs on S3.
extension S3Client {
    /// The largest object CopyObject copies in one request (5 GiB); larger ones need UploadPartCopy.
    static let maxSingleCopyBytes = 5 << 30

    /// The `x-amz-copy-source` value for `key` in this bucket: `/bucket/key`, key URI-encoded.
    func copySource(key: String) -> String { "/\(bucket)/\(S3URIEncoding.encodePath(key))" }

    /// CopyObject: `destination` becomes a copy of `source` (same bucket), atomically. A 200 whose
    /// body is an `<Error>` is that error.
    func copyObject(from source: String, to destination: String, headers: [(name: String, value: String)]) async throws
    {
        _ = try await send(
            "CopyObject from s3://\(bucket)/\(source)",
            method: .PUT,
            key: destination,
            headers: [("x-amz-copy-source", copySource(key: source))] + headers,
            embeddedErrorIn200: true
        )
    }

    /// A multipart copy: CreateMultipartUpload, one UploadPartCopy per `partSize` byte range of
    /// `source` (at most `maxInFlight` at once), CompleteMultipartUpload; on any failure the
    /// upload is aborted, so `destination` appears complete or not at all. `byteCount` is the
    /// source's size.
    func multipartCopy(
        from source: String,
        to destination: String,
        byteCount: Int,
        partSize: Int,
        maxInFlight: Int,
        headers: [(name: String, value: String)]
    ) async throws {
        precondition(partSize > 0 && byteCount > 0, "a multipart copy needs bytes and a part size")
        let ranges = stride(from: 0, to: byteCount, by: partSize).map { $0..<min($0 + partSize, byteCount) }
        guard ranges.count <= 10_000 else {
            throw ExportError.sink(
                "S3 copy of s3://\(bucket)/\(source) needs more than 10,000 parts of \(partSize) bytes"
            )
        }
        let uploadId = try await createMultipartUpload(key: destination, headers: headers)
        do {
            let etags = try await withThrowingTaskGroup(of: (Int, String).self, returning: [String].self) { group in
                var etags = [String](repeating: "", count: ranges.count)
                for (index, range) in ranges.enumerated() {
                    if index >= maxInFlight, let (done, etag) = try await group.next() { etags[done] = etag }
                    group.addTask {
                        let etag = try await uploadPartCopy(
                            from: source,
                            to: destination,
                            uploadId: uploadId,
                            number: index + 1,
                            range: range
                        )
                        return (index, etag)
                    }
                }
                while let (done, etag) = try await group.next() { etags[done] = etag }
                return etags
            }
            try await completeMultipartUpload(
                key: destination,
                uploadId: uploadId,
                parts: etags.enumerated().map { ($0.offset + 1, $0.element) }
            )
        } catch {
            if let failure = await abortMultipartUpload(key: destination, uploadId: uploadId) {
                throw ExportError.sink(
                    "\(S3Sink.exportError(error)); AbortMultipartUpload failed too (\(failure)); upload id \(uploadId) remains"
                )
            }
            throw error
        }
    }

    /// UploadPartCopy of bytes `range` of `source`; returns the part's ETag (from the XML body).
    func uploadPartCopy(
        from source: String,
        to destination: String,
        uploadId: String,
        number: Int,
        range: Range<Int>
    ) async throws -> String {
        let response = try await send(
            "UploadPartCopy \(number) from s3://\(bucket)/\(source)",
            method: .PUT,
            key: destination,
            query: [("partNumber", String(number)), ("uploadId", uploadId)],
            headers: [
                ("x-amz-copy-source", copySource(key: source)),
                ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"),
            ],
            embeddedErrorIn200: true
        )
        guard let etag = S3XML.firstValue(of: "ETag", in: response.bodyText) ?? response.headers.first(name: "etag"),
            !etag.isEmpty
        else {
            throw ExportError.sink("S3 UploadPartCopy \(number) s3://\(bucket)/\(destination) answered without an ETag")
        }
        return etag
    }

    /// Every key under `prefix` (ListObjectsV2, following continuation tokens).
    func listKeys(prefix: String) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(
                "ListObjectsV2",
                method: .GET,
                key: nil,
                query: query,
                maxResponseBytes: 16 << 20
            )
            let text = response.bodyText
            keys += S3XML.allValues(of: "Key", in: text)
            token =
                S3XML.firstValue(of: "IsTruncated", in: text) == "true"
                ? S3XML.firstValue(of: "NextContinuationToken", in: text) : nil
        } while token != nil
        return keys
    }
}
