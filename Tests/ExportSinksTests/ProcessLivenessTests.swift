import Testing

@testable import ExportSinks

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// ``TemporaryFiles/isProcessAlive(_:)``, which decides whether a spill folder or an S3 `_LOCK`
/// left by a process of this host is stale.
@Suite struct ProcessLivenessTests {
    /// Starts `argv` without reaping it; returns its pid.
    static func spawn(_ argv: [String]) throws -> pid_t {
        var pid: pid_t = 0
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        let status = posix_spawn(&pid, argv[0], nil, nil, &cArguments, environ)
        guard status == 0 else { throw SpawnFailure(status: status) }
        return pid
    }

    struct SpawnFailure: Error { var status: Int32 }

    @Test func aRunningProcessIsAliveAndAnUnreapedDeadOneIsNot() async throws {
        let sleeper = try Self.spawn(["/bin/sleep", "30"])
        #expect(TemporaryFiles.isProcessAlive(sleeper))
        #expect(!TemporaryFiles.isZombie(sleeper))

        // Killed and not reaped: a zombie, which `kill(pid, 0)` still finds.
        kill(sleeper, SIGKILL)
        var waited = 0
        while !TemporaryFiles.isZombie(sleeper) && waited < 5000 {
            try await Task.sleep(for: .milliseconds(1))
            waited += 1
        }
        #expect(kill(sleeper, 0) == 0)
        #expect(TemporaryFiles.isZombie(sleeper))
        #expect(!TemporaryFiles.isProcessAlive(sleeper))

        var status: Int32 = 0
        #expect(waitpid(sleeper, &status, 0) == sleeper)
        #expect(!TemporaryFiles.isProcessAlive(sleeper))
        #expect(TemporaryFiles.isProcessAlive(getpid()))
    }
}
