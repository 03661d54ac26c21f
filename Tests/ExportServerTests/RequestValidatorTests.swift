import ExportServer
import Testing

@Suite struct RequestValidatorTests {
    func message(_ body: () throws -> Void) -> ForecastError? {
        do {
            try body()
            return nil
        } catch {
            return error as? ForecastError ?? ForecastError("NotAForecastError", "\(error)")
        }
    }

    @Test func namesFollowTheModel() throws {
        #expect(try RequestValidator.name("a_1", member: "N") == "a_1")
        #expect(try RequestValidator.name(String(repeating: "a", count: 63), member: "N").count == 63)
        for bad in ["", "1abc", "_a", "a-b", "a b", String(repeating: "a", count: 64), "é"] {
            let error = message { _ = try RequestValidator.name(bad, member: "PredictorBacktestExportJobName") }
            #expect(error?.type == "InvalidInputException")
            #expect(error?.message.contains("PredictorBacktestExportJobName") == true)
        }
        #expect(message { _ = try RequestValidator.name(nil, member: "X") }?.message == "X is required")
    }

    @Test func arnsFollowTheModel() throws {
        _ = try RequestValidator.forecastArn("arn:aws:forecast:us-east-1:123456789012:predictor/P", member: "A")
        _ = try RequestValidator.forecastArn("arn:aws-cn:forecast:r:a:x", member: "A")
        for bad in [
            "arn:aws:s3:::bucket", "arn:AWS:forecast:r:a:x", "arn:aws:forecast:r:a:", "x", "arn::forecast:r:a:x",
            "arn:aws:forecast:r:a:" + String(repeating: "x", count: 240),
        ] {
            #expect(
                message { _ = try RequestValidator.forecastArn(bad, member: "PredictorArn") }?.type
                    == "InvalidInputException"
            )
        }
    }

    @Test func destinationsFollowTheModel() throws {
        #expect(try RequestValidator.s3Path("s3://b/p") == "s3://b/p")
        for bad in ["s3://B/p", "s3://", "s3:/b/p", "http://b/p", "s3://-", String(repeating: "x", count: 4097)] {
            #expect(message { _ = try RequestValidator.s3Path(bad) }?.type == "InvalidInputException")
        }
        #expect(try RequestValidator.kmsKeyArn(nil) == nil)
        _ = try RequestValidator.kmsKeyArn("arn:aws:kms:us-east-1:123456789012:key/abc")
        #expect(message { _ = try RequestValidator.kmsKeyArn("alias/x") }?.type == "InvalidInputException")
        #expect(message { _ = try RequestValidator.roleArn(nil) }?.message == "RoleArn is required")
    }

    @Test func formatIsExactlyCSVOrParquet() throws {
        #expect(try RequestValidator.format(nil) == "CSV")
        #expect(try RequestValidator.format("PARQUET") == "PARQUET")
        for bad in ["csv", "parquet", "CSV|PARQUET", "JSON", ""] {
            #expect(message { _ = try RequestValidator.format(bad) }?.message.contains("Format") == true)
        }
    }

    @Test func tagsFollowTheModel() throws {
        typealias Tag = ForecastShapes.Tag
        let ok = try RequestValidator.tags(
            [Tag(Key: "Team name", Value: "Früh_1.2:/=+-@"), Tag(Key: "k", Value: "")],
            required: true
        )
        #expect(ok.map { $0.key } == ["Team name", "k"])
        let reserved = message { _ = try RequestValidator.tags([Tag(Key: "aws:x", Value: "v")], required: true) }
        #expect(reserved?.message.contains("reserved") == true)
        #expect(message { _ = try RequestValidator.tags([Tag(Key: "", Value: "v")], required: true) } != nil)
        #expect(message { _ = try RequestValidator.tags([Tag(Key: "a#b", Value: "v")], required: true) } != nil)
        #expect(message { _ = try RequestValidator.tags([Tag(Key: "k", Value: "v;")], required: true) } != nil)
        #expect(message { _ = try RequestValidator.tags([Tag(Key: "k", Value: nil)], required: true) } != nil)
        let long = String(repeating: "k", count: 129)
        #expect(message { _ = try RequestValidator.tags([Tag(Key: long, Value: "v")], required: true) } != nil)
        #expect(message { _ = try RequestValidator.tags(nil, required: true) }?.message == "Tags is required")
        #expect(try RequestValidator.tags(nil, required: false).isEmpty)
    }

    @Test func listInputsFollowTheModel() throws {
        #expect(try RequestValidator.maxResults(nil) == 100)
        #expect(message { _ = try RequestValidator.maxResults(0) } != nil)
        #expect(message { _ = try RequestValidator.maxResults(101) } != nil)
        let filters = try RequestValidator.filters([
            ForecastShapes.Filter(Key: "Status", Value: "ACTIVE", Condition: "IS_NOT")
        ])
        #expect(filters == [JobFilter(field: .status, value: "ACTIVE", negated: true)])
        #expect(message { _ = try RequestValidator.filters([.init(Key: "Name", Value: "x", Condition: "IS")]) } != nil)
        #expect(
            message { _ = try RequestValidator.filters([.init(Key: "Status", Value: "x", Condition: "LIKE")]) } != nil
        )
    }
}
