import ExportCore
public import ExportSinks
import NIOCore

/// The ``PartSink`` contract as checks that every sink must pass: run by the test targets against
/// `LocalDirectorySink`, `InMemorySink` and (in the S3 integration tests) `S3Sink`, so that a new
/// sink is tested the same way.
///
/// Each check starts from an empty destination made by `makeSink` and throws a
/// ``ConformanceFailure`` naming the sink and the broken rule. It uses only the protocol, plus
/// `read` to fetch a file's bytes (a sink has no read operation of its own).
public struct PartSinkConformance<Sink: PartSink> {
    /// A sink over a new, empty destination.
    public var makeSink: () async throws -> Sink
    /// The bytes of the complete file under `key`, or nil if there is none.
    public var read: (Sink, String) async throws -> [UInt8]?

    public init(
        makeSink: @escaping () async throws -> Sink,
        read: @escaping (Sink, String) async throws -> [UInt8]?
    ) {
        self.makeSink = makeSink
        self.read = read
    }

    /// Every check, in turn.
    public func run() async throws {
        try await partIsPublishedOnlyWhenItsBodyReturns()
        try await aBodyThatThrowsLeavesNothing()
        try await putExistsAndRemove()
        try await listNamesCompleteFilesUnderAPrefix()
        try await theLockIsExclusiveAndReleased()
        try await aCleanDestinationHasNoLeftovers()
    }

    /// A part's chunks arrive in order under its key, and only once the body has returned.
    public func partIsPublishedOnlyWhenItsBodyReturns() async throws {
        let sink = try await makeSink()
        let key = "forecasted-values/Job_2024-01-01T00-00-00Z_part0.csv"
        let chunks = (0..<5).map { index in
            [UInt8]((0..<(1_000 + index * 777)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) })
        }
        try await sink.withPart(named: key) { writer in
            for chunk in chunks {
                try await writer.write(ByteBuffer(bytes: chunk))
                try check(try await !sink.exists(named: key), sink, "a part is visible while it is written")
            }
            try check(writer.bytesWritten == chunks.joined().count, sink, "bytesWritten counts every chunk")
        }
        try check(try await sink.exists(named: key), sink, "a part exists once its body returns")
        try check(try await read(sink, key) == Array(chunks.joined()), sink, "a part holds its chunks in order")
    }

    /// A body that throws leaves nothing under the key, and its error reaches the caller.
    public func aBodyThatThrowsLeavesNothing() async throws {
        let sink = try await makeSink()
        let key = "forecasted-values/broken.csv"
        do {
            try await sink.withPart(named: key) { writer in
                try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: 100_000))
                throw InjectedFailure()
            }
            throw ConformanceFailure(sink: sink, rule: "withPart returned although its body threw")
        } catch is InjectedFailure {}
        try check(try await !sink.exists(named: key), sink, "a failed part leaves nothing under its key")
        try check(try await sink.list(prefix: "forecasted-values/").isEmpty, sink, "a failed part is not listed")
    }

    /// `put` writes a small file whole (empty ones too); `remove` removes it, and removing an
    /// absent file is not an error.
    public func putExistsAndRemove() async throws {
        let sink = try await makeSink()
        try check(try await !sink.exists(named: "_SUCCESS"), sink, "a new destination is empty")
        try await sink.put(ByteBuffer(), named: "_SUCCESS")
        try await sink.put(ByteBuffer(string: "{\"a\": 1}\n"), named: "_manifest.json")
        try check(try await sink.exists(named: "_SUCCESS"), sink, "put makes a file exist")
        try check(try await read(sink, "_SUCCESS") == [], sink, "an empty file stays empty")
        try check(try await read(sink, "_manifest.json") == Array("{\"a\": 1}\n".utf8), sink, "put writes the bytes")
        try await sink.remove(named: "_SUCCESS")
        try check(try await !sink.exists(named: "_SUCCESS"), sink, "remove removes a file")
        try await sink.remove(named: "_SUCCESS")
        try await sink.remove(named: "forecasted-values/never-written.csv")
        try check(try await sink.exists(named: "_manifest.json"), sink, "remove removes only its file")
    }

    /// `list` gives the keys of complete files starting with a prefix, relative to the root.
    public func listNamesCompleteFilesUnderAPrefix() async throws {
        let sink = try await makeSink()
        try check(try await sink.list(prefix: "forecasted-values/").isEmpty, sink, "listing nothing is empty")
        for key in [
            "forecasted-values/J_part0.csv", "forecasted-values/J_part1.csv", "accuracy-metrics-values/J_part0.csv",
        ] {
            try await sink.withPart(named: key) { try await $0.write(ByteBuffer(string: key)) }
        }
        try await sink.put(ByteBuffer(), named: "_SUCCESS")
        let listed = try await sink.list(prefix: "forecasted-values/J_")
        try check(
            listed.sorted() == ["forecasted-values/J_part0.csv", "forecasted-values/J_part1.csv"],
            sink,
            "list gives exactly the complete files under the prefix, got \(listed.sorted())"
        )
        try await sink.withPart(named: "forecasted-values/J_part2.csv") { writer in
            try await writer.write(ByteBuffer(string: "partial"))
            let during = try await sink.list(prefix: "forecasted-values/")
            try check(during.count == 2, sink, "a part being written is not listed, got \(during.sorted())")
        }
    }

    /// One holder at a time: a second lock while the first is held fails with a sink error naming
    /// the holder; the lock is free again once the body returns or throws.
    public func theLockIsExclusiveAndReleased() async throws {
        let sink = try await makeSink()
        try await sink.withExclusiveLock(holder: "first run (pid 1)") {
            do {
                try await sink.withExclusiveLock(holder: "second run") {}
                throw ConformanceFailure(sink: sink, rule: "a held lock was taken a second time")
            } catch let error as ExportError {
                try check(error.code == .sink, sink, "a held lock is a sink error, got \(error.code)")
                try check(error.description.contains("first run (pid 1)"), sink, "a held lock's error names the holder")
            }
        }
        do {
            try await sink.withExclusiveLock(holder: "third run") { throw InjectedFailure() }
        } catch is InjectedFailure {}
        try await sink.withExclusiveLock(holder: "fourth run") {}
    }

    /// A destination no run was killed in has no leftovers to remove.
    public func aCleanDestinationHasNoLeftovers() async throws {
        let sink = try await makeSink()
        try await sink.withPart(named: "forecasted-values/J_part0.csv") { try await $0.write(ByteBuffer(string: "x")) }
        let removed = try await sink.removeLeftovers(ofJob: "J")
        try check(removed.isEmpty, sink, "removeLeftovers removed \(removed) from a clean destination")
        try check(try await sink.exists(named: "forecasted-values/J_part0.csv"), sink, "leftovers keep parts")
    }

    private func check(_ condition: Bool, _ sink: Sink, _ rule: String) throws(ConformanceFailure) {
        guard condition else { throw ConformanceFailure(sink: sink, rule: rule) }
    }
}

/// A broken rule of the ``PartSink`` contract.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public var description: String

    init(sink: some PartSink, rule: String) {
        description = "\(type(of: sink)) at '\(sink.destinationDescription)' breaks the PartSink contract: \(rule)"
    }
}

/// The error a conformance check throws from a part's body.
struct InjectedFailure: Error {}
