public import NIOCore

/// A ``PartSink`` that puts every key below a prefix of another sink: a shard writes an ordinary
/// export into its staging folder (`_staging/<job>_<ts>/shard-<K>/`) through one of these.
/// Costs one string concatenation per file.
public struct PrefixedSink<Base: PartSink>: PartSink {
    public typealias Writer = Base.Writer

    public let base: Base
    /// Ends in `/`.
    public let prefix: String

    public init(base: Base, prefix: String) {
        self.base = base
        self.prefix = prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    public var destinationDescription: String { "\(base.destinationDescription)/\(prefix)" }

    public func withPart<R>(named key: String, _ body: (inout Base.Writer) async throws -> R) async throws -> R {
        try await base.withPart(named: prefix + key, body)
    }

    public func put(_ bytes: ByteBuffer, named key: String) async throws {
        try await base.put(bytes, named: prefix + key)
    }

    public func remove(named key: String) async throws { try await base.remove(named: prefix + key) }

    public func exists(named key: String) async throws -> Bool { try await base.exists(named: prefix + key) }

    /// The base's keys under `prefix + keyPrefix`, relative to this sink's prefix.
    public func list(prefix keyPrefix: String) async throws -> [String] {
        try await base.list(prefix: prefix + keyPrefix).compactMap { key in
            key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : nil
        }
    }

    /// Runs `body` without taking the base's destination lock: a staging folder belongs to one
    /// shard of one plan, and only `commit` (which works on the base) publishes. Taking the base's
    /// lock here would make the shards of one plan, which run at once, exclude each other. The
    /// shard holds its staging folder's own lock instead (``StagingSink/withExclusiveLock(under:holder:_:)``
    /// on the base, taken by the shard exporter around the whole run).
    public func withExclusiveLock<R>(holder: String, _ body: () async throws -> R) async throws -> R {
        try await body()
    }

    /// Removes what killed runs of the job left in the base (temporary parts, open uploads).
    @discardableResult
    public func removeLeftovers(ofJob jobName: String) async throws -> [String] {
        try await base.removeLeftovers(ofJob: jobName)
    }
}
