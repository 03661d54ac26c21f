import BacktestExport
import ExportCore
import ExportSinks
import Foundation
import NIOCore
import Testing

/// SPEC §2's publishing rules: re-runs, other exports in the destination, the lock, a failing
/// last write.
@Suite struct PublishingTests {
    static func configuration(
        timestamp: String = "2024-01-02T03:04:05Z",
        maxPartRows: Int? = nil,
        ifExists: IfExists = .error
    ) throws -> ExportConfiguration {
        var configuration = ExportConfiguration(
            jobName: try JobName("TestJob"),
            timestamp: try ExportTimestamp(parsing: timestamp),
            maxPartRows: maxPartRows
        )
        configuration.ifExists = ifExists
        return configuration
    }

    /// The part keys the manifest lists.
    static func manifestParts(_ files: [String: String]) throws -> Set<String> {
        let manifest = try #require(files["_manifest.json"])
        let json = try JSONSerialization.jsonObject(with: Data(manifest.utf8)) as! [String: Any]
        let tables = json["tables"] as! [String: [String: Any]]
        return Set(tables.values.flatMap { ($0["parts"] as! [[String: Any]]).map { $0["key"] as! String } })
    }

    static func parts(_ files: [String: String]) -> Set<String> {
        Set(files.keys.filter { $0.hasPrefix("forecasted-values/") || $0.hasPrefix("accuracy-metrics-values/") })
    }

    @Test func aReRunWithFewerRowsAndOtherLimitsLeavesExactlyItsManifestsParts() async throws {
        let sink = InMemorySink()
        _ = try await Fixture.export(
            Fixture.rows(series: 40),
            configuration: try Self.configuration(maxPartRows: 10),
            sink: sink
        )
        let first = Self.parts(Fixture.text(sink))
        #expect(first.count > 8)
        _ = try await Fixture.export(
            Fixture.rows(series: 6),
            configuration: try Self.configuration(maxPartRows: 25),
            sink: sink
        )
        let files = Fixture.text(sink)
        #expect(files["_SUCCESS"] != nil)
        #expect(Self.parts(files) == (try Self.manifestParts(files)))
        #expect(Self.parts(files).count < first.count)
    }

    @Test func anotherExportInTheDestinationStopsTheDefaultBeforeAnyWrite() async throws {
        let sink = InMemorySink()
        _ = try await Fixture.export(Fixture.rows(series: 5), configuration: try Self.configuration(), sink: sink)
        let before = Fixture.text(sink)
        await #expect {
            _ = try await Fixture.export(
                Fixture.rows(series: 5),
                configuration: try Self.configuration(timestamp: "2024-02-02T00:00:00Z"),
                sink: sink
            )
        } throws: { error in
            let e = error as? ExportError
            return e?.code == .alreadyExists && e?.exitStatus == 2 && e?.message.contains("--if-exists") == true
        }
        #expect(Fixture.text(sink) == before)
        #expect(sink.lockHolder == nil)
    }

    @Test func overwriteRemovesTheOtherExportAndAppendKeepsIt() async throws {
        for mode in [IfExists.overwrite, .append] {
            let sink = InMemorySink()
            _ = try await Fixture.export(Fixture.rows(series: 5), configuration: try Self.configuration(), sink: sink)
            let old = Self.parts(Fixture.text(sink))
            _ = try await Fixture.export(
                Fixture.rows(series: 3),
                configuration: try Self.configuration(timestamp: "2024-02-02T00:00:00Z", ifExists: mode),
                sink: sink
            )
            let files = Fixture.text(sink)
            let listed = try Self.manifestParts(files)
            #expect(listed.allSatisfy { $0.contains("2024-02-02T00-00-00Z") })
            #expect(Self.parts(files) == (mode == .overwrite ? listed : listed.union(old)), "\(mode)")
        }
    }

    /// Only parts are removed: a user's file that merely starts like a part (a checksum next to
    /// it, a spreadsheet saved beside it) survives a re-run and `--if-exists overwrite`, and does
    /// not count as another export for `--if-exists error`.
    @Test func filesThatOnlyLookLikePartsSurviveReRunsAndOverwrite() async throws {
        let sink = InMemorySink()
        _ = try await Fixture.export(Fixture.rows(series: 5), configuration: try Self.configuration(), sink: sink)
        let bystanders = [
            "forecasted-values/TestJob_2024-01-02T03-04-05Z_part0.txt.sha256",
            "forecasted-values/TestJob_2024-01-02T03-04-05Z_part9.xlsx",
            "accuracy-metrics-values/Other_2023-05-06T07-08-09Z_part0.csv.bak",
        ]
        for key in bystanders { try await sink.put(ByteBuffer(string: "mine"), named: key) }
        // The same job again (it removes its earlier parts), then another export with overwrite.
        _ = try await Fixture.export(Fixture.rows(series: 2), configuration: try Self.configuration(), sink: sink)
        _ = try await Fixture.export(
            Fixture.rows(series: 3),
            configuration: try Self.configuration(timestamp: "2024-02-02T00:00:00Z", ifExists: .overwrite),
            sink: sink
        )
        let files = Fixture.text(sink)
        for key in bystanders { #expect(files[key] == "mine", "\(key)") }
        #expect(Self.parts(files).subtracting(bystanders) == (try Self.manifestParts(files)))
        // Alone in a destination, they are not another export's parts either.
        let fresh = InMemorySink()
        for key in bystanders { try await fresh.put(ByteBuffer(string: "mine"), named: key) }
        _ = try await Fixture.export(Fixture.rows(series: 2), configuration: try Self.configuration(), sink: fresh)
        #expect(Fixture.text(fresh)["_SUCCESS"] != nil)
    }

    @Test func aHeldLockFailsTheExportWithTheHoldersNameAndWritesNothing() async throws {
        let memory = InMemorySink()
        _ = try await memory.withExclusiveLock(holder: "export job Other (pid 42)") {
            await #expect {
                _ = try await Fixture.export(
                    Fixture.rows(series: 2),
                    configuration: try Self.configuration(),
                    sink: memory
                )
            } throws: { error in
                (error as? ExportError)?.message.contains("locked by another export: export job Other (pid 42)") == true
            }
        }
        #expect(memory.files.isEmpty)

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lock-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let local = LocalDirectorySink(root: root)
        try await local.withExclusiveLock(holder: "export job Other (pid 43)") {
            let exporter = BacktestExporter(
                sink: local,
                format: TextTableFormat(),
                configuration: try Self.configuration()
            )
            let batches = Fixture.batches(Fixture.rows(series: 2), size: 100)
            await #expect {
                _ = try await exporter.export(from: { ForecastBatchList(schema: Fixture.schema, batches: batches) })
            } throws: { error in
                (error as? ExportError)?.message.contains("export job Other (pid 43)") == true
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty)  // lock file removed too
        // Free again: an export now succeeds and leaves no lock behind.
        let exporter = BacktestExporter(sink: local, format: TextTableFormat(), configuration: try Self.configuration())
        let batches = Fixture.batches(Fixture.rows(series: 2), size: 100)
        _ = try await exporter.export(from: { ForecastBatchList(schema: Fixture.schema, batches: batches) })
        #expect(FileManager.default.fileExists(atPath: root + "/_SUCCESS"))
        #expect(!FileManager.default.fileExists(atPath: root + "/_LOCK"))
        #expect(try await local.list(prefix: "forecasted-values/").count == 1)
    }

    @Test func aFailingSuccessMarkerTakesTheManifestAndTheRunsPartsWithIt() async throws {
        let sink = InMemorySink()
        sink.failPut(named: "_SUCCESS")
        await #expect(throws: ExportError.self) {
            _ = try await Fixture.export(Fixture.rows(series: 5), configuration: try Self.configuration(), sink: sink)
        }
        #expect(sink.files.keys.sorted() == ["_CHECK"])
    }

    @Test func aFailingRunLeavesAnotherExportsPartsAndMarkersAlone() async throws {
        let sink = InMemorySink()
        _ = try await Fixture.export(Fixture.rows(series: 5), configuration: try Self.configuration(), sink: sink)
        let before = Fixture.text(sink)
        let old = Self.parts(before)
        sink.failWrite(whenKeyContains: "2024-02-02T00-00-00Z_part1", afterBytes: 10)
        await #expect(throws: ExportError.self) {
            _ = try await Fixture.export(
                Fixture.rows(series: 30),
                configuration: try Self.configuration(
                    timestamp: "2024-02-02T00:00:00Z",
                    maxPartRows: 10,
                    ifExists: .append
                ),
                sink: sink
            )
        }
        let after = Fixture.text(sink)
        #expect(Self.parts(after) == old)
        // The other export stays complete: its _SUCCESS and manifest are still there, unchanged.
        #expect(after["_SUCCESS"] != nil)
        #expect(after["_manifest.json"] == before["_manifest.json"])
        // A run that succeeds publishes its own markers over them.
        _ = try await Fixture.export(
            Fixture.rows(series: 3),
            configuration: try Self.configuration(timestamp: "2024-02-02T00:00:00Z", ifExists: .append),
            sink: sink
        )
        let published = Fixture.text(sink)
        #expect(published["_SUCCESS"] != nil)
        #expect(try Self.manifestParts(published).allSatisfy { $0.contains("2024-02-02T00-00-00Z") })
    }

    @Test func aReRunThatFailsOnItsInputLeavesTheEarlierExportComplete() async throws {
        let sink = InMemorySink()
        let rows = Fixture.rows(series: 5)
        _ = try await Fixture.export(rows, configuration: try Self.configuration(), sink: sink)
        let before = Fixture.text(sink)
        // A duplicate row: refused before anything is published, so nothing changes.
        await #expect(throws: ExportError.self) {
            _ = try await Fixture.export(rows + [rows[3]], configuration: try Self.configuration(), sink: sink)
        }
        #expect(Fixture.text(sink).filter { $0.key != "_CHECK" } == before.filter { $0.key != "_CHECK" })
    }

    @Test func aReRunRemovesTheMarkersBeforeItReplacesAPart() async throws {
        let sink = InMemorySink()
        _ = try await Fixture.export(
            Fixture.rows(series: 30),
            configuration: try Self.configuration(maxPartRows: 10),
            sink: sink
        )
        // part0 is replaced, part1 fails: the old manifest would list a part whose bytes changed.
        sink.failWrite(whenKeyContains: "_part1", afterBytes: 10)
        await #expect(throws: ExportError.self) {
            _ = try await Fixture.export(
                Fixture.rows(series: 30, seed: 8),
                configuration: try Self.configuration(maxPartRows: 10),
                sink: sink
            )
        }
        let files = Fixture.text(sink)
        #expect(sink.everPublished.filter { $0.hasPrefix("forecasted-values/") && $0.contains("_part0") }.count == 2)
        #expect(files["_SUCCESS"] == nil)
        #expect(files["_manifest.json"] == nil)
    }

    @Test func overwriteRemovesTheMarkersBeforeTheOtherExportsParts() async throws {
        let sink = InMemorySink()
        _ = try await Fixture.export(
            Fixture.rows(series: 30),
            configuration: try Self.configuration(maxPartRows: 10),
            sink: sink
        )
        // The removal of the other export's part1 fails (as a kill would stop it there).
        sink.failRemove(whenKeyContains: "_part1")
        await #expect(throws: ExportError.self) {
            _ = try await Fixture.export(
                Fixture.rows(series: 3),
                configuration: try Self.configuration(timestamp: "2024-02-02T00:00:00Z", ifExists: .overwrite),
                sink: sink
            )
        }
        let files = Fixture.text(sink)
        #expect(files["_SUCCESS"] == nil)
        #expect(files["_manifest.json"] == nil)
    }

    @Test func localListingSkipsTemporaryFilesAndSubfolders() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("list-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let sink = LocalDirectorySink(root: root)
        try await sink.put(ByteBuffer(string: "x"), named: "forecasted-values/A_part0.csv")
        try await sink.put(ByteBuffer(string: "x"), named: "forecasted-values/B_part0.csv")
        try await sink.put(ByteBuffer(string: "x"), named: "forecasted-values/sub/C.csv")
        try "t".write(toFile: root + "/forecasted-values/.A_part1.csv.1.tmp", atomically: false, encoding: .utf8)
        #expect(
            Set(try await sink.list(prefix: "forecasted-values/")) == [
                "forecasted-values/A_part0.csv", "forecasted-values/B_part0.csv",
            ]
        )
        #expect(try await sink.list(prefix: "forecasted-values/A") == ["forecasted-values/A_part0.csv"])
        #expect(try await sink.list(prefix: "nothing-here/").isEmpty)
    }
}
