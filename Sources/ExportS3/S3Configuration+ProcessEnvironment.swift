#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension S3Configuration {
    /// This process's environment variables, for ``fromEnvironment(_:readFile:)``.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
