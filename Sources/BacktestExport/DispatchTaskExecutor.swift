import Dispatch

/// A task executor that runs its jobs on one serial dispatch queue: a thread outside Swift's
/// cooperative pool, for a task whose work blocks (reading and parsing input).
final class DispatchTaskExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
