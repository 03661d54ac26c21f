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
/// `backtest-export-<pid>-<random>` and held with `flock` by the process that made it for as long
/// as it exists (``makeFolder(in:)``, ``removeStaleFolders(in:)``), and every part's temporary file
/// carries its job and pid (``TemporaryName``).
public enum TemporaryFiles {
    private static let paths = NIOLockedValueBox<[Int: UInt]>([:])  // token → address of a strdup'ed path
    /// The descriptor holding each folder made by ``makeFolder(in:)`` locked, by token.
    private static let folderLocks = NIOLockedValueBox<[Int: Int32]>([:])
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

    /// Forgets a path (after it was removed or renamed to its final name); for a folder made by
    /// ``makeFolder(in:)``, also lets go of its lock.
    public static func unregister(_ id: Int) {
        if let address = paths.withLockedValue({ $0.removeValue(forKey: id) }) {
            free(UnsafeMutableRawPointer(bitPattern: address))
        }
        if let lock = folderLocks.withLockedValue({ $0.removeValue(forKey: id) }) { close(lock) }
    }

    /// Makes a new spill folder in `directory` (``newFolderPath(in:)``), registered, and holds it
    /// locked (`flock`, exclusive) until it is unregistered or the process ends: so that a run
    /// cleaning `directory` (``removeStaleFolders(in:)``) keeps it even when it cannot see this
    /// process (another PID namespace, another machine sharing the folder). The shared lock on
    /// `directory` itself during creation keeps a cleaner from taking the folder in the moment
    /// between `mkdir` and its lock. Returns the path and the token for ``unregister(_:)``, or nil
    /// with `errno` set by the `mkdir` that failed. Blocking (a few system calls; waits while a
    /// cleaner scans `directory`). Costs one open descriptor per folder.
    public static func makeFolder(in directory: String) -> (path: String, token: Int)? {
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 { lockWaiting(parent, LOCK_SH) }
        defer { if parent >= 0 { close(parent) } }  // closing lets go of the shared lock
        let path = newFolderPath(in: directory)
        // Registered before it exists, so that a signal right after mkdir still removes it.
        let token = register(path)
        guard mkdir(path, 0o700) == 0 else {
            let error = errno
            unregister(token)
            errno = error
            return nil
        }
        let lock = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if lock >= 0 {
            _ = flock(lock, LOCK_EX | LOCK_NB)
            folderLocks.withLockedValue { $0[token] = lock }
        }
        return (path, token)
    }

    /// Removes a folder made by ``makeFolder(in:)`` (once its files are gone) and lets go of it.
    public static func removeFolder(_ path: String, token: Int) {
        rmdir(path)
        unregister(token)
    }

    /// `flock(fd, operation)`, again when a signal interrupts it; where locks are not supported,
    /// nothing.
    private static func lockWaiting(_ fd: Int32, _ operation: Int32) {
        while flock(fd, operation) != 0 && errno == EINTR {}
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

    /// Removes the spill folders in `directory` (and the runs in them) that no live run holds:
    /// what a killed run left. A folder is live while its lock is held (``makeFolder(in:)``),
    /// whichever PID namespace or machine holds it, or while the pid in its name is alive here
    /// (``isLeftover(_:owner:)``: not this process's own pid unless it made it). Blocking (an exclusive lock on
    /// `directory` for the scan, one listing of it, one per stale folder); returns the folders
    /// removed.
    @discardableResult
    public static func removeStaleFolders(in directory: String) -> [String] {
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { return [] }
        defer { close(parent) }
        lockWaiting(parent, LOCK_EX)  // no folder is between mkdir and its lock while we look
        var removed: [String] = []
        for entry in DirectoryListing(directory)?.entries ?? [] where entry.isDirectory {
            let path = "\(directory)/\(entry.name)"
            guard let owner = ownerProcess(ofFolder: entry.name) else { continue }
            let folder = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
            guard folder >= 0 else { continue }  // another user's, or gone
            defer { close(folder) }
            // Held by a live run (wherever it runs): kept. Not held (or locks unsupported here):
            // the pid decides, as for a folder of a run that predates the lock.
            if flock(folder, LOCK_EX | LOCK_NB) != 0 && (errno == EWOULDBLOCK || errno == EINTR) { continue }
            guard isLeftover(path, owner: owner) else { continue }
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

    /// Whether a process with this pid runs on this machine. A zombie (a process that was killed
    /// and that its parent has not reaped yet) does not: it holds nothing any more, and a run
    /// killed by a test harness or a scheduler that waits late must not lock the next run out.
    /// Costs a `kill(2)` and, where it succeeds, one read of `/proc/<pid>/stat`.
    public static func isProcessAlive(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        return !isZombie(pid)
    }

    /// Whether `/proc/<pid>/stat` gives the process's state as `Z` (zombie) or `X` (dead); false
    /// when it cannot be read (no procfs: the process counts as alive).
    static func isZombie(_ pid: Int32) -> Bool {
        let descriptor = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { return false }
        // `pid (comm) S ...`: the command may hold spaces and parentheses; the state follows the
        // last `)`.
        guard let end = buffer[..<count].lastIndex(of: UInt8(ascii: ")")), end + 2 < count else { return false }
        let state = buffer[end + 2]
        return state == UInt8(ascii: "Z") || state == UInt8(ascii: "X")
    }

    /// This machine's host name (`?` when it cannot be read): with a pid, it names a lock's holder.
    public static var hostName: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "?" }
        return String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
