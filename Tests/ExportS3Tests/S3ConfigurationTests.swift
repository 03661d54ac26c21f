import ExportCore
import Testing

@testable import ExportS3

@Suite struct S3LocationTests {
    @Test(arguments: [
        ("s3://my-bucket", "my-bucket", ""), ("s3://my-bucket/", "my-bucket", ""),
        ("s3://my-bucket/exports", "my-bucket", "exports"), ("s3://my-bucket/exports/", "my-bucket", "exports"),
        ("s3://my.bucket.1/a/b/c//", "my.bucket.1", "a/b/c"),
    ])
    func parses(uri: String, bucket: String, prefix: String) throws {
        let location = try S3Location(parsing: uri)
        #expect(location.bucket == bucket)
        #expect(location.prefix == prefix)
    }

    @Test func keysJoinWithExactlyOneSlash() throws {
        #expect(try S3Location(parsing: "s3://bkt/p/").key(for: "_SUCCESS") == "p/_SUCCESS")
        #expect(
            try S3Location(parsing: "s3://bkt/p").key(for: "forecasted-values/a.csv") == "p/forecasted-values/a.csv"
        )
        #expect(try S3Location(parsing: "s3://bkt").key(for: "_CHECK") == "_CHECK")
        #expect(try S3Location(parsing: "s3://bkt/p/").description == "s3://bkt/p/")
        #expect(try S3Location(parsing: "s3://bkt").description == "s3://bkt/")
    }

    @Test(arguments: [
        ("bucket/prefix", "must start with 's3://'"), ("s3://", "no bucket name"), ("s3:///prefix", "no bucket name"),
        ("s3://ab", "3 to 63 characters"), ("s3://My_Bucket", "only lower-case letters"),
        ("s3://-bucket", "start and end with a letter or digit"), ("s3://a..b", "must not contain '..'"),
        ("s3://bucket//x", "must not start with '/'"), ("s3://bucket/a//b", "empty folder"),
        ("http://bucket/x", "must start with 's3://'"),
    ])
    func rejects(uri: String, reason: String) {
        #expect {
            try S3Location(parsing: uri)
        } throws: { error in
            guard let error = error as? ExportError else { return false }
            return error.code == .validation && error.message.contains(reason)
                && error.message.contains(uri.isEmpty ? "" : "'")
        }
    }
}

@Suite struct S3EndpointTests {
    @Test func parsesHostAndPort() throws {
        let e = try S3Endpoint(parsing: "http://127.0.0.1:18333")
        #expect(!e.useTLS && e.host == "127.0.0.1" && e.port == 18333 && e.hostHeader == "127.0.0.1:18333")
        let d = try S3Endpoint(parsing: "https://s3.example.com/")
        #expect(d.useTLS && d.hostHeader == "s3.example.com")
        #expect(try S3Endpoint(parsing: "https://h:443").hostHeader == "h")
        #expect(try S3Endpoint(parsing: "http://[::1]:9000").hostHeader == "[::1]:9000")
    }

    @Test(arguments: ["ftp://h", "http://", "http://h:0", "http://h:x", "http://h/path", "http://u:p@h"])
    func rejects(url: String) {
        #expect(throws: ExportError.self) { try S3Endpoint(parsing: url) }
    }
}

@Suite struct S3ConfigurationTests {
    static let files: [String: String] = [
        "/home/u/.aws/credentials": """
        # comment
        [default]
        aws_access_key_id = DEFAULTKEY
        aws_secret_access_key = defaultSecret/abc+def

        [ci]
        aws_access_key_id=CIKEY
        aws_secret_access_key=ciSecret
        aws_session_token = ciToken ; trailing comment
        """,
        "/home/u/.aws/config": """
        [default]
        region = eu-west-2
        [profile ci]
        region = ap-south-1
        s3 =
          addressing_style = path
        endpoint_url = http://127.0.0.1:9000
        """,
    ]
    static func read(_ path: String) -> String? { files[path] }

    @Test func environmentCredentialsWin() throws {
        let c = try S3Configuration.fromEnvironment(
            [
                "HOME": "/home/u", "AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "envSecret",
                "AWS_SESSION_TOKEN": "envToken", "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "xx",
            ],
            readFile: Self.read
        )
        #expect(
            c.credentials
                == S3Credentials(accessKeyId: "ENVKEY", secretAccessKey: "envSecret", sessionToken: "envToken")
        )
        #expect(c.region == "us-west-2")
        #expect(c.endpoint == nil)
        #expect(c.partSize == 8 * 1024 * 1024 && c.maxPartsInFlight == 4)
        let a = c.addressing(bucket: "bkt")
        #expect(a.host == "bkt.s3.us-west-2.amazonaws.com" && a.bucketPath == "" && a.scheme == "https")
        #expect(c.addressing(bucket: "my.bkt").host == "s3.us-west-2.amazonaws.com")
    }

    @Test func defaultProfileFromFiles() throws {
        let c = try S3Configuration.fromEnvironment(["HOME": "/home/u"], readFile: Self.read)
        #expect(c.credentials == S3Credentials(accessKeyId: "DEFAULTKEY", secretAccessKey: "defaultSecret/abc+def"))
        #expect(c.region == "eu-west-2")
    }

    @Test func namedProfileWithEndpointIsPathStyle() throws {
        let c = try S3Configuration.fromEnvironment(
            ["HOME": "/home/u", "AWS_PROFILE": "ci", "AWS_DEFAULT_REGION": "us-east-2"],
            readFile: Self.read
        )
        #expect(
            c.credentials == S3Credentials(accessKeyId: "CIKEY", secretAccessKey: "ciSecret", sessionToken: "ciToken")
        )
        #expect(c.region == "us-east-2")
        #expect(c.endpoint == S3Endpoint(useTLS: false, host: "127.0.0.1", port: 9000))
        let a = c.addressing(bucket: "bkt")
        #expect(a.host == "127.0.0.1:9000" && a.bucketPath == "/bkt" && a.scheme == "http")
    }

    @Test func endpointVariablesAndCustomFile() throws {
        let c = try S3Configuration.fromEnvironment(
            [
                "AWS_SHARED_CREDENTIALS_FILE": "/home/u/.aws/credentials", "AWS_PROFILE": "ci",
                "AWS_ENDPOINT_URL": "http://other:1", "AWS_ENDPOINT_URL_S3": "http://localhost:18333",
            ],
            readFile: Self.read
        )
        #expect(c.endpoint?.hostHeader == "localhost:18333")
        #expect(c.region == "us-east-1")  // custom endpoint, no region anywhere for this HOME-less env
        let ignored = try S3Configuration.fromEnvironment(
            [
                "AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL_S3": "http://localhost:18333", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
            ],
            readFile: { _ in nil }
        )
        #expect(ignored.endpoint == nil)
    }

    @Test func clearErrorsWithoutSecrets() {
        func message(_ env: [String: String]) -> String? {
            do {
                _ = try S3Configuration.fromEnvironment(env, readFile: Self.read)
                return nil
            } catch {
                #expect(error.code == .validation)
                return error.message
            }
        }
        #expect(message(["HOME": "/nowhere", "AWS_REGION": "r"])?.contains("no AWS credentials found") == true)
        let half = message(["AWS_SECRET_ACCESS_KEY": "topSecretValue", "AWS_REGION": "r"])
        #expect(half?.contains("both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") == true)
        #expect(half?.contains("topSecretValue") == false)
        #expect(message(["HOME": "/home/u", "AWS_PROFILE": "nope"])?.contains("profile 'nope'") == true)
        #expect(message(["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S"])?.contains("AWS_REGION") == true)
        #expect(
            message(["AWS_ACCESS_KEY_ID": "K", "AWS_SECRET_ACCESS_KEY": "S", "AWS_ENDPOINT_URL_S3": "localhost:9000"])?
                .contains("http:// or https://") == true
        )
    }

    @Test func validatesSizes() {
        let credentials = S3Credentials(accessKeyId: "K", secretAccessKey: "S")
        #expect(throws: ExportError.self) {
            try S3Configuration(region: "r", credentials: credentials, partSize: 5 * 1024 * 1024 - 1).validate()
        }
        #expect(throws: ExportError.self) {
            try S3Configuration(region: "r", credentials: credentials, maxPartsInFlight: 0).validate()
        }
        #expect(throws: ExportError.self) {
            try S3Configuration(
                region: "r",
                endpoint: S3Endpoint(useTLS: false, host: "h"),
                credentials: credentials,
                payloadSigning: .unsigned
            ).validate()
        }
        #expect(throws: Never.self) {
            try S3Configuration(region: "r", credentials: credentials, partSize: 5 * 1024 * 1024).validate()
        }
    }

    @Test func iniParsing() {
        let file = AWSSharedConfigFile(
            parsing: "[a]\r\nk = v\r\n;c\n[ b ]\nK2=v=2\n  nested = x\nk3 = x #c\n[broken\nk4=y\n"
        )
        #expect(file.sections["a"] == ["k": "v"])
        #expect(file.sections["b"] == ["k2": "v=2", "k3": "x"])
    }
}

@Suite struct RedactionTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let token = "FQoGZXIvYXdzEXAMPLETOKEN"
    static let credentials = S3Credentials(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: secret,
        sessionToken: token
    )

    @Test func descriptionsHideSecrets() {
        var dumped = ""
        dump(Self.credentials, to: &dumped)
        let configuration = S3Configuration(region: "us-east-1", credentials: Self.credentials)
        for text in [
            Self.credentials.description, Self.credentials.debugDescription, "\(Self.credentials)",
            String(reflecting: Self.credentials), dumped, configuration.description, "\(configuration)",
        ] {
            #expect(!text.contains(Self.secret), "\(text)")
            #expect(!text.contains(Self.token), "\(text)")
            #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"), "\(text)")
        }
        #expect(Self.credentials.description.contains("****************MPLE"))
    }

    @Test func serverTextIsScrubbed() {
        let failure = S3RequestFailure(
            operation: "PutObject",
            target: "s3://b/k",
            status: 403,
            code: "SignatureDoesNotMatch",
            message: Self.credentials.redacting("echo \(Self.secret) and \(Self.token)"),
            attempts: 1
        )
        let text = failure.exportError.description
        #expect(!text.contains(Self.secret) && !text.contains(Self.token))
        #expect(text.contains("SignatureDoesNotMatch") && text.contains("s3://b/k") && text.contains("HTTP 403"))
    }
}

@Suite struct S3XMLTests {
    @Test func parsesErrorsAndValues() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchUpload</Code><Message>The upload &amp; &lt;x&gt;</Message><RequestId>1</RequestId></Error>
            """
        #expect(S3XML.error(in: xml)?.code == "NoSuchUpload")
        #expect(S3XML.error(in: xml)?.message == "The upload & <x>")
        #expect(
            S3XML.error(
                in: "<CompleteMultipartUploadResult><ETag>&quot;a-2&quot;</ETag></CompleteMultipartUploadResult>"
            ) == nil
        )
        #expect(S3XML.firstValue(of: "ETag", in: "<ETag>&quot;a-2&quot;</ETag>") == "\"a-2\"")
        #expect(
            S3XML.allValues(of: "Key", in: "<Upload><Key>a</Key></Upload><Upload><Key>b</Key></Upload>") == ["a", "b"]
        )
        #expect(S3XML.escapeText("\"e&<>\"") == "\"e&amp;&lt;&gt;\"")
    }

    @Test func retryClassifier() {
        #expect(S3RetryPolicy.isRetryable(status: 500, code: "InternalError"))
        #expect(S3RetryPolicy.isRetryable(status: 503, code: "SlowDown"))
        #expect(S3RetryPolicy.isRetryable(status: 429, code: nil))
        #expect(S3RetryPolicy.isRetryable(status: 400, code: "RequestTimeout"))
        #expect(S3RetryPolicy.isThrottling(status: 503, code: "SlowDown"))
        #expect(!S3RetryPolicy.isRetryable(status: 403, code: "SignatureDoesNotMatch"))
        #expect(!S3RetryPolicy.isRetryable(status: 404, code: "NoSuchBucket"))
        #expect(!S3RetryPolicy.isRetryable(status: 400, code: "EntityTooSmall"))
        let policy = S3RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        for retry in 1...10 {
            let d = policy.delay(beforeRetry: retry, throttled: false)
            #expect(d >= .zero && d <= min(.milliseconds(100) * (1 << (retry - 1)), .seconds(1)))
        }
    }
}
