#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The file descriptors this process has open: what is left of the open-file limit (`ulimit -n`)
/// for a run's own files is the limit minus these (a parent may hand down many).
public enum OpenDescriptors {
    /// The descriptors open now (a listing of `/proc/self/fd`, not counting the listing's own),
    /// or 3 (the standard streams) where that folder cannot be read. Cost: one directory listing.
    public static func count() -> Int {
        guard let folder = opendir("/proc/self/fd") else { return 3 }
        defer { closedir(folder) }
        var count = 0
        while let entry = readdir(folder) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }  // not "." or ".."
        }
        return max(0, count - 1)
    }
}
