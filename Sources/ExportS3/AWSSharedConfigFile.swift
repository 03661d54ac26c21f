#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The INI dialect of `~/.aws/credentials` and `~/.aws/config`: `[section]` headers,
/// `key = value` lines, `#`/`;` comment lines; indented lines (sub-settings such as
/// `s3 =\n  addressing_style = path`) belong to the key above and are skipped.
/// Keys are lower-cased; section names and values are trimmed. A later duplicate wins.
public struct AWSSharedConfigFile: Sendable, Equatable {
    public var sections: [String: [String: String]]

    public init(parsing text: String) {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.trimmingCharacters(" \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if rawLine.first == " " || rawLine.first == "\t" { continue }  // nested sub-setting
            if line.hasPrefix("[") {
                guard let close = line.lastIndex(of: "]") else {
                    current = nil
                    continue
                }
                let name = line[line.index(after: line.startIndex)..<close].trimmingCharacters(" \t")
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(" \t").lowercased()
            var value = line[line.index(after: eq)...].trimmingCharacters(" \t")
            // Inline comments need a space before '#' or ';' (as botocore).
            if let hash = value.firstRange(of: " #") ?? value.firstRange(of: " ;") {
                value = String(value[..<hash.lowerBound]).trimmingCharacters(" \t")
            }
            sections[current, default: [:]][key] = value
        }
        self.sections = sections
    }

    /// The contents of the file at `path`, or `nil` if it cannot be read.
    public static func readFile(atPath path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension StringProtocol {
    func trimmingCharacters(_ set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
