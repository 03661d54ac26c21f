/// Which jobs run now: first come, first served, at most ``maxRunning`` at once, and one at a
/// time per destination. Pure: the caller does what the returned actions say (start or cancel an
/// export task).
///
/// A cancelled job keeps its slot until its task has ended (``finished(_:)``), so the number of
/// export tasks alive never exceeds ``maxRunning``. Jobs into one destination run one after
/// another, in the order they came (Amazon Forecast accepts several exports into one path; run
/// together, the destination's lock would fail all but one): a job whose destination is busy
/// waits, and a later job into another destination may start before it.
public struct JobQueue<ID: Hashable & Sendable>: Sendable {
    public enum Action: Sendable, Equatable {
        case start(ID)
        case cancel(ID)
    }

    public let maxRunning: Int
    public private(set) var pending: [ID] = []
    public private(set) var running: Set<ID> = []
    /// The destination of each pending or running job that has one.
    private var destinations: [ID: String] = [:]

    public init(maxRunning: Int) {
        precondition(maxRunning >= 1, "at least one export must be able to run")
        self.maxRunning = maxRunning
    }

    /// Adds a job at the back of the queue; starts it if a slot is free and no running job writes
    /// to `destination` (nil: a job that shares its destination with none).
    public mutating func enqueue(_ id: ID, destination: String? = nil) -> [Action] {
        guard !running.contains(id), !pending.contains(id) else { return [] }
        pending.append(id)
        destinations[id] = destination
        return fill()
    }

    /// Takes a job out: a pending one is dropped, a running one is cancelled (its slot frees
    /// when ``finished(_:)`` is called).
    public mutating func remove(_ id: ID) -> [Action] {
        if let index = pending.firstIndex(of: id) {
            pending.remove(at: index)
            destinations[id] = nil
            return []
        }
        return running.contains(id) ? [.cancel(id)] : []
    }

    /// A job's task ended: its slot goes to the next pending job.
    public mutating func finished(_ id: ID) -> [Action] {
        if running.remove(id) != nil { destinations[id] = nil }
        return fill()
    }

    /// Starts pending jobs in order while slots are free, skipping those whose destination a
    /// running job writes to.
    private mutating func fill() -> [Action] {
        var actions: [Action] = []
        var busy = Set(running.compactMap { destinations[$0] })
        var index = 0
        while running.count < maxRunning, index < pending.count {
            let next = pending[index]
            if let destination = destinations[next] {
                guard busy.insert(destination).inserted else {
                    index += 1
                    continue
                }
            }
            pending.remove(at: index)
            running.insert(next)
            actions.append(.start(next))
        }
        return actions
    }
}
