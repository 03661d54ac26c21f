import ExportCore
public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Staging on local disk: reading back with `read`, moving with `rename` (atomic, same file
/// system: the staging folder is below the destination), removing a folder tree with
/// `unlink`/`rmdir`. Blocking system calls on the calling thread, few and small.
extension LocalDirectorySink: StagingSink {
    public func read(named key: String, maxBytes: Int) async throws -> ByteBuffer? {
        let target = path(for: key)
        let fd = open(target, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw Self.error("cannot open", target)
        }
        defer { close(fd) }
        var buffer = ByteBuffer()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.error("cannot read", target)
            }
            if n == 0 { return buffer }
            guard buffer.readableBytes + n <= maxBytes else {
                throw ExportError.sink("Cannot read '\(target)': larger than \(maxBytes) bytes")
            }
            buffer.writeBytes(chunk[0..<n])
        }
    }

    public func move(from source: String, to destination: String, byteCount: Int) async throws {
        let from = path(for: source)
        let to = path(for: destination)
        let folder = Self.parent(of: to)
        try Self.makeDirectories(folder)
        guard rename(from, to) == 0 else { throw Self.error("cannot move '\(from)' to", to) }
        Self.syncDirectory(folder)
    }

    public func removeAll(under prefix: String) async throws {
        var folder = path(for: prefix)
        while folder.count > 1 && folder.hasSuffix("/") { folder.removeLast() }
        try Self.removeTree(folder)
        // Folders left empty above it go too (`_staging/` once its last job is gone).
        var parent = Self.parent(of: folder)
        while parent.count > root.count && parent.hasPrefix(root + "/") && rmdir(parent) == 0 {
            parent = Self.parent(of: parent)
        }
    }

    /// The lock of a folder is the destination lock of a sink rooted there: `flock` on
    /// `<root>/<prefix>_LOCK` (the folder is created if needed).
    public func withExclusiveLock<R>(
        under prefix: String,
        holder: String,
        _ body: () async throws -> R
    ) async throws
        -> R
    {
        let folder = LocalDirectorySink(root: path(for: prefix), jobTag: jobTag, threadPool: pool, calls: calls)
        return try await folder.withExclusiveLock(holder: holder, body)
    }

    /// `rm -r`: every file and folder below `path`, then `path`. Not an error when absent.
    static func removeTree(_ path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else {
            if errno == ENOENT { return }
            throw error("cannot remove", path)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            guard let directory = opendir(path) else { throw error("cannot list", path) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = DirectoryEntryName.of(entry)
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(directory)
            for name in names { try removeTree("\(path)/\(name)") }
            if rmdir(path) != 0 && errno != ENOENT { throw error("cannot remove the folder", path) }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw error("cannot remove", path)
        }
    }
}
