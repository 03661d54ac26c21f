import ExportCore
import ExportS3
import ExportServer
import Testing

/// The protocol layer: signatures, headers and bodies, each refusal a 400 with a JSON `__type`.
@Suite struct ForecastAPITests {
    static let key = S3Credentials(
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )
    static let now: Int64 = CivilTime(year: 2026, month: 11, day: 30, hour: 15, minute: 39, second: 3).epochSeconds
    let directory = temporaryDirectory()
    /// SHA-256 of the bodies below (Python's hashlib), so the signatures need no hash here.
    static let bodyHashes = [
        "{}": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "{not json": "92072df399cb74703f8e86f450d552bc0bb01eeeb98a90985a1b7772c8fd0016",
        "[1]": "080a9ed428559ef602668b4c00f114f1a11c3f6b02a435f0bdc154578e4d7f22",
        #"{"MaxResults":"x"}"#: "720ecb2f7a1189c7245fca6af9ae7e505514eeaea310df74d7039748cd09fb0e",
    ]

    func makeAPI(signed: Bool = true) throws -> ForecastAPI {
        let service = JobService(
            store: try JobStore(path: directory + "/jobs.sqlite"),
            names: ResourceNames(region: "us-east-1", accountId: "123456789012"),
            predictors: [Predictor(name: "P", input: "/dev/null")],
            executor: ScriptedExecutor()
        )
        let verifier = signed ? SigV4Verifier(credentials: [Self.key], region: "us-east-1", service: "forecast") : nil
        return ForecastAPI(service: service, verifier: verifier, clock: { Double(Self.now) })
    }

    /// A request signed as boto3 signs it (content-type, host, x-amz-date, x-amz-target).
    static func signed(
        target: String?,
        body: String,
        contentType: String = "application/x-amz-json-1.1",
        key: S3Credentials = ForecastAPITests.key
    ) -> ForecastAPI.Request {
        var headers: [(name: String, value: String)] = [("Content-Type", contentType), ("Host", "127.0.0.1:8123")]
        if let target { headers.append(("X-Amz-Target", target)) }
        let signer = SigV4Signer(credentials: key, region: "us-east-1", service: "forecast")
        let signature = signer.sign(
            method: "POST",
            encodedPath: "/",
            headers: headers,
            payloadHash: bodyHashes[body]!,
            timestamp: SigV4Signer.Timestamp(epochSeconds: now)
        )
        return ForecastAPI.Request(
            method: "POST",
            path: "/",
            headers: headers + signature.headersToAdd,
            body: Array(body.utf8)
        )
    }

    func errorType(_ response: ForecastAPI.Response) -> String? {
        let text = String(decoding: response.body, as: UTF8.self)
        guard let range = text.range(of: #""__type":""#) else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func aSignatureMadeByBotocoreIsAccepted() async throws {
        // Captured from botocore's SigV4Auth (service forecast, region us-east-1).
        let body =
            #"{"PredictorBacktestExportJobArn": "arn:aws:forecast:us-east-1:123456789012:predictor-backtest-export-job/P/J"}"#
        let request = ForecastAPI.Request(
            method: "POST",
            path: "/",
            headers: [
                ("Content-Type", "application/x-amz-json-1.1"),
                ("X-Amz-Target", "AmazonForecast.DescribePredictorBacktestExportJob"),
                ("X-Amz-Date", "20261130T153903Z"), ("host", "127.0.0.1:8123"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261130/us-east-1/forecast/aws4_request, "
                        + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
                        + "Signature=f3b309db1ca343910a5796ea09341412c95e24ded4b041446013862b27fde66e"
                ),
            ],
            body: Array(body.utf8)
        )
        let response = await (try makeAPI()).handle(request)
        // Authenticated: the job does not exist, which only an authenticated caller learns.
        #expect(errorType(response) == "ResourceNotFoundException")
        var tampered = request
        tampered.body = Array(body.replacing("/J\"", with: "/K\"").utf8)
        #expect(errorType(await (try makeAPI()).handle(tampered)) == "InvalidSignatureException")
    }

    @Test func signaturesAreChecked() async throws {
        let api = try makeAPI()
        let good = Self.signed(target: "AmazonForecast.ListPredictorBacktestExportJobs", body: "{}")
        #expect(await api.handle(good).status == 200)
        let wrongSecret = Self.signed(
            target: "AmazonForecast.ListPredictorBacktestExportJobs",
            body: "{}",
            key: S3Credentials(accessKeyId: Self.key.accessKeyId, secretAccessKey: "not-the-secret")
        )
        let refused = await api.handle(wrongSecret)
        #expect(refused.status == 400)
        #expect(errorType(refused) == "InvalidSignatureException")
        #expect(!String(decoding: refused.body, as: UTF8.self).contains(Self.key.secretAccessKey))
        let unknownKey = Self.signed(
            target: "AmazonForecast.ListPredictorBacktestExportJobs",
            body: "{}",
            key: S3Credentials(accessKeyId: "AKIDOTHER", secretAccessKey: "x")
        )
        #expect(errorType(await api.handle(unknownKey)) == "UnrecognizedClientException")
        var unsigned = good
        unsigned.headers.removeAll { $0.name == "authorization" }
        #expect(errorType(await api.handle(unsigned)) == "MissingAuthenticationTokenException")
    }

    @Test func malformedRequestsGetA400() async throws {
        let api = try makeAPI()
        let cases: [(ForecastAPI.Request, String)] = [
            (
                Self.signed(target: "AmazonForecast.ListPredictorBacktestExportJobs", body: "{not json"),
                "SerializationException"
            ),
            (
                Self.signed(target: "AmazonForecast.ListPredictorBacktestExportJobs", body: "[1]"),
                "SerializationException"
            ),
            (
                Self.signed(target: "AmazonForecast.ListPredictorBacktestExportJobs", body: #"{"MaxResults":"x"}"#),
                "SerializationException"
            ),
            (Self.signed(target: nil, body: "{}"), "UnknownOperationException"),
            (Self.signed(target: "AmazonForecast.DeleteDataset", body: "{}"), "UnknownOperationException"),
            (Self.signed(target: "AmazonS3.ListBuckets", body: "{}"), "UnknownOperationException"),
            (
                Self.signed(
                    target: "AmazonForecast.ListPredictorBacktestExportJobs",
                    body: "{}",
                    contentType: "application/json"
                ),
                "SerializationException"
            ),
        ]
        for (request, expected) in cases {
            let response = await api.handle(request)
            #expect(response.status == 400)
            #expect(errorType(response) == expected)
        }
        var large = Self.signed(target: "AmazonForecast.ListPredictorBacktestExportJobs", body: "{}")
        large.bodyTooLarge = true
        large.body = []
        #expect(await api.handle(large).status == 400)
    }

    @Test func operationsWithoutOutputAnswerAnEmptyBody() async throws {
        let api = try makeAPI(signed: false)
        let create = ForecastAPI.Request(
            method: "POST",
            path: "/",
            headers: [
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "AmazonForecast.CreatePredictorBacktestExportJob"),
            ],
            body: Array(
                #"""
                {"PredictorBacktestExportJobName":"J","PredictorArn":"arn:aws:forecast:us-east-1:123456789012:predictor/P",
                 "Destination":{"S3Config":{"Path":"s3://b/p","RoleArn":"arn:aws:iam::1:role/r"}}}
                """#.utf8
            )
        )
        let created = await api.handle(create)
        #expect(created.status == 200)
        #expect(
            String(decoding: created.body, as: UTF8.self).contains(
                "arn:aws:forecast:us-east-1:123456789012:predictor-backtest-export-job/P/J"
            )
        )
        var stop = create
        stop.headers[1].value = "AmazonForecast.StopResource"
        stop.body = Array(
            #"{"ResourceArn":"arn:aws:forecast:us-east-1:123456789012:predictor-backtest-export-job/P/J"}"#.utf8
        )
        let stopped = await api.handle(stop)
        #expect(stopped.status == 200)
        #expect(stopped.body.isEmpty)
    }
}
