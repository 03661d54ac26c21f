import BacktestExport
import ExportCSV
import ExportCore
import ExportSinks
import Testing

/// CSV rows held back and encoded on two threads give the same files, cut into the same parts, as
/// rows encoded one range at a time on one thread.
@Suite struct ParallelCSVTests {
    static func export(
        _ rows: [Row],
        threads: Int,
        maxPartBytes: Int?,
        maxPartRows: Int? = nil,
        batchSize: Int
    ) async throws -> [String: String] {
        var configuration = try Fixture.configuration(maxPartRows: maxPartRows)
        configuration.maxPartBytes = maxPartBytes
        let sink = InMemorySink()
        let exporter = BacktestExporter(
            sink: sink,
            format: CSVFormat(compression: .none, chunkSize: 4096, threads: threads),
            configuration: configuration
        )
        let batches = Fixture.batches(rows, size: batchSize)
        _ = try await exporter.export(from: { ForecastBatchList(schema: Fixture.schema, batches: batches) })
        return Fixture.text(sink)
    }

    @Test(arguments: [nil, 5_000, 60_000, 400_000] as [Int?])
    func twoThreadsWriteTheSamePartsAsOne(maxPartBytes: Int?) async throws {
        // 3,000 series × 12 rows: 36,000 rows, more than one held run of rows.
        let rows = Fixture.rows(series: 3_000, windows: 3, horizon: 4)
        let one = try await Self.export(rows, threads: 1, maxPartBytes: maxPartBytes, batchSize: 4096)
        for batchSize in [777, 65_536] {
            let two = try await Self.export(rows, threads: 2, maxPartBytes: maxPartBytes, batchSize: batchSize)
            #expect(two == one, "max part bytes \(maxPartBytes ?? 0), batch \(batchSize)")
        }
        let parts = one.keys.filter { $0.hasPrefix("forecasted-values/") }.count
        #expect(maxPartBytes == nil ? parts == 1 : parts > 1)
        // Each part but the last ended at the first series boundary past the limit.
        if let limit = maxPartBytes {
            for (key, text) in one where key.hasPrefix("forecasted-values/") {
                #expect(text.utf8.count < limit + 12 * 200)  // at most one series (12 rows) past it
            }
        }
    }

    @Test func rowLimitsToo() async throws {
        let rows = Fixture.rows(series: 2_000, windows: 2, horizon: 6)
        let one = try await Self.export(rows, threads: 1, maxPartBytes: 300_000, maxPartRows: 5_000, batchSize: 999)
        let two = try await Self.export(rows, threads: 2, maxPartBytes: 300_000, maxPartRows: 5_000, batchSize: 999)
        #expect(one == two)
        #expect(one.keys.filter { $0.hasPrefix("forecasted-values/") }.count >= 5)
    }
}
