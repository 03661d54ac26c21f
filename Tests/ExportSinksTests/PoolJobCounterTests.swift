import ExportSinks
import NIOConcurrencyHelpers
import NIOPosix
import Testing

/// The back-pressure counter of the background writers: waits for room, keeps the first error,
/// and a drain waits for every job even after one failed.
@Suite struct PoolJobCounterTests {
    struct Boom: Error, Equatable { let index: Int }

    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 3)
        pool.start()
        return pool
    }()

    @Test("at most limit + 1 jobs are ever in flight when the caller waits for room before each")
    func boundsJobsInFlight() async throws {
        let counter = PoolJobCounter()
        let inFlight = NIOLockedValueBox((now: 0, most: 0))
        for _ in 0..<300 {
            try await counter.wait(untilPendingAtMost: 3)
            counter.started()
            Self.pool.submit { _ in
                counter.finished(running: {
                    inFlight.withLockedValue {
                        $0.now += 1
                        $0.most = max($0.most, $0.now)
                    }
                    for _ in 0..<1_000 { _ = inFlight.withLockedValue { $0.now } }
                    inFlight.withLockedValue { $0.now -= 1 }
                })
            }
        }
        try await counter.wait(untilPendingAtMost: 0, evenAfterFailure: true)
        #expect(inFlight.withLockedValue { $0.most } <= 4)
        #expect(inFlight.withLockedValue { $0.now } == 0)
    }

    @Test("the first error is kept, and a drain returns only when every job has finished")
    func drainWaitsForEveryJobAfterAFailure() async throws {
        let counter = PoolJobCounter()
        let finished = NIOLockedValueBox(0)
        for index in 0..<40 {
            counter.started()
            Self.pool.submit { _ in
                counter.finished(running: {
                    defer { finished.withLockedValue { $0 += 1 } }
                    if index == 0 { throw Boom(index: index) }
                    for _ in 0..<20_000 { _ = finished.withLockedValue { $0 } }
                })
            }
        }
        await #expect(throws: Boom(index: 0)) {
            try await counter.wait(untilPendingAtMost: 0, evenAfterFailure: true)
        }
        #expect(finished.withLockedValue { $0 } == 40)
        #expect(counter.hasFailed)
    }
}
