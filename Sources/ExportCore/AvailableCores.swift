#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#endif

/// How many cores this process may run on: its CPU affinity (`taskset`, a container's cpuset) as
/// `/proc/self/status` gives it, else the online processors. Read once, at first use (the one
/// look at the environment in this module).
public enum AvailableCores {
    public static let count: Int = fromAffinity() ?? online()

    private static func online() -> Int {
        #if canImport(Glibc) || canImport(Musl)
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        2
        #endif
    }

    /// The bits set in the `Cpus_allowed:` mask of `/proc/self/status` (hex words separated by
    /// commas), or nil where there is no such file.
    private static func fromAffinity() -> Int? {
        #if canImport(Glibc) || canImport(Musl)
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 4096)
        let prefix = Array("Cpus_allowed:".utf8)
        while fgets(&line, Int32(line.count), file) != nil {
            let bytes = line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            guard bytes.starts(with: prefix) else { continue }
            var count = 0
            for byte in bytes.dropFirst(prefix.count) {
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): count += (byte - UInt8(ascii: "0")).nonzeroBitCount
                case UInt8(ascii: "a")...UInt8(ascii: "f"): count += (byte - UInt8(ascii: "a") + 10).nonzeroBitCount
                case UInt8(ascii: "A")...UInt8(ascii: "F"): count += (byte - UInt8(ascii: "A") + 10).nonzeroBitCount
                default: continue
                }
            }
            return count > 0 ? count : nil
        }
        return nil
        #else
        return nil
        #endif
    }
}
