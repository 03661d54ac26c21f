import ExportCore
public import NIOCore

/// A destination for the files of one export: a local folder, an S3 prefix, memory.
///
/// Keys are relative to the destination root, with `/` between folders
/// (`forecasted-values/Job_2024-01-01T00-00-00Z_part0.csv`, `_SUCCESS`).
///
/// Guarantee every conforming sink keeps: a file becomes visible under its key only once it is
/// complete. ``withPart(named:_:)`` publishes the part only if `body` returns; if `body` throws (or
/// publishing fails), nothing of the part remains under its key.
public protocol PartSink: Sendable {
    associatedtype Writer: PartWriter

    /// Where the files go, for messages (never holds secrets).
    var destinationDescription: String { get }

    /// Streams one part: `body` writes chunks; the part appears under `key` when `body` returns.
    func withPart<R>(named key: String, _ body: (inout Writer) async throws -> R) async throws -> R

    /// Writes a small file in one go, with the same all-or-nothing guarantee (markers, manifest).
    func put(_ bytes: ByteBuffer, named key: String) async throws

    /// Removes a file if it is there (used to clean up after a failed export). Not an error if absent.
    func remove(named key: String) async throws

    /// Whether a file exists under `key`.
    func exists(named key: String) async throws -> Bool

    /// The keys of the complete files whose key starts with `prefix` (for example
    /// `forecasted-values/`), relative to the destination root, in no particular order. Files
    /// still being written (temporary names, open uploads) are not listed. Empty when nothing
    /// (or not even the folder) exists.
    func list(prefix: String) async throws -> [String]

    /// Runs `body` while holding the destination's exclusive lock, so that two exports into one
    /// destination never interleave. The lock is taken at once or not at all: when another run
    /// holds it, this throws an ``ExportError`` (code `.sink`) whose message names the holder
    /// (`holder` is this run's description, shown to the others). The lock is released when
    /// `body` returns or throws.
    func withExclusiveLock<R>(holder: String, _ body: () async throws -> R) async throws -> R

    /// Removes what earlier runs of job `jobName` into this destination left when they were
    /// killed (temporary parts, open multipart uploads); returns what was removed, for messages.
    /// Leftovers of a run still alive are kept. The default removes nothing (nothing is left).
    @discardableResult
    func removeLeftovers(ofJob jobName: String) async throws -> [String]
}

extension PartSink {
    @discardableResult
    public func removeLeftovers(ofJob jobName: String) async throws -> [String] { [] }
}

/// The key of the lock object a sink keeps while an export holds its destination.
public let destinationLockKey = "_LOCK"

/// Receives the chunks of one part, in order.
public protocol PartWriter {
    /// Bytes accepted so far.
    var bytesWritten: Int { get }
    mutating func write(_ chunk: ByteBuffer) async throws
}
