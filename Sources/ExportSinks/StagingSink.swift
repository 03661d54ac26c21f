public import NIOCore

/// A ``PartSink`` that can also read small files back, move a file to another key and remove a
/// whole folder: what a sharded export needs to stage parts and publish them with one commit.
///
/// Guarantees every conforming sink keeps, on top of ``PartSink``'s:
/// - ``move(from:to:byteCount:)`` makes the file appear under `destination` complete or not at
///   all (local: `rename`; S3: a server-side copy, which creates the object atomically), and
///   removes `source` only after that;
/// - ``removeAll(under:)`` removes every file whose key starts with `prefix`; not an error when
///   there is none.
public protocol StagingSink: PartSink {
    /// The bytes of a small file (manifests, plans), or nil when there is no file under `key`.
    /// - Throws: when the file is larger than `maxBytes`, or on an I/O failure.
    func read(named key: String, maxBytes: Int) async throws -> ByteBuffer?

    /// Publishes the file at `source` under `destination` (replacing a file there), then removes
    /// `source`. `byteCount` is the file's size as recorded when it was written (S3 picks a
    /// single or a multipart copy from it).
    func move(from source: String, to destination: String, byteCount: Int) async throws

    /// Removes every file below `prefix` (a key prefix ending in `/`), and, on disk, the folders
    /// (and those above it that are left empty, up to the root).
    func removeAll(under prefix: String) async throws

    /// Runs `body` while holding the exclusive lock of the folder `prefix` (a key prefix ending in
    /// `/`): its own lock file, `prefix + "_LOCK"`, with the guarantees of
    /// ``PartSink/withExclusiveLock(holder:_:)`` (taken at once or an ``ExportError`` naming the
    /// holder; released when `body` ends; on disk a `flock` the kernel drops when the process
    /// dies; on S3 a `_LOCK` of a dead process of this host is taken over). Independent of the
    /// destination's own lock and of other folders' locks: a shard holds its staging folder's
    /// lock while it runs, and `commit` takes every shard's before it publishes.
    func withExclusiveLock<R>(under prefix: String, holder: String, _ body: () async throws -> R) async throws -> R
}
