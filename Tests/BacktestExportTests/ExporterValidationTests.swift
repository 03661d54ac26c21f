import BacktestExport
import ExportCore
import ExportSinks
import Testing

/// A source that hands out its batches, then throws `error` instead of the next one.
private struct FailingSource: ForecastSource {
    let schema: ExportSchema
    var batches: [ForecastBatch]
    let error: any Error

    mutating func nextBatch() throws -> ForecastBatch? {
        guard !batches.isEmpty else { throw error }
        return batches.removeFirst()
    }
}

private struct SourceBroke: Error {}

@Suite struct ExporterValidationTests {
    func exportError(
        configuration: ExportConfiguration,
        format: TextTableFormat = TextTableFormat(),
        sink: InMemorySink,
        source: @escaping () -> some ForecastSource
    ) async -> ExportError? {
        let exporter = BacktestExporter(sink: sink, format: format, configuration: configuration)
        do {
            _ = try await exporter.export(from: source)
            return nil
        } catch let error as ExportError {
            return error
        } catch {
            Issue.record("not an ExportError: \(error)")
            return nil
        }
    }

    @Test func anInvalidConfigurationIsRefusedBeforeAnythingIsWritten() async throws {
        let batches = Fixture.batches(Fixture.rows(series: 3), size: 100)
        for change in [
            { (c: inout ExportConfiguration) in c.maxPartBytes = 0 },
            { $0.maxPartRows = -5 },
            { $0.grouping.memoryLimit = 0 },
            { $0.grouping.batchSize = 0 },
            { $0.grouping.temporaryDirectory = "" },
        ] {
            var configuration = try Fixture.configuration()
            change(&configuration)
            let sink = InMemorySink()
            let error = await exportError(configuration: configuration, sink: sink) {
                ForecastBatchList(schema: Fixture.schema, batches: batches)
            }
            #expect(error?.code == .validation)
            #expect(sink.files.isEmpty, "wrote \(sink.files.keys.sorted())")
        }
    }

    @Test func aBatchWithTheWrongNumberOfForecastColumnsFailsTheExport() async throws {
        var good = Fixture.batches(Fixture.rows(series: 4), size: 1000)
        good[0].forecasts.removeLast()
        let sink = InMemorySink()
        let error = await exportError(configuration: try Fixture.configuration(), sink: sink) {
            ForecastBatchList(schema: Fixture.schema, batches: good)
        }
        #expect(error?.code == .validation)
        #expect(error?.message.contains("1 forecast columns, the schema 2") == true)
        #expect(sink.files["_SUCCESS"] == nil)
        #expect(sink.files.keys.allSatisfy { !$0.contains("/") }, "no part left: \(sink.files.keys.sorted())")
    }

    @Test func cancellationFromTheSourceIsReportedAsCancellation() async throws {
        let batches = Fixture.batches(Fixture.rows(series: 4), size: 7)
        let sink = InMemorySink()
        let error = await exportError(configuration: try Fixture.configuration(), sink: sink) {
            FailingSource(schema: Fixture.schema, batches: Array(batches.prefix(2)), error: CancellationError())
        }
        #expect(error?.code == .cancelled)
        #expect(error?.cause is CancellationError)
        #expect(sink.files["_SUCCESS"] == nil)
    }

    @Test func aForeignErrorKeepsItsCauseAndIsNotCalledASinkError() async throws {
        let sink = InMemorySink()
        let error = await exportError(configuration: try Fixture.configuration(), sink: sink) {
            FailingSource(schema: Fixture.schema, batches: [], error: SourceBroke())
        }
        #expect(error?.code == .internal)
        #expect(error?.cause is SourceBroke)
        #expect(sink.files["_SUCCESS"] == nil)
    }
}
