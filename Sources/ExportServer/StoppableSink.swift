public import ExportSinks
public import NIOCore

/// A sink that refuses to go on once its ``StopSignal`` is raised: every chunk, part and small
/// file checks it first, so a stopped export never writes `_SUCCESS`. Removal is never refused,
/// so the exporter's clean-up of published parts still runs after a stop.
public struct StoppableSink<Base: PartSink>: PartSink {
    public struct Writer: PartWriter {
        var base: Base.Writer
        let signal: StopSignal

        public var bytesWritten: Int { base.bytesWritten }

        public mutating func write(_ chunk: ByteBuffer) async throws {
            try signal.check()
            try await base.write(chunk)
        }
    }

    public let base: Base
    public let signal: StopSignal

    public init(base: Base, signal: StopSignal) {
        self.base = base
        self.signal = signal
    }

    public var destinationDescription: String { base.destinationDescription }

    public func withPart<R>(named key: String, _ body: (inout Writer) async throws -> R) async throws -> R {
        try signal.check()
        let signal = self.signal
        return try await base.withPart(named: key) { (inner: inout Base.Writer) async throws -> R in
            var writer = Writer(base: inner, signal: signal)
            defer { inner = writer.base }
            let result = try await body(&writer)
            try signal.check()  // a stopped part is not published
            return result
        }
    }

    public func put(_ bytes: ByteBuffer, named key: String) async throws {
        try signal.check()
        try await base.put(bytes, named: key)
    }

    public func remove(named key: String) async throws { try await base.remove(named: key) }

    public func exists(named key: String) async throws -> Bool { try await base.exists(named: key) }

    public func list(prefix: String) async throws -> [String] { try await base.list(prefix: prefix) }

    /// Never refused, like removal: a stopped job's next run cleans up after it.
    @discardableResult
    public func removeLeftovers(ofJob jobName: String) async throws -> [String] {
        try await base.removeLeftovers(ofJob: jobName)
    }

    public func withExclusiveLock<R>(holder: String, _ body: () async throws -> R) async throws -> R {
        try await base.withExclusiveLock(holder: holder, body)
    }
}
