import ArgumentParser
import ExportCore
import ExportS3
import ExportServer

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `backtest-export serve`: the Amazon Forecast job API (JSON 1.1) for boto3 and the AWS CLI.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract:
            "Serve Amazon Forecast's predictor backtest export job API (boto3 and the AWS CLI with --endpoint-url)."
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "Where the job database lives (created if missing).")
    var stateDir = "backtest-export-state"

    @Option(help: "Without an S3 endpoint in the environment, s3://b/p is written to <bucket-root>/b/p.")
    var bucketRoot = "backtest-export-buckets"

    @Option(
        name: .customLong("predictor"),
        help: "A predictor: NAME=FILE[,history=FILE][,frequency=F] (repeatable). Its ARN is …:predictor/NAME."
    )
    var predictorSpecs: [String] = []

    @Option(
        name: .customLong("predictors"),
        help: "A JSON file of predictors: [{\"name\": …, \"input\": …, \"history\": …, \"frequency\": …}]."
    )
    var predictorsFile: String?

    @Option(help: "The region in ARNs and in the signature scope.")
    var region = "us-east-1"

    @Option(help: "The account id in ARNs.")
    var accountId = "123456789012"

    @Option(help: "Exports running at once (Forecast's quota is 3).")
    var maxRunning = 3

    @Option(help: "A file in the ~/.aws/credentials format: every key pair in it may sign requests.")
    var credentials: String?

    @Flag(help: "Accept requests without a valid SigV4 signature (local experiments only).")
    var allowUnsigned = false

    func run() async throws {
        guard (1...64).contains(maxRunning) else {
            throw ExportError.validation("Invalid --max-running \(maxRunning): use 1 to 64")
        }
        guard (0...65535).contains(port) else { throw ExportError.validation("Invalid --port \(port)") }
        guard region.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || isalnum(Int32($0)) != 0 }), !region.isEmpty else {
            throw ExportError.validation("Invalid --region '\(region)'")
        }
        guard accountId.utf8.count == 12, accountId.utf8.allSatisfy({ isdigit(Int32($0)) != 0 }) else {
            throw ExportError.validation("Invalid --account-id '\(accountId)': 12 digits")
        }
        var predictors = try predictorSpecs.map(Self.parsePredictor)
        if let predictorsFile { predictors += try Self.readPredictors(predictorsFile) }
        var seen = Set<String>()
        for predictor in predictors {
            guard seen.insert(predictor.name).inserted else {
                throw ExportError.validation("Predictor '\(predictor.name)' is given twice")
            }
        }
        let environment = S3Configuration.processEnvironment()
        let keys = try signingCredentials(environment)
        let s3 = try Self.s3Configuration(environment)
        try Self.makeDirectories(stateDir)
        let server = ForecastServer(
            configuration: ForecastServer.Configuration(
                host: host,
                port: port,
                stateDirectory: stateDir,
                names: ResourceNames(region: region, accountId: accountId),
                predictors: predictors,
                maxRunning: maxRunning,
                credentials: keys,
                allowUnsigned: allowUnsigned
            ),
            executor: BacktestJobExecutor(bucketRoot: bucketRoot, s3: s3)
        )
        if allowUnsigned {
            printError("warning: --allow-unsigned: requests are NOT authenticated; anyone who can connect can run jobs")
        }
        printError(
            "serving \(predictors.count) predictor(s); jobs in \(stateDir)/jobs.sqlite; destinations "
                + (s3.map { "on S3 at \($0.endpoint?.description ?? "AWS")" } ?? "under \(bucketRoot)/")
        )
        try await server.run { host, port in
            print("listening on http://\(host):\(port)")
            fflush(nil)  // stdout is a pipe for scripts waiting on this line
        }
    }

    /// The key pairs whose signatures are accepted: the AWS environment variables, then every
    /// profile of `--credentials`. Empty only with `--allow-unsigned`.
    private func signingCredentials(_ environment: [String: String]) throws -> [S3Credentials] {
        var keys: [S3Credentials] = []
        if let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !id.isEmpty,
            !secret.isEmpty
        {
            keys.append(S3Credentials(accessKeyId: id, secretAccessKey: secret))
        }
        if let path = credentials {
            guard let text = AWSSharedConfigFile.readFile(atPath: path) else {
                throw ExportError.validation("Cannot read --credentials \(path)")
            }
            for (_, section) in AWSSharedConfigFile(parsing: text).sections.sorted(by: { $0.key < $1.key }) {
                if let id = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] {
                    keys.append(S3Credentials(accessKeyId: id, secretAccessKey: secret))
                }
            }
            guard !keys.isEmpty else {
                throw ExportError.validation(
                    "--credentials \(path) has no aws_access_key_id/aws_secret_access_key pair"
                )
            }
        }
        guard !keys.isEmpty || allowUnsigned else {
            throw ExportError.validation(
                "No credentials to check request signatures: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                    + "pass --credentials FILE, or --allow-unsigned for local experiments"
            )
        }
        return keys
    }

    /// S3 settings when the environment names an S3 endpoint (`AWS_ENDPOINT_URL_S3`, …), else nil.
    static func s3Configuration(_ environment: [String: String]) throws -> S3Configuration? {
        let named = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"].contains { !(environment[$0] ?? "").isEmpty }
        guard named else { return nil }
        let configuration = try S3Configuration.fromEnvironment(environment)
        guard configuration.endpoint != nil else { return nil }
        return configuration
    }

    /// `NAME=FILE[,history=FILE][,frequency=F]`.
    static func parsePredictor(_ spec: String) throws -> Predictor {
        guard let eq = spec.firstIndex(of: "=") else {
            throw ExportError.validation("Invalid --predictor '\(spec)': use NAME=FILE[,history=FILE][,frequency=F]")
        }
        let name = String(spec[..<eq])
        let fields = spec[spec.index(after: eq)...].split(separator: ",", omittingEmptySubsequences: false)
        var history: String?
        var frequency: String?
        for field in fields.dropFirst() {
            if field.hasPrefix("history=") {
                history = String(field.dropFirst(8))
            } else if field.hasPrefix("frequency=") {
                frequency = String(field.dropFirst(10))
            } else {
                throw ExportError.validation("Invalid --predictor '\(spec)': unknown option '\(field)'")
            }
        }
        return try makePredictor(
            name: name,
            input: fields.first.map { String($0) } ?? "",
            history: history,
            frequency: frequency
        )
    }

    static func makePredictor(name: String, input: String, history: String?, frequency: String?) throws -> Predictor {
        do {
            _ = try JobName(name)  // the model's Name shape, as predictor names are
        } catch {
            throw ExportError.validation("Invalid predictor name '\(name)': \(JobName.rule)")
        }
        var parsedFrequency: Frequency?
        if let frequency {
            guard let value = Frequency(parsing: frequency) else {
                throw ExportError.validation(
                    "Invalid frequency '\(frequency)' of predictor \(name): use Y, M, W, D, H, 30min, 15min, 10min, 5min or 1min"
                )
            }
            parsedFrequency = value
        }
        return Predictor(
            name: name,
            input: try absolute(input, of: name),
            history: try history.map { try absolute($0, of: name) },
            frequency: parsedFrequency
        )
    }

    /// The file's absolute path; it must exist now.
    static func absolute(_ path: String, of predictor: String) throws -> String {
        guard !path.isEmpty, let resolved = realpath(path, nil) else {
            throw ExportError.validation("Predictor \(predictor): cannot find the file '\(path)'")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    struct PredictorEntry: Decodable {
        var name: String
        var input: String
        var history: String?
        var frequency: String?
    }

    static func readPredictors(_ path: String) throws -> [Predictor] {
        guard let text = AWSSharedConfigFile.readFile(atPath: path) else {
            throw ExportError.validation("Cannot read --predictors \(path)")
        }
        let entries: [PredictorEntry]
        do {
            entries = try JSONDecoder().decode([PredictorEntry].self, from: Data(text.utf8))
        } catch {
            throw ExportError.validation(
                "--predictors \(path) must be a JSON array of {\"name\", \"input\", \"history\"?, \"frequency\"?}: \(error)"
            )
        }
        return try entries.map {
            try makePredictor(name: $0.name, input: $0.input, history: $0.history, frequency: $0.frequency)
        }
    }

    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw ExportError.validation("Cannot create --state-dir \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
