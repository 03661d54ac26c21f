import ExportServer
import Testing

@Suite struct JobStateMachineTests {
    typealias Machine = JobStateMachine

    @Test func happyPathEndsActive() throws {
        #expect(try Machine.transition(from: .createPending, on: .started).status == .createInProgress)
        #expect(try Machine.transition(from: .createInProgress, on: .succeeded) == .init(status: .active))
    }

    @Test func failureKeepsTheMessage() throws {
        let t = try Machine.transition(from: .createInProgress, on: .failed("input.csv:3: bad number"))
        #expect(t.status == .createFailed)
        #expect(t.message == "input.csv:3: bad number")
        #expect(t.actions.isEmpty)
    }

    @Test func stoppingAPendingJobDequeuesIt() throws {
        let t = try Machine.transition(from: .createPending, on: .stopRequested)
        #expect(t.status == .createStopped)
        #expect(t.actions == [.dequeue])
    }

    @Test func stoppingARunningJobCancelsItThenStops() throws {
        let stopping = try Machine.transition(from: .createInProgress, on: .stopRequested)
        #expect(stopping.status == .createStopping)
        #expect(stopping.actions == [.cancelExport])
        #expect(try Machine.transition(from: .createStopping, on: .stopRequested).actions.isEmpty)
        #expect(
            try Machine.transition(from: .createStopping, on: .exportEnded(succeeded: false)).status == .createStopped
        )
        // The export finished before the stop reached it: its files are complete.
        #expect(try Machine.transition(from: .createStopping, on: .exportEnded(succeeded: true)).status == .active)
    }

    @Test func restartRequeuesUnfinishedJobs() throws {
        for status in [JobStatus.createPending, .createInProgress] {
            let t = try Machine.transition(from: status, on: .serverRestarted)
            #expect(t.status == .createPending)
            #expect(t.actions == [.enqueue])
        }
        #expect(try Machine.transition(from: .createStopping, on: .serverRestarted).status == .createStopped)
    }

    @Test func finalStatesRefuseEveryEvent() {
        let events: [Machine.Event] = [
            .started, .succeeded, .failed("x"), .stopRequested, .exportEnded(succeeded: true), .serverRestarted,
        ]
        for status in JobStatus.allCases where status.isFinal {
            for event in events {
                #expect(throws: Machine.NotAllowed.self) { try Machine.transition(from: status, on: event) }
            }
        }
    }

    @Test func outOfOrderEventsAreRefused() {
        #expect(throws: Machine.NotAllowed.self) { try Machine.transition(from: .createPending, on: .succeeded) }
        #expect(throws: Machine.NotAllowed.self) { try Machine.transition(from: .createInProgress, on: .started) }
        #expect(throws: Machine.NotAllowed.self) { try Machine.transition(from: .createStopping, on: .succeeded) }
    }

    @Test func finalStatusesAreTheDeletableOnes() {
        #expect(JobStatus.allCases.filter(\.isFinal) == [.active, .createFailed, .createStopped])
    }
}

@Suite struct JobQueueTests {
    @Test func atMostMaxRunningStartInOrder() {
        var queue = JobQueue<Int>(maxRunning: 2)
        #expect(queue.enqueue(1) == [.start(1)])
        #expect(queue.enqueue(2) == [.start(2)])
        #expect(queue.enqueue(3) == [])
        #expect(queue.enqueue(4) == [])
        #expect(queue.pending == [3, 4])
        #expect(queue.finished(2) == [.start(3)])
        #expect(queue.running == [1, 3])
    }

    @Test func removingAPendingJobDropsIt() {
        var queue = JobQueue<Int>(maxRunning: 1)
        _ = queue.enqueue(1)
        _ = queue.enqueue(2)
        _ = queue.enqueue(3)
        #expect(queue.remove(2) == [])
        #expect(queue.finished(1) == [.start(3)])
    }

    @Test func removingARunningJobCancelsItAndKeepsItsSlotUntilItEnds() {
        var queue = JobQueue<Int>(maxRunning: 1)
        _ = queue.enqueue(1)
        _ = queue.enqueue(2)
        #expect(queue.remove(1) == [.cancel(1)])
        #expect(queue.running == [1])
        #expect(queue.finished(1) == [.start(2)])
    }

    /// Jobs into one destination run one after another (together, its lock would fail all but
    /// one); a job into another destination does not wait behind them.
    @Test func jobsIntoOneDestinationRunOneAfterAnother() {
        var queue = JobQueue<Int>(maxRunning: 3)
        #expect(queue.enqueue(1, destination: "s3://b/p") == [.start(1)])
        #expect(queue.enqueue(2, destination: "s3://b/p") == [])
        #expect(queue.enqueue(3, destination: "s3://b/q") == [.start(3)])
        #expect(queue.enqueue(4) == [.start(4)])
        #expect(queue.enqueue(5, destination: "s3://b/p") == [])
        #expect(queue.pending == [2, 5])
        #expect(queue.finished(3) == [])  // a free slot, but p is still busy
        #expect(queue.finished(1) == [.start(2)])  // in the order they came
        #expect(queue.remove(5) == [])
        #expect(queue.finished(2) == [])
        #expect(queue.enqueue(6, destination: "s3://b/p") == [.start(6)])
        // A running job cancelled keeps its destination busy until its task ends.
        #expect(queue.enqueue(7, destination: "s3://b/p") == [])
        #expect(queue.remove(6) == [.cancel(6)])
        #expect(queue.finished(6) == [.start(7)])
    }

    @Test func enqueueingTwiceIsANoOp() {
        var queue = JobQueue<Int>(maxRunning: 1)
        #expect(queue.enqueue(1) == [.start(1)])
        #expect(queue.enqueue(1) == [])
        _ = queue.enqueue(2)
        #expect(queue.enqueue(2) == [])
        #expect(queue.pending == [2])
    }
}
