import ExportCore
import NIOConcurrencyHelpers
public import NIOCore

/// A sink that keeps files in memory: for tests and for benchmarks of the encoding alone.
///
/// Parts become visible in ``files`` only when their body returns. ``failWrite`` lets a test make
/// a write throw, to check that a failed part leaves nothing behind.
public final class InMemorySink: PartSink {
    public struct Writer: PartWriter {
        var buffer: ByteBuffer
        let failAfterBytes: Int?
        public var bytesWritten: Int { buffer.readableBytes }

        public mutating func write(_ chunk: ByteBuffer) async throws {
            if let failAfterBytes, buffer.readableBytes + chunk.readableBytes > failAfterBytes {
                throw ExportError.sink("in-memory sink: injected write failure")
            }
            var chunk = chunk
            buffer.writeBuffer(&chunk)
        }
    }

    private struct State {
        var files: [String: ByteBuffer] = [:]
        var everPublished: [String] = []
        var failAfterBytesForKey: [String: Int] = [:]
        var failingPuts: Set<String> = []
        var failingRemovals: [String] = []
        var lockHolder: String?
        /// Holders of folder locks (``withExclusiveLock(under:holder:_:)``), by prefix.
        var folderLockHolders: [String: String] = [:]
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    public var destinationDescription: String { "memory" }

    /// The files published so far, by key.
    public var files: [String: ByteBuffer] { state.withLockedValue { $0.files } }
    /// Every key published so far (parts and objects), in order, including those removed since.
    public var everPublished: [String] { state.withLockedValue { $0.everPublished } }

    /// Makes the part whose key contains `keyFragment` fail once more than `bytes` were written.
    public func failWrite(whenKeyContains keyFragment: String, afterBytes bytes: Int) {
        state.withLockedValue { $0.failAfterBytesForKey[keyFragment] = bytes }
    }

    /// Makes every later ``put(_:named:)`` of `key` throw (to test a failing `_SUCCESS`).
    public func failPut(named key: String) {
        state.withLockedValue { _ = $0.failingPuts.insert(key) }
    }

    /// Makes every later ``remove(named:)`` of a key containing `keyFragment` throw.
    public func failRemove(whenKeyContains keyFragment: String) {
        state.withLockedValue { $0.failingRemovals.append(keyFragment) }
    }

    /// The holder of the destination lock, if any.
    public var lockHolder: String? { state.withLockedValue { $0.lockHolder } }

    public func withPart<R>(named key: String, _ body: (inout Writer) async throws -> R) async throws -> R {
        let limit = state.withLockedValue { $0.failAfterBytesForKey.first(where: { key.contains($0.key) })?.value }
        var writer = Writer(buffer: ByteBuffer(), failAfterBytes: limit)
        let result = try await body(&writer)
        let bytes = writer.buffer
        state.withLockedValue {
            $0.files[key] = bytes
            $0.everPublished.append(key)
        }
        return result
    }

    public func put(_ bytes: ByteBuffer, named key: String) async throws {
        try state.withLockedValue { state in
            if state.failingPuts.contains(key) { throw ExportError.sink("in-memory sink: injected failure of \(key)") }
            state.files[key] = bytes
            state.everPublished.append(key)
        }
    }

    public func remove(named key: String) async throws {
        try state.withLockedValue { state in
            if state.failingRemovals.contains(where: { key.contains($0) }) {
                throw ExportError.sink("in-memory sink: injected failure removing \(key)")
            }
            state.files.removeValue(forKey: key)
        }
    }

    public func exists(named key: String) async throws -> Bool {
        state.withLockedValue { $0.files[key] != nil }
    }

    public func list(prefix: String) async throws -> [String] {
        state.withLockedValue { $0.files.keys.filter { $0.hasPrefix(prefix) } }
    }

    public func withExclusiveLock<R>(holder: String, _ body: () async throws -> R) async throws -> R {
        try state.withLockedValue { state in
            if let current = state.lockHolder {
                throw ExportError.sink("The destination 'memory' is locked by another export: \(current)")
            }
            state.lockHolder = holder
        }
        defer { state.withLockedValue { $0.lockHolder = nil } }
        return try await body()
    }

    /// The holder of the lock of folder `prefix`, if any.
    public func lockHolder(under prefix: String) -> String? { state.withLockedValue { $0.folderLockHolders[prefix] } }

    /// A folder's lock (``StagingSink/withExclusiveLock(under:holder:_:)``): one holder per prefix,
    /// independent of the destination lock.
    public func withExclusiveLock<R>(
        under prefix: String,
        holder: String,
        _ body: () async throws -> R
    ) async throws
        -> R
    {
        try state.withLockedValue { state in
            if let current = state.folderLockHolders[prefix] {
                throw ExportError.sink("The folder 'memory/\(prefix)' is locked by another run: \(current)")
            }
            state.folderLockHolders[prefix] = holder
        }
        defer { state.withLockedValue { $0.folderLockHolders[prefix] = nil } }
        return try await body()
    }
}
