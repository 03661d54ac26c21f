import ExportCore
public import NIOCore
public import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A sink that writes files below a local folder.
///
/// Each file is written to a hidden temporary name in its final folder,
/// `.<name>.<job tag>.<pid>.<random>.tmp`, `fsync`ed, then renamed to its final name (and the
/// folder `fsync`ed), so a reader never sees a half-written file under its final name. If
/// writing fails or the task is cancelled, the temporary file is removed; if the process is
/// killed, ``removeLeftovers(ofJob:)`` removes it on the next run of the same job.
///
/// Every blocking system call (`open`, `pwrite`, `fsync`, `close`, `rename`, `unlink`, `mkdir`)
/// runs on an `NIOThreadPool` (by default NIO's shared one), never on a thread of Swift's
/// cooperative pool. Writes of up to 8 chunks overlap with the caller's encoding
/// (``BackgroundFileWriter``).
public struct LocalDirectorySink: PartSink {
    /// Writes one part's chunks to its temporary file.
    public struct Writer: PartWriter {
        fileprivate var output: BackgroundFileWriter
        public private(set) var bytesWritten = 0

        /// Queues `chunk`; suspends while 4 chunks are being written. Throws `CancellationError`
        /// when the task is cancelled, and the first write error.
        public mutating func write(_ chunk: ByteBuffer) async throws {
            try Task.checkCancellation()
            try await output.enqueue(chunk)
            bytesWritten += chunk.readableBytes
        }
    }

    /// The root folder, without a trailing `/`.
    public let root: String
    /// Put in every temporary name, so that a later run can tell its job's leftovers:
    /// `<job name>_<yyyy-MM-ddTHH-mm-ssZ>` (``PartName``'s prefix). When not given, a part's tag
    /// comes from its own name when that is a ``PartName``, else it is `tmp`.
    public let jobTag: String?
    let pool: NIOThreadPool
    let calls: FileSystemCalls

    /// Creates a sink below `root`, which is created (with parents) when the first file is written.
    /// `jobTag` names the job in temporary names (see ``jobTag``); `threadPool` runs the system calls.
    public init(root: String, jobTag: String? = nil, threadPool: NIOThreadPool = .singleton) {
        self.init(root: root, jobTag: jobTag, threadPool: threadPool, calls: FileSystemCalls())
    }

    init(root: String, jobTag: String?, threadPool: NIOThreadPool, calls: FileSystemCalls) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root.isEmpty ? "." : root
        self.jobTag = jobTag
        self.pool = threadPool
        self.calls = calls
    }

    public var destinationDescription: String { root }

    public func withPart<R>(named key: String, _ body: (inout Writer) async throws -> R) async throws -> R {
        let finalPath = path(for: key)
        let folder = Self.parent(of: finalPath)
        let name = finalPath.split(separator: "/").last.map(String.init) ?? key
        let jobTag =
            self.jobTag ?? (try? PartName(parsing: name)).map { "\($0.jobName.rawValue)_\($0.timestamp.fileNameForm)" }
            ?? "tmp"
        let temporaryPath =
            folder + "/"
            + TemporaryName.make(
                finalName: name,
                jobTag: jobTag,
                pid: getpid(),
                random: UInt32.random(in: 0...UInt32.max)
            )
        let calls = self.calls
        // Registered before it exists: no moment when it is this process's but looks like a leftover.
        let registration = TemporaryFiles.register(temporaryPath)
        defer { TemporaryFiles.unregister(registration) }
        // Cancellable until the file exists: a cancelled task creates nothing.
        let fd = try await pool.runIfActive {
            try Self.makeDirectories(folder)
            let fd = calls.open(temporaryPath)
            guard fd >= 0 else { throw Self.error("cannot create", temporaryPath) }
            return fd
        }
        var writer = Writer(output: BackgroundFileWriter(descriptor: fd, displayPath: finalPath, pool: pool))
        var descriptorOpen = true
        do {
            let result = try await body(&writer)
            try await writer.output.drain()
            try Task.checkCancellation()
            // From here on the part is published or removed; cancellation no longer interrupts.
            descriptorOpen = false
            try await runToCompletion {
                guard fsync(fd) == 0 else {
                    let failure = Self.error("cannot flush", finalPath)
                    _ = calls.close(fd)
                    throw failure
                }
                // `close` releases the descriptor even when it reports an error: never again.
                guard calls.close(fd) == 0 else { throw Self.error("cannot close", finalPath) }
                guard calls.rename(temporaryPath, finalPath) == 0 else {
                    throw Self.error("cannot rename the temporary file to", finalPath)
                }
                Self.syncDirectory(folder)
            }
            return result
        } catch {
            try? await writer.output.drain()
            let closeNeeded = descriptorOpen
            try? await runToCompletion {
                if closeNeeded { _ = calls.close(fd) }
                _ = unlink(temporaryPath)
            }
            throw error
        }
    }

    public func put(_ bytes: ByteBuffer, named key: String) async throws {
        try await withPart(named: key) { writer in try await writer.write(bytes) }
    }

    public func remove(named key: String) async throws {
        let target = path(for: key)
        try await runToCompletion {
            if unlink(target) != 0 && errno != ENOENT { throw Self.error("cannot remove", target) }
        }
    }

    public func exists(named key: String) async throws -> Bool {
        let target = path(for: key)
        return try await pool.runIfActive { access(target, F_OK) == 0 }
    }

    /// Removes the temporary files that runs of job `jobName` left in the root folder and its
    /// subfolders (one level: the table folders) when they died: names
    /// `.<name>.<jobName>_<timestamp>.<pid>.<random>.tmp` whose process is no longer alive on this
    /// machine. Returns the paths removed. Cost: one directory listing per folder.
    @discardableResult
    public func removeLeftovers(ofJob jobName: String) async throws -> [String] {
        let root = self.root
        return try await runToCompletion {
            var removed: [String] = []
            guard let top = DirectoryListing(root) else { return [] }
            var folders = [root]
            for entry in top.entries where entry.isDirectory && !entry.name.hasPrefix(".") {
                folders.append("\(root)/\(entry.name)")
            }
            for folder in folders {
                for entry in DirectoryListing(folder)?.entries ?? [] where !entry.isDirectory {
                    let path = "\(folder)/\(entry.name)"
                    guard let owner = TemporaryName.ownerProcess(of: entry.name, jobName: jobName),
                        TemporaryFiles.isLeftover(path, owner: owner)
                    else { continue }
                    if unlink(path) == 0 { removed.append(path) }
                }
            }
            return removed
        }
    }

    /// Lists the regular files in the folder of `prefix` (the part up to its last `/`) whose
    /// names start with the rest, not descending into subfolders. Hidden files (a leading `.`,
    /// which temporary parts have) are not listed.
    public func list(prefix: String) async throws -> [String] {
        let slash = prefix.lastIndex(of: "/")
        let folderKey = slash.map { String(prefix[..<$0]) } ?? ""
        let namePrefix = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
        let folder = folderKey.isEmpty ? root : path(for: folderKey)
        guard let directory = opendir(folder) else {
            if errno == ENOENT || errno == ENOTDIR { return [] }
            throw Self.error("cannot list", folder)
        }
        defer { closedir(directory) }
        var keys: [String] = []
        while let entry = readdir(directory) {
            let name = DirectoryEntryName.of(entry)
            guard !name.hasPrefix("."), name.hasPrefix(namePrefix) else { continue }
            let key = folderKey.isEmpty ? name : folderKey + "/" + name
            var info = stat()
            guard stat(path(for: key), &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            keys.append(key)
        }
        return keys
    }

    /// Takes `root/_LOCK` with `flock(LOCK_EX | LOCK_NB)`: the kernel releases it if the process
    /// dies, so a killed run never leaves the destination locked. The file holds the holder's
    /// description and is removed when `body` ends. A lock file removed and re-created by
    /// another run between our `open` and `flock` is detected (inode check) and taken afresh.
    public func withExclusiveLock<R>(holder: String, _ body: () async throws -> R) async throws -> R {
        try Self.makeDirectories(root)
        let lockPath = path(for: destinationLockKey)
        var fd: Int32 = -1
        for _ in 0..<8 {
            fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Self.error("cannot create the lock file", lockPath) }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                guard code == EWOULDBLOCK else {
                    close(fd)
                    throw Self.error("cannot lock", lockPath, errno: code)
                }
                // The holder writes its description just after it takes the lock: give it a moment
                // (at most about 0.1 s) so that the message can name it.
                var current = Self.readAll(fd)
                for _ in 0..<50 where current.isEmpty {
                    try? await Task.sleep(for: .milliseconds(2))
                    current = Self.readAll(fd)
                }
                close(fd)
                throw ExportError.sink(
                    "The destination '\(root)' is locked by another export"
                        + (current.isEmpty ? "" : ": \(current)")
                        + " (lock file \(lockPath)); wait for it to finish"
                )
            }
            var opened = stat()
            var named = stat()
            if fstat(fd, &opened) == 0, stat(lockPath, &named) == 0, opened.st_ino == named.st_ino,
                opened.st_dev == named.st_dev
            {
                break
            }
            close(fd)
            fd = -1
        }
        guard fd >= 0 else { throw ExportError.sink("Cannot take the lock file \(lockPath): it keeps being replaced") }
        _ = ftruncate(fd, 0)
        let text = Array(holder.utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        defer {
            unlink(lockPath)
            close(fd)
        }
        return try await body()
    }

    private static func readAll(_ fd: Int32) -> String {
        var bytes = [UInt8](repeating: 0, count: 1024)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? String(decoding: bytes[..<n], as: UTF8.self) : ""
    }

    /// The absolute or relative path of `key`.
    public func path(for key: String) -> String { root == "/" ? "/\(key)" : "\(root)/\(key)" }

    /// Runs `body` on the pool and waits for it even if the task is cancelled meanwhile (cleanup
    /// and publishing must not be cut in half).
    private func runToCompletion<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any(), body).get()
    }

    // MARK: - System calls (on the pool)

    static func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    /// `mkdir -p`.
    static func makeDirectories(_ path: String) throws {
        var isDirectory = stat()
        if stat(path, &isDirectory) == 0 {
            guard (isDirectory.st_mode & S_IFMT) == S_IFDIR else {
                throw ExportError.sink("Cannot write to '\(path)': it exists and is not a folder")
            }
            return
        }
        let parentPath = parent(of: path)
        if parentPath != path && parentPath != "." && parentPath != "/" { try makeDirectories(parentPath) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw error("cannot create the folder", path) }
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }

    static func error(_ what: String, _ path: String, errno code: Int32 = errno) -> ExportError {
        let reason = String(cString: strerror(code))
        let hint =
            code == ENOSPC ? " (the disk is full)" : code == EACCES || code == EROFS ? " (permission denied)" : ""
        return .sink("Cannot write the export: \(what) '\(path)': \(reason)\(hint)")
    }
}

/// The system calls ``LocalDirectorySink`` makes on a part's descriptor, replaceable in tests to
/// make `close` or `rename` fail.
struct FileSystemCalls: Sendable {
    var open: @Sendable (String) -> Int32 = { Glibc.open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
    var close: @Sendable (Int32) -> Int32 = { Glibc.close($0) }
    var rename: @Sendable (String, String) -> Int32 = { Glibc.rename($0, $1) }
}
