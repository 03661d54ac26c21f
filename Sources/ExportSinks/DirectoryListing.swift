#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The entries of one folder (without `.` and `..`), read with `opendir`/`readdir`: a blocking
/// call, for a thread pool or a signal-free context.
struct DirectoryListing {
    struct Entry {
        var name: String
        var isDirectory: Bool
    }

    let entries: [Entry]

    /// `nil` when `path` cannot be opened as a folder.
    init?(_ path: String) {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let entry = readdir(directory) {
            let name = DirectoryEntryName.of(entry)
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var info = stat()
                isDirectory = lstat("\(path)/\(name)", &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            }
            entries.append(Entry(name: name, isDirectory: isDirectory))
        }
        self.entries = entries
    }
}
