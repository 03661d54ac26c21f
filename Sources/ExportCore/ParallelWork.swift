internal import Dispatch

/// Runs a few pieces of CPU work at once on the threads of the pool made for such work, and
/// returns when all are done: the encoders' way of using both cores on one part.
///
/// The caller's thread runs one of the pieces. Each piece must touch only state that no other
/// piece touches (its own writers, its own output), since they run at the same time; the
/// closures are not checked for that (they need not be `Sendable`). Cost: a wake-up of the pool's
/// threads per call, some microseconds, so a call should carry at least about a millisecond of
/// work.
public enum ParallelWork {
    /// Runs `body(0)`, …, `body(count - 1)` at once.
    public static func run(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let work = UncheckedWork(body: body)
            DispatchQueue.concurrentPerform(iterations: count) { work.body($0) }
        }
    }
}

/// The closure handed to the pool's threads by ``ParallelWork/run(_:_:)``, which keeps the pieces apart.
private struct UncheckedWork: @unchecked Sendable {
    let body: (Int) -> Void
}
