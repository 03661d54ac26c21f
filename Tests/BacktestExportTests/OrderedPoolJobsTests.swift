import ExportCore
import NIOConcurrencyHelpers
import Testing

@testable import BacktestExport

/// Jobs on a serial pool run in the order queued, never more than `depth` at once wait, and a
/// failure stops the chain and reaches the caller.
@Suite struct OrderedPoolJobsTests {
    struct Boom: Error {}

    @Test("jobs run in the order they were queued, with at most depth pending", arguments: [1, 3, 16])
    func inOrderWithBoundedPending(depth: Int) async throws {
        let seen = NIOLockedValueBox<[Int]>([])
        let running = NIOLockedValueBox((now: 0, most: 0))
        var jobs = OrderedPoolJobs(depth: depth, serial: .forHashing())
        let queued = NIOLockedValueBox(0)
        for i in 0..<500 {
            try await jobs.enqueue {
                // Jobs queued and not finished (this one included), seen from inside a job; the
                // count of queued jobs lags by the one being queued at most: without the wait
                // for room it would reach hundreds.
                let pending = queued.withLockedValue { $0 } - seen.withLockedValue { $0.count }
                running.withLockedValue { $0.most = max($0.most, pending) }
                seen.withLockedValue { $0.append(i) }
            }
            queued.withLockedValue { $0 = i + 1 }
        }
        try await jobs.waitForAll()
        #expect(seen.withLockedValue { $0 } == Array(0..<500))
        #expect(running.withLockedValue { $0.most } <= depth)
    }

    @Test("a failing job stops the chain: later jobs are skipped and its error is thrown")
    func failureStopsTheChain() async throws {
        let ran = NIOLockedValueBox<[Int]>([])
        var jobs = OrderedPoolJobs(depth: 64, serial: .forMetrics())
        // Thrown by an enqueue after the failure (when the failed job has already finished) or by
        // waitForAll.
        await #expect(throws: Boom.self) {
            for i in 0..<20 {
                try await jobs.enqueue {
                    if i == 5 { throw Boom() }
                    ran.withLockedValue { $0.append(i) }
                }
            }
            try await jobs.waitForAll()
        }
        #expect(ran.withLockedValue { $0 } == Array(0..<5))
        // The error stays: a later enqueue throws it instead of running its job.
        await #expect(throws: Boom.self) { try await jobs.enqueue { ran.withLockedValue { $0.append(99) } } }
        #expect(!ran.withLockedValue { $0 }.contains(99))
    }

    @Test("an error is thrown by the enqueue that waits for room after it")
    func enqueueThrowsAnEarlierFailure() async throws {
        var jobs = OrderedPoolJobs(depth: 1, serial: .forHashing())
        try await jobs.enqueue { throw Boom() }
        // With depth 1 this waits for the failed job, then throws its error.
        await #expect(throws: Boom.self) { try await jobs.enqueue {} }
    }
}
