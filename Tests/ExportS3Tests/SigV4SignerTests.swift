import ExportCore
import Testing

@testable import ExportS3

/// The signer against the AWS-published SigV4 examples (S3 API Reference, "Examples: Signature
/// Calculations" and "Authenticating Requests: Using Query Parameters"; generic suite for key
/// derivation, session token and query order), values as copied in research/s3.md §A1.
@Suite struct SigV4SignerTests {
    static let s3Credentials = S3Credentials(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )
    static let may24 = SigV4Signer.Timestamp(epochSeconds: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let host = "examplebucket.s3.amazonaws.com"
    let signer = SigV4Signer(credentials: s3Credentials, region: "us-east-1")

    @Test func timestampFormatsAmzDate() {
        #expect(Self.may24.amzDate == "20130524T000000Z")
        #expect(Self.may24.dateStamp == "20130524")
        #expect(SigV4Signer.Timestamp(epochSeconds: 1_440_938_160).amzDate == "20150830T123600Z")
    }

    @Test func signingKeyMatchesPublishedDerivation() {
        let key = signer.signingKey(dateStamp: "20130524").withUnsafeBytes { Hex.encode($0) }
        #expect(key == "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378")
    }

    @Test func getObjectWithRange() {
        let s = signer.sign(
            method: "GET",
            encodedPath: "/test.txt",
            headers: [("Host", Self.host), ("Range", "bytes=0-9")],
            payloadHash: SigV4Signer.emptyPayloadHash,
            timestamp: Self.may24
        )
        #expect(
            s.canonicalRequest == """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """
        )
        #expect(
            s.stringToSign
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        )
        #expect(s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        #expect(
            s.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test func putObjectWithDollarInKey() {
        let path = "/" + S3URIEncoding.encodePath("test$file.text")
        #expect(path == "/test%24file.text")
        let body = Array("Welcome to Amazon S3.".utf8)
        let hash = Hex.encode(SHA256.hash(data: body))
        #expect(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let s = signer.sign(
            method: "PUT",
            encodedPath: path,
            headers: [
                ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("Host", Self.host),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ],
            payloadHash: hash,
            timestamp: Self.may24
        )
        #expect(s.signedHeaders == "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
        #expect(s.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func getBucketLifecycleSubresource() {
        let s = signer.sign(
            method: "GET",
            encodedPath: "/",
            query: [("lifecycle", "")],
            headers: [("Host", Self.host)],
            payloadHash: SigV4Signer.emptyPayloadHash,
            timestamp: Self.may24
        )
        #expect(s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "lifecycle=")
        #expect(s.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjectsQuerySorted() {
        let s = signer.sign(
            method: "GET",
            encodedPath: "/",
            query: [("prefix", "J"), ("max-keys", "2")],
            headers: [("Host", Self.host)],
            payloadHash: SigV4Signer.emptyPayloadHash,
            timestamp: Self.may24
        )
        #expect(s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2] == "max-keys=2&prefix=J")
        #expect(s.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func presignedGet() {
        let (query, signature) = signer.presignedQuery(
            method: "GET",
            encodedPath: "/test.txt",
            host: Self.host,
            expiresSeconds: 86_400,
            timestamp: Self.may24
        )
        #expect(signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
        #expect(
            query
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }

    // Generic suite (service "service", no x-amz-content-sha256 header).
    static let genericCredentials = S3Credentials(
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    static let aug30 = SigV4Signer.Timestamp(epochSeconds: 1_440_938_160)

    @Test func genericGetVanilla() {
        let s = SigV4Signer(credentials: Self.genericCredentials, region: "us-east-1", service: "service").sign(
            method: "GET",
            encodedPath: "/",
            headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash,
            timestamp: Self.aug30
        )
        #expect(s.signedHeaders == "host;x-amz-date")
        #expect(s.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func genericSessionTokenIsSentAndSigned() {
        var credentials = Self.genericCredentials
        credentials.sessionToken = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
        let s = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service").sign(
            method: "GET",
            encodedPath: "/",
            headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash,
            timestamp: Self.aug30
        )
        #expect(s.signedHeaders == "host;x-amz-date;x-amz-security-token")
        #expect(s.headersToAdd.contains { $0.name == "x-amz-security-token" && $0.value == credentials.sessionToken })
        #expect(s.signature == "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8")
    }

    @Test func genericQueryOrderKeyCase() {
        let s = SigV4Signer(credentials: Self.genericCredentials, region: "us-east-1", service: "service").sign(
            method: "GET",
            encodedPath: "/",
            query: [("Param2", "value2"), ("Param1", "value1")],
            headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash,
            timestamp: Self.aug30
        )
        #expect(
            s.canonicalRequest.split(separator: "\n", omittingEmptySubsequences: false)[2]
                == "Param1=value1&Param2=value2"
        )
        #expect(s.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func s3AddsContentSHA256AndSessionToken() {
        var credentials = Self.s3Credentials
        credentials.sessionToken = "token/with+chars"
        let s = SigV4Signer(credentials: credentials, region: "eu-west-1").sign(
            method: "PUT",
            encodedPath: "/b/k",
            headers: [("host", "h")],
            payloadHash: SigV4Signer.unsignedPayload,
            timestamp: Self.may24
        )
        #expect(s.signedHeaders == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
        #expect(s.canonicalRequest.hasSuffix("\nUNSIGNED-PAYLOAD"))
        #expect(s.canonicalRequest.contains("x-amz-security-token:token/with+chars\n"))
        #expect(s.stringToSign.contains("20130524/eu-west-1/s3/aws4_request"))
    }

    @Test func headerValuesTrimmedAndSpacesCollapsed() {
        let (block, signed) = SigV4Signer.canonicalHeaders([
            ("X-Amz-Meta-B", "  a   b  c "), ("Host", "h"), ("x-amz-meta-a", "1"), ("X-AMZ-META-A", "2"),
        ])
        #expect(block == "host:h\nx-amz-meta-a:1,2\nx-amz-meta-b:a b c\n")
        #expect(signed == "host;x-amz-meta-a;x-amz-meta-b")
    }

    @Test func canonicalQueryEncodesAndSorts() {
        let q = SigV4Signer.canonicalQueryString([
            ("uploadId", "abc/def+1="), ("partNumber", "10"), ("uploads", ""), ("a b", "x y"),
        ])
        #expect(q == "a%20b=x%20y&partNumber=10&uploadId=abc%2Fdef%2B1%3D&uploads=")
    }
}

@Suite struct S3URIEncodingTests {
    @Test(arguments: [
        ("a b", "a%20b"), ("+", "%2B"), ("=", "%3D"), ("&", "%26"), ("*", "%2A"), ("'", "%27"), ("(", "%28"),
        (")", "%29"), ("!", "%21"), ("@", "%40"), ("$", "%24"), (":", "%3A"), (",", "%2C"), (";", "%3B"),
        ("~-_.", "~-_."), ("AZaz09", "AZaz09"), ("é", "%C3%A9"), ("日", "%E6%97%A5"), ("a//b", "a//b"),
        ("dir/file.csv", "dir/file.csv"), ("%", "%25"),
    ])
    func pathEncoding(raw: String, encoded: String) {
        #expect(S3URIEncoding.encodePath(raw) == encoded)
    }

    @Test func publishedAwkwardKey() {
        #expect(
            "/bucket/" + S3URIEncoding.encodePath("raw/dir/a b+c=d&e~f*g'h(i)!@$é.csv")
                == "/bucket/raw/dir/a%20b%2Bc%3Dd%26e~f%2Ag%27h%28i%29%21%40%24%C3%A9.csv"
        )
    }

    @Test func slashEncodedInQuery() {
        #expect(S3URIEncoding.encodeQueryComponent("a/b c") == "a%2Fb%20c")
    }
}
