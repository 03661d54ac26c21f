/// The request and response shapes of the eight operations, member names as in the botocore
/// model. Every member is optional when decoding: ``RequestValidator`` says which are required,
/// so that a missing member is an `InvalidInputException` naming it, as the service answers.
public enum ForecastShapes {
    public struct S3Config: Codable, Sendable, Equatable {
        public var Path: String?
        public var RoleArn: String?
        public var KMSKeyArn: String?

        public init(Path: String?, RoleArn: String?, KMSKeyArn: String? = nil) {
            self.Path = Path
            self.RoleArn = RoleArn
            self.KMSKeyArn = KMSKeyArn
        }
    }

    public struct DataDestination: Codable, Sendable, Equatable {
        public var S3Config: S3Config?

        public init(S3Config: S3Config?) { self.S3Config = S3Config }
    }

    public struct Tag: Codable, Sendable, Equatable {
        public var Key: String?
        public var Value: String?

        public init(Key: String?, Value: String?) {
            self.Key = Key
            self.Value = Value
        }
    }

    public struct Filter: Codable, Sendable, Equatable {
        public var Key: String?
        public var Value: String?
        public var Condition: String?

        public init(Key: String?, Value: String?, Condition: String?) {
            self.Key = Key
            self.Value = Value
            self.Condition = Condition
        }
    }

    public struct CreateRequest: Codable, Sendable {
        public var PredictorBacktestExportJobName: String?
        public var PredictorArn: String?
        public var Destination: DataDestination?
        public var Tags: [Tag]?
        public var Format: String?

        public init(
            PredictorBacktestExportJobName: String?,
            PredictorArn: String?,
            Destination: DataDestination?,
            Tags: [Tag]? = nil,
            Format: String? = nil
        ) {
            self.PredictorBacktestExportJobName = PredictorBacktestExportJobName
            self.PredictorArn = PredictorArn
            self.Destination = Destination
            self.Tags = Tags
            self.Format = Format
        }
    }

    public struct CreateResponse: Codable, Sendable {
        public var PredictorBacktestExportJobArn: String
    }

    public struct JobArnRequest: Codable, Sendable {
        public var PredictorBacktestExportJobArn: String?

        public init(PredictorBacktestExportJobArn: String?) {
            self.PredictorBacktestExportJobArn = PredictorBacktestExportJobArn
        }
    }

    public struct DescribeResponse: Codable, Sendable {
        public var PredictorBacktestExportJobArn: String
        public var PredictorBacktestExportJobName: String
        public var PredictorArn: String
        public var Destination: DataDestination
        public var Message: String?
        public var Status: String
        public var CreationTime: Double
        public var LastModificationTime: Double
        public var Format: String
    }

    public struct ListRequest: Codable, Sendable {
        public var NextToken: String?
        public var MaxResults: Int?
        public var Filters: [Filter]?

        public init(NextToken: String? = nil, MaxResults: Int? = nil, Filters: [Filter]? = nil) {
            self.NextToken = NextToken
            self.MaxResults = MaxResults
            self.Filters = Filters
        }
    }

    public struct Summary: Codable, Sendable {
        public var PredictorBacktestExportJobArn: String
        public var PredictorBacktestExportJobName: String
        public var Destination: DataDestination
        public var Status: String
        public var Message: String?
        public var CreationTime: Double
        public var LastModificationTime: Double
    }

    public struct ListResponse: Codable, Sendable {
        public var PredictorBacktestExportJobs: [Summary]
        public var NextToken: String?
    }

    public struct ResourceArnRequest: Codable, Sendable {
        public var ResourceArn: String?

        public init(ResourceArn: String?) {
            self.ResourceArn = ResourceArn
        }
    }

    public struct TagResourceRequest: Codable, Sendable {
        public var ResourceArn: String?
        public var Tags: [Tag]?

        public init(ResourceArn: String?, Tags: [Tag]?) {
            self.ResourceArn = ResourceArn
            self.Tags = Tags
        }
    }

    public struct UntagResourceRequest: Codable, Sendable {
        public var ResourceArn: String?
        public var TagKeys: [String]?

        public init(ResourceArn: String?, TagKeys: [String]?) {
            self.ResourceArn = ResourceArn
            self.TagKeys = TagKeys
        }
    }

    public struct ListTagsResponse: Codable, Sendable {
        public var Tags: [Tag]
    }

    /// `{}`: TagResource and UntagResource.
    public struct Empty: Codable, Sendable {}
}
