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
}
