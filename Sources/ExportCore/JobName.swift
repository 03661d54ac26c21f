/// A validated export job name: 1–63 characters matching `^[a-zA-Z][a-zA-Z0-9_]*$`.
///
/// Amazon Forecast's `PredictorBacktestExportJobName` rule. Validation is O(n) on the bytes and
/// allocation-free.
public struct JobName: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String

    /// The rule a name must follow, quoted in every validation error.
    public static let rule = "1-63 characters matching ^[a-zA-Z][a-zA-Z0-9_]*$"

    public init(_ name: String) throws(ExportError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty else {
            throw .validation("Invalid job name '': a job name must be \(Self.rule)")
        }
        guard bytes.count <= 63 else {
            throw .validation(
                "Invalid job name '\(name)': \(bytes.count) characters, longer than 63; a job name must be \(Self.rule)"
            )
        }
        guard Self.isLetter(bytes[0]) else {
            throw .validation("Invalid job name '\(name)': must start with a letter; a job name must be \(Self.rule)")
        }
        for (offset, byte) in bytes.enumerated().dropFirst()
        where !(Self.isLetter(byte) || Self.isDigit(byte) || byte == UInt8(ascii: "_")) {
            throw .validation(
                "Invalid job name '\(name)': character \(offset + 1) is not a letter, digit or '_'; a job name must be \(Self.rule)"
            )
        }
        self.rawValue = name
    }

    public var description: String { rawValue }

    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}
