import NIOCore
import Synchronization
import Testing

@testable import ExportS3

@Suite struct PartUploadQueueTests {
    @Test func pushWaitsWhileAllSlotsAreBusy() async throws {
        let queue = PartUploadQueue(maxInFlight: 2)
        try await queue.push(ByteBuffer(string: "1"), number: 1)
        try await queue.push(ByteBuffer(string: "2"), number: 2)
        #expect(queue.outstanding.count == 2)
        let thirdPushed = Atomic(false)
        let third = Task {
            try await queue.push(ByteBuffer(string: "3"), number: 3)
            thirdPushed.store(true, ordering: .sequentiallyConsistent)
        }
        // Wait until the third push is parked (or, wrongly, done).
        while !queue.outstanding.producerWaiting && !thirdPushed.load(ordering: .sequentiallyConsistent) {
            await Task.yield()
        }
        let pushedBeforeNext = thirdPushed.load(ordering: .sequentiallyConsistent)
        #expect(!pushedBeforeNext)
        #expect(try await queue.next()?.number == 1)
        #expect(try await queue.next()?.number == 2)
        let pushedWhileUploading = thirdPushed.load(ordering: .sequentiallyConsistent)
        #expect(!pushedWhileUploading)  // taken for upload is still in flight
        queue.partUploaded(number: 1, etag: "\"a\"")
        try await third.value
        #expect(queue.outstanding.count == 2)
        #expect(try await queue.next()?.number == 3)
        queue.partUploaded(number: 2, etag: "\"b\"")
        queue.partUploaded(number: 3, etag: "\"c\"")
        queue.close()
        #expect(try await queue.next() == nil)
        #expect(queue.uploadedParts.map(\.number) == [1, 2, 3])
    }

    @Test func failureWakesAWaitingWriter() async throws {
        let queue = PartUploadQueue(maxInFlight: 1)
        try await queue.push(ByteBuffer(string: "1"), number: 1)
        let second = Task { try await queue.push(ByteBuffer(string: "2"), number: 2) }
        while !queue.outstanding.producerWaiting { await Task.yield() }
        queue.fail(InjectedBodyFailure())
        await #expect(throws: InjectedBodyFailure.self) { try await second.value }
        await #expect(throws: InjectedBodyFailure.self) { try await queue.next() }
    }
}
