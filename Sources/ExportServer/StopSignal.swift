import Synchronization

/// A one-way flag a running export polls: set by `StopResource` (and at shutdown), read at every
/// chunk, part, marker and input batch. Costs one relaxed atomic load per check.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    public func raise() { flag.store(true, ordering: .relaxed) }

    public var isRaised: Bool { flag.load(ordering: .relaxed) }

    /// Throws `CancellationError` once raised or when the current task is cancelled.
    public func check() throws {
        if isRaised || Task.isCancelled { throw CancellationError() }
    }
}
