import NIOConcurrencyHelpers
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A process-wide list of temporary files and folders that must not outlive the process: spill
/// runs, their folder, and part files still being written; and the removal of those that a
/// killed process left behind.
///
/// A run that ends normally, fails or is cancelled removes its own files (and unregisters them).
/// ``removeAll()`` is the last resort before the process exits on a signal. After a SIGKILL
/// nothing runs: the next run removes the leftovers, since every spill folder is named
/// `backtest-export-<pid>-<random>` (``removeStaleFolders(in:)``) and every part's temporary file
/// carries its job and pid (``TemporaryName``).
public enum TemporaryFiles {
    private static let paths = NIOLockedValueBox<[Int: UInt]>([:])  // token → address of a strdup'ed path
    private static let nextID = Atomic<Int>(0)

    /// The name spill folders in the temporary directory start with; the owner's pid follows.
    public static let folderPrefix = "backtest-export-"

    /// Registers `path`; returns a token for ``unregister(_:)``.
    public static func register(_ path: String) -> Int {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let address = UInt(bitPattern: strdup(path))
        paths.withLockedValue { $0[id] = address }
        return id
    }

    /// Forgets a path (after it was removed or renamed to its final name).
    public static func unregister(_ id: Int) {
        if let address = paths.withLockedValue({ $0.removeValue(forKey: id) }) {
            free(UnsafeMutableRawPointer(bitPattern: address))
        }
    }

    /// Whether `path` is registered (one of this process's live temporary files or folders),
    /// however it is spelled: compared by device and inode.
    public static func isRegistered(_ path: String) -> Bool {
        var target = stat()
        guard stat(path, &target) == 0 else { return false }
        return paths.withLockedValue { current in
            current.values.contains { address in
                guard let pointer = UnsafePointer<CChar>(bitPattern: address) else { return false }
                var info = stat()
                return stat(pointer, &info) == 0 && info.st_dev == target.st_dev && info.st_ino == target.st_ino
            }
        }
    }

    /// Whether a file or folder named for process `owner` (a spill folder, a temporary part) at
    /// `path` was left by a process that is gone: `owner` is not alive, or it is this process's
    /// own pid but this process did not make it (a run in a new PID namespace, as a container
    /// retried after a kill is, gets the pid its killed predecessor had, often 1).
    public static func isLeftover(_ path: String, owner: Int32) -> Bool {
        owner == getpid() ? !isRegistered(path) : !isProcessAlive(owner)
    }

    /// Removes every registered file now (files first, then folders once empty). Blocking: for
    /// the moment the process is about to exit.
    public static func removeAll() {
        let all = paths.withLockedValue { current in
            defer { current.removeAll() }
            return Array(current.values)
        }
        for address in all {
            if let pointer = UnsafeMutablePointer<CChar>(bitPattern: address) { unlink(pointer) }
        }
        for address in all {
            guard let pointer = UnsafeMutablePointer<CChar>(bitPattern: address) else { continue }
            rmdir(pointer)
            free(pointer)
        }
    }

    /// A new name for a spill folder in `directory`, owned by this process:
    /// `<directory>/backtest-export-<pid>-<random hex>`.
    public static func newFolderPath(in directory: String) -> String {
        "\(directory)/\(folderPrefix)\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    }

    /// Removes the spill folders in `directory` (and the runs in them) whose owner process is no
    /// longer alive: what a killed run left. Folders of live processes are kept. Blocking (one
    /// listing of `directory`, one per stale folder); returns the folders removed.
    @discardableResult
    public static func removeStaleFolders(in directory: String) -> [String] {
        var removed: [String] = []
        for entry in DirectoryListing(directory)?.entries ?? [] where entry.isDirectory {
            let path = "\(directory)/\(entry.name)"
            guard let owner = ownerProcess(ofFolder: entry.name), isLeftover(path, owner: owner) else { continue }
            for file in DirectoryListing(path)?.entries ?? [] where !file.isDirectory { unlink("\(path)/\(file.name)") }
            if rmdir(path) == 0 { removed.append(path) }
        }
        return removed
    }

    /// ``removeStaleFolders(in:)`` on NIO's blocking-work thread pool.
    @discardableResult
    public static func removeStaleFolders(in directory: String) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive { removeStaleFolders(in: directory) }
    }

    /// The pid in a spill folder's name `backtest-export-<pid>-<hex>`, or `nil` for other names.
    static func ownerProcess(ofFolder name: String) -> Int32? {
        guard name.hasPrefix(folderPrefix) else { return nil }
        let fields = name.dropFirst(folderPrefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard fields.count == 2, !fields[1].isEmpty, fields[1].allSatisfy(\.isHexDigit),
            let pid = Int32(fields[0]), pid > 0
        else { return nil }
        return pid
    }

    /// Whether a process with this pid exists on this machine (a zombie counts as alive).
    public static func isProcessAlive(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// This machine's host name (`?` when it cannot be read): with a pid, it names a lock's holder.
    public static var hostName: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "?" }
        return String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
