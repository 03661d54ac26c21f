import ArgumentParser
import BacktestExport
import ExportCore
import ExportSinks

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `backtest-export` command line: argument parsing and composition only.
///
/// Exit status (SPEC §9): 0 on success, 2 for validation and input errors, 1 otherwise. With
/// `--json`, exactly one JSON object is printed on stdout, on success and on failure.
@main
struct BacktestExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest-export",
        abstract: "Write Amazon Forecast-compatible predictor backtest exports (CSV or Parquet, local disk or S3).",
        version: "0.1.0",
        subcommands: [ExportCommand.self, PlanCommand.self, CommitCommand.self, SampleCommand.self, ServeCommand.self],
        defaultSubcommand: nil
    )

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let json = arguments.contains("--json")
        do {
            var command = try parseAsRoot(arguments)
            try OpenFileLimit.ensure()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ExportError {
            fail(code: error.code.rawValue, message: error.description, status: error.exitStatus, json: json)
        } catch {
            let exitCode = Self.exitCode(for: error)
            if exitCode == .success {
                Self.exit(withError: error)  // --help, --version
            }
            let message = Self.message(for: error)
            fail(
                code: ExportError.Code.validation.rawValue,
                message: "Invalid request parameters: \(message)",
                status: 2,
                json: json,
                usage: json ? nil : fullMessage(for: error)
            )
        }
    }

    /// Prints the failure and exits with `status`, first removing the temporary files a task
    /// still running might hold (a grouper's spill runs while it reads its input).
    static func fail(code: String, message: String, status: Int32, json: Bool, usage: String? = nil) -> Never {
        TemporaryFiles.removeAll()
        if json {
            print(JSONOutput.failure(code: code, message: message))
        } else {
            // A progress line may be on the terminal: the message replaces it.
            if ExportCommand.progressLineIsInPlace { writeStandardError("\r\u{1B}[K") }
            // ArgumentParser's own message already starts with "Error:".
            printError(usage ?? "error: \(message)")
        }
        Glibc.exit(status)
    }
}

/// Writes a line to stderr.
func printError(_ text: String) {
    var line = text
    if !line.hasSuffix("\n") { line += "\n" }
    line.utf8CString.withUnsafeBufferPointer { bytes in
        var offset = 0
        let count = bytes.count - 1  // without the terminating NUL
        while offset < count {
            let written = write(2, bytes.baseAddress! + offset, count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
