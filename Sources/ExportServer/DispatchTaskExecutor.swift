import Dispatch

/// A task executor on a serial dispatch queue of its own: an export task preferring it runs
/// (with its blocking reads and writes) on that queue's thread, never on the server's event
/// loops nor on the cooperative pool that answers API calls.
final class DispatchTaskExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
