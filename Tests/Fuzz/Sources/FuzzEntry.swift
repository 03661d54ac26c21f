// libFuzzer entry point for the parsers that read untrusted bytes (scripts/fuzz builds this with
// `-sanitize=fuzzer,address`). One binary, several targets: the environment variable FUZZ_TARGET
// picks one (see `FuzzTarget`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The fuzz targets, by the name FUZZ_TARGET gives.
enum FuzzTarget: String, CaseIterable {
    /// `CSVRecordScanner` against a plain reference splitter (records, fields, lines, errors).
    case csvScanner = "csv-scanner"
    /// `CSVNumberParser` against the C library's `strtod`, and Java-style formatting round trips.
    case number
    /// `CSVTimestampParser` (with and without its date cache) against a reference parser.
    case timestamp
    /// `PartName(parsing:)`: no trap, and a parsed name prints and parses back to itself.
    case partName = "part-name"

    static let selected: FuzzTarget = {
        guard let name = getenv("FUZZ_TARGET").map({ String(cString: $0) }), let target = FuzzTarget(rawValue: name)
        else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            printError("set FUZZ_TARGET to one of: \(names)")
            exit(2)
        }
        return target
    }()

    func run(_ data: UnsafeBufferPointer<UInt8>) {
        switch self {
        case .csvScanner: CSVScannerFuzz.run(data)
        case .number: NumberFuzz.run(data)
        case .timestamp: TimestampFuzz.run(data)
        case .partName: PartNameFuzz.run(data)
        }
    }
}

/// Stops the process with `message` so that libFuzzer keeps the input as a crash.
func fuzzFailure(_ message: String) -> Never {
    printError("fuzz check failed: \(message)")
    abort()
}

/// Writes a line to standard error (file descriptor 2).
func printError(_ message: String) {
    var line = Array(message.utf8)
    line.append(UInt8(ascii: "\n"))
    line.withUnsafeBytes { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = write(2, bytes.baseAddress! + offset, bytes.count - offset)
            guard n > 0 else { return }
            offset += n
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(UnsafeBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's driver (in the runtime that `-sanitize=fuzzer` links).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The program's entry point: SwiftPM links an executable target's `main` to `<module>_main`, so
/// this hands over to libFuzzer's driver, which parses the command line and calls the target.
@_cdecl("ExportFuzz_main")
public func exportFuzzMain(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, { data, size in fuzzTestOneInput(data, size) })
}
