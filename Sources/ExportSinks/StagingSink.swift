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
}
