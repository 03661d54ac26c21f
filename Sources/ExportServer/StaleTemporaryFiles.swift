import ExportSinks

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Removes the hidden temporary files (`.<name>.<pid>.<n>.tmp`) that a killed process left in a
/// local export folder, so a job run again after a crash leaves exactly the files of one export.
/// Only files of processes that no longer exist are removed. Costs one directory listing per
/// folder.
enum StaleTemporaryFiles {
    static func remove(under root: String, folders: [String]) {
        for folder in [root] + folders.map({ root + "/" + $0 }) {
            guard let directory = opendir(folder) else { continue }
            var stale: [String] = []
            while let entry = readdir(directory) {
                let name = DirectoryEntryName.of(entry)
                guard name.hasPrefix("."), name.hasSuffix(".tmp") else { continue }
                let fields = name.split(separator: ".")
                guard fields.count >= 4, let pid = Int32(fields[fields.count - 3]), pid > 0 else { continue }
                if kill(pid, 0) != 0 && errno == ESRCH { stale.append(folder + "/" + name) }
            }
            closedir(directory)
            for path in stale { unlink(path) }
        }
    }
}
