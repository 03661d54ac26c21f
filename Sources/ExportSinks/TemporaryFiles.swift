import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A process-wide list of temporary files and folders that must not outlive the process: spill
/// runs, their folder, and part files still being written.
///
/// ``installInterruptHandlers()`` makes SIGINT and SIGTERM remove every registered file, then
/// end the process with the signal's usual status. Paths are kept as C strings so that the
/// handler only calls `unlink`, which is async-signal-safe.
public enum TemporaryFiles {
    private static let paths = Mutex<[Int: UInt]>([:])  // token → address of a strdup'ed path
    private static let nextID = Atomic<Int>(0)

    /// Registers `path`; returns a token for ``unregister(_:)``.
    public static func register(_ path: String) -> Int {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let address = UInt(bitPattern: strdup(path))
        paths.withLock { $0[id] = address }
        return id
    }

    /// Forgets a path (after it was removed or renamed to its final name).
    public static func unregister(_ id: Int) {
        if let address = paths.withLock({ $0.removeValue(forKey: id) }) {
            free(UnsafeMutableRawPointer(bitPattern: address))
        }
    }

    /// Removes every registered file now.
    public static func removeAll() {
        let all = paths.withLock { current in
            defer { current.removeAll() }
            return Array(current.values)
        }
        for address in all {
            guard let pointer = UnsafeMutablePointer<CChar>(bitPattern: address) else { continue }
            if unlink(pointer) != 0 { rmdir(pointer) }
            free(pointer)
        }
    }

    /// Installs SIGINT and SIGTERM handlers that remove the registered files and re-raise.
    public static func installInterruptHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { received in
                TemporaryFiles.removeAllFromSignalHandler()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }

    private static func removeAllFromSignalHandler() {
        // Best effort without taking the lock: the handler may interrupt a holder of it.
        paths.withLockIfAvailable { current in
            // Files first, then folders (a folder is removed once empty).
            for address in current.values {
                if let path = UnsafeMutablePointer<CChar>(bitPattern: address) { unlink(path) }
            }
            for address in current.values {
                if let path = UnsafeMutablePointer<CChar>(bitPattern: address) { rmdir(path) }
            }
        }
    }
}
