import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Holds back publishing until a check that runs beside the export has passed.
///
/// The grouper's duplicate check over spilled runs reads every run once more; run before any row
/// is handed out, it kept both cores waiting on one (about a sixth of a spilling export). With a
/// gate, the grouper starts it on the blocking-work pool and hands rows out at once, and the
/// exporter calls ``passed()`` before each part is published: no part ever appears under its
/// final name for an input the check refuses, and the check's time overlaps with encoding.
///
/// Safe to share between tasks. Cost: one pool thread for the check's duration.
public final class PublishGate: Sendable {
    private let check = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)

    public init() {}

    /// Starts `work` on the blocking-work pool; ``passed()`` waits for it from then on. Called
    /// before the first row is handed out (so before anything can be published).
    func start(_ work: @escaping @Sendable () throws -> Void) {
        let future = NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any(), work)
        check.withLockedValue { $0 = future }
    }

    /// Returns at once when no check was started, else once it has ended; throws its error.
    public func passed() async throws {
        guard let future = check.withLockedValue({ $0 }) else { return }
        try await future.get()
    }
}
