import ExportCore
import Testing

private struct DiskFull: Error, CustomStringConvertible {
    var description: String { "no space left on device" }
}

@Suite struct ExportErrorTests {
    @Test func wrappingKeepsExportErrorsAsTheyAre() {
        let original = ExportError.input("bad row", at: .init(file: "in.csv", line: 3, column: 2))
        let wrapped = ExportError.wrapping(original, as: .sink, "Cannot write")
        #expect(wrapped == original)
        #expect(wrapped.code == .input)
        #expect(wrapped.cause == nil)
    }

    @Test func cancellationIsNeverRelabelled() {
        let wrapped = ExportError.wrapping(CancellationError(), as: .sink, "Cannot write to '/out'")
        #expect(wrapped.code == .cancelled)
        #expect(wrapped.code != .sink)
        #expect(wrapped.isCancellation)
        #expect(wrapped.cause is CancellationError)
        #expect(wrapped.exitStatus == 130)
        #expect(ExportError.cancelled().cause is CancellationError)
    }

    @Test func foreignErrorsKeepTheirCauseAndGetTheGivenCode() {
        let wrapped = ExportError.wrapping(DiskFull(), as: .sink, "Cannot write '/out/part0.csv'")
        #expect(wrapped.code == .sink)
        #expect(wrapped.message == "Cannot write '/out/part0.csv': no space left on device")
        #expect(wrapped.cause is DiskFull)
        #expect(wrapped.exitStatus == 1)
        let other = ExportError.wrapping(DiskFull(), as: .internal, "Export failed")
        #expect(other.code == .internal && other.code.rawValue == "INTERNAL_ERROR")
    }

    @Test func codesAreExtensibleAndKeepTheCLIsNames() {
        let custom = ExportError.Code(rawValue: "QUOTA_EXCEEDED")
        let error = ExportError(custom, "over quota")
        #expect(error.code == custom)
        #expect(error.exitStatus == 1)
        func status(_ code: ExportError.Code) -> String {
            switch code {
            case .validation: "validation"
            case .input: "input"
            default: "other \(code)"
            }
        }
        #expect(status(.input) == "input")
        #expect(status(custom) == "other QUOTA_EXCEEDED")
        #expect(
            [ExportError.Code.validation, .input, .alreadyExists, .notFound, .sink, .cancelled, .internal].map(
                \.rawValue
            )
                == [
                    "VALIDATION_ERROR", "INPUT_ERROR", "ALREADY_EXISTS", "NOT_FOUND", "SINK_ERROR", "CANCELLED",
                    "INTERNAL_ERROR",
                ]
        )
        #expect(ExportError.validation("x").exitStatus == 2 && ExportError.input("x").exitStatus == 2)
    }
}
