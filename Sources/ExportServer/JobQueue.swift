/// Which jobs run now: first come, first served, at most ``maxRunning`` at once. Pure: the
/// caller does what the returned actions say (start or cancel an export task).
///
/// A cancelled job keeps its slot until its task has ended (``finished(_:)``), so the number of
/// export tasks alive never exceeds ``maxRunning``.
public struct JobQueue<ID: Hashable & Sendable>: Sendable {
    public enum Action: Sendable, Equatable {
        case start(ID)
        case cancel(ID)
    }

    public let maxRunning: Int
    public private(set) var pending: [ID] = []
    public private(set) var running: Set<ID> = []

    public init(maxRunning: Int) {
        precondition(maxRunning >= 1, "at least one export must be able to run")
        self.maxRunning = maxRunning
    }

    /// Adds a job at the back of the queue; starts it if a slot is free.
    public mutating func enqueue(_ id: ID) -> [Action] {
        guard !running.contains(id), !pending.contains(id) else { return [] }
        pending.append(id)
        return fill()
    }

    /// Takes a job out: a pending one is dropped, a running one is cancelled (its slot frees
    /// when ``finished(_:)`` is called).
    public mutating func remove(_ id: ID) -> [Action] {
        if let index = pending.firstIndex(of: id) {
            pending.remove(at: index)
            return []
        }
        return running.contains(id) ? [.cancel(id)] : []
    }

    /// A job's task ended: its slot goes to the next pending job.
    public mutating func finished(_ id: ID) -> [Action] {
        running.remove(id)
        return fill()
    }

    private mutating func fill() -> [Action] {
        var actions: [Action] = []
        while running.count < maxRunning, !pending.isEmpty {
            let next = pending.removeFirst()
            running.insert(next)
            actions.append(.start(next))
        }
        return actions
    }
}
