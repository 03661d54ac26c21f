import Testing

@testable import ExportS3

@Suite struct S3LockOwnerTests {
    @Test func readsTheProcessAndHostOfAHolder() {
        let text =
            "export job Crash_Job (timestamp 2024-06-01T00:00:00Z), process 8058 on vm, started 2026-11-30T17:50:50Z [token 1]"
        let owner = S3Sink.lockOwner(text)
        #expect(owner?.pid == 8058)
        #expect(owner?.host == "vm")
    }

    @Test(arguments: ["", "process on vm,", "process 12 at vm", "process x on vm", "process 7 on ,"])
    func refusesWhatNamesNoOwner(_ text: String) {
        #expect(S3Sink.lockOwner(text) == nil)
    }
}
