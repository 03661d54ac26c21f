import ExportCore
import ExportSinks
import Foundation
import NIOCore
import Testing

@Suite struct LocalDirectorySinkTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("sink-\(UUID().uuidString)").path

    func files(_ folder: String) -> [String] {
        (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func publishesAPartOnlyWhenItsBodyReturns() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sink = LocalDirectorySink(root: root + "/")
        try await sink.withPart(named: "forecasted-values/a.csv") { writer in
            try await writer.write(ByteBuffer(string: "hello,"))
            // Not visible under its final name while it is being written.
            #expect(!FileManager.default.fileExists(atPath: root + "/forecasted-values/a.csv"))
            try await writer.write(ByteBuffer(string: "world\n"))
            #expect(writer.bytesWritten == 12)
        }
        #expect(try String(contentsOfFile: root + "/forecasted-values/a.csv", encoding: .utf8) == "hello,world\n")
        #expect(files(root) == ["forecasted-values", "forecasted-values/a.csv"])
        #expect(try await sink.exists(named: "forecasted-values/a.csv"))
    }

    @Test func aRunThatFindsTheLockHeldNamesTheHolderEvenIfItHasNotWrittenItsNameYet() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // Another process's moment between flock and writing its description: the lock held, the
        // file still empty; the description follows 20 ms later.
        let fd = open(root + "/_LOCK", O_RDWR | O_CREAT, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
        let writer = Task {
            try await Task.sleep(for: .milliseconds(20))
            let text = Array("export job Other (pid 7)".utf8)
            _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        let sink = LocalDirectorySink(root: root)
        await #expect {
            try await sink.withExclusiveLock(holder: "export job Mine") {}
        } throws: { error in
            (error as? ExportError)?.message.contains("locked by another export: export job Other (pid 7)") == true
        }
        try await writer.value
    }

    struct Injected: Error {}

    @Test func aBodyThatThrowsMidPartLeavesNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sink = LocalDirectorySink(root: root)
        await #expect(throws: Injected.self) {
            try await sink.withPart(named: "forecasted-values/a.csv") { writer in
                try await writer.write(ByteBuffer(repeating: UInt8(ascii: "x"), count: 1 << 20))
                throw Injected()
            }
        }
        #expect(files(root) == ["forecasted-values"])
        #expect(try await !sink.exists(named: "forecasted-values/a.csv"))
    }

    @Test func putRemoveAndExists() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sink = LocalDirectorySink(root: root)
        try await sink.put(ByteBuffer(), named: "_SUCCESS")
        #expect(try await sink.exists(named: "_SUCCESS"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/_SUCCESS")).isEmpty)
        try await sink.remove(named: "_SUCCESS")
        try await sink.remove(named: "_SUCCESS")  // absent: not an error
        #expect(try await !sink.exists(named: "_SUCCESS"))
    }

    @Test func aDestinationThatCannotBeWrittenIsASinkError() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root + "/file", contents: Data("x".utf8))
        let sink = LocalDirectorySink(root: root + "/file/export")
        do {
            try await sink.put(ByteBuffer(), named: "_CHECK")
            Issue.record("wrote below a file")
        } catch let error as ExportError {
            #expect(error.code == .sink)
            #expect(error.message.contains(root + "/file"))
        }
    }
}

@Suite struct InMemorySinkTests {
    @Test func injectedFailureLeavesNoPart() async throws {
        let sink = InMemorySink()
        sink.failWrite(whenKeyContains: "part1", afterBytes: 3)
        try await sink.withPart(named: "t/part0") { try await $0.write(ByteBuffer(string: "abcdef")) }
        await #expect(throws: ExportError.self) {
            try await sink.withPart(named: "t/part1") { try await $0.write(ByteBuffer(string: "abcdef")) }
        }
        #expect(sink.files.keys.sorted() == ["t/part0"])
    }
}
