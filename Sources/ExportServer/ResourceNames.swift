/// The ARN forms of one server (region and account fixed at start):
/// `arn:aws:forecast:<region>:<account>:predictor/<Name>` and
/// `arn:aws:forecast:<region>:<account>:predictor-backtest-export-job/<Predictor>/<Job>`.
public struct ResourceNames: Sendable, Equatable {
    public var region: String
    public var accountId: String

    public init(region: String, accountId: String) {
        self.region = region
        self.accountId = accountId
    }

    private var prefix: String { "arn:aws:forecast:\(region):\(accountId):" }

    public func predictorArn(_ name: String) -> String { prefix + "predictor/" + name }

    public func jobArn(predictor: String, job: String) -> String {
        prefix + "predictor-backtest-export-job/" + predictor + "/" + job
    }

    /// The predictor name of a predictor ARN of this server, or nil.
    public func predictorName(fromArn arn: String) -> String? {
        guard arn.hasPrefix(prefix + "predictor/") else { return nil }
        let name = arn.dropFirst(prefix.count + "predictor/".count)
        return name.isEmpty || name.contains("/") ? nil : String(name)
    }

    /// The (predictor, job) names of a job ARN of this server, or nil.
    public func jobNames(fromArn arn: String) -> (predictor: String, job: String)? {
        let head = prefix + "predictor-backtest-export-job/"
        guard arn.hasPrefix(head) else { return nil }
        let parts = arn.dropFirst(head.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
