import ExportCore

/// The input as a file name: parsing never traps, and a parsed name prints as a name of the same
/// length (the input itself, but for a ` ` accepted in place of the timestamp's `T`) that parses
/// back to an equal value.
enum PartNameFuzz {
    static func run(_ data: UnsafeBufferPointer<UInt8>) {
        let text = String(decoding: data, as: UTF8.self)
        guard let name = try? PartName(parsing: text) else { return }
        let printed = name.fileName
        guard printed.utf8.count == text.utf8.count else {
            fuzzFailure("'\(text)' parsed, prints as '\(printed)'")
        }
        guard let again = try? PartName(parsing: printed), again == name else {
            fuzzFailure("'\(text)' parsed, its file name '\(printed)' does not parse back to it")
        }
        guard printed == text || text.contains(" ") else {
            fuzzFailure("'\(text)' parsed, prints as '\(printed)'")
        }
    }
}
