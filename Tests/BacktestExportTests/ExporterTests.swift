import BacktestExport
import ExportCore
import ExportSinks
import ExportTesting
import Foundation
import NIOCore
import Testing

/// One input row, for building batches in any order.
typealias Row = ForecastRow

enum Fixture {
    static let schema = try! ExportSchema(dimensions: ["store"], forecastTypes: [.quantile(hundredths: 10), .mean])

    /// `series` series × `windows` windows × `horizon` daily points, with awkward ids and some missing values.
    static func rows(series: Int, windows: Int = 2, horizon: Int = 5, seed: UInt64 = 7) -> [Row] {
        ForecastRow.awkwardSeries(series: series, windows: windows, horizon: horizon, seed: seed)
    }

    static func batches(_ rows: [Row], size: Int) -> [ForecastBatch] {
        ForecastRow.batches(rows, size: size, forecastTypeCount: schema.forecastTypes.count)
    }

    static func configuration(
        maxPartRows: Int? = nil,
        memoryLimit: Int = 1 << 30,
        temp: String? = nil
    ) throws
        -> ExportConfiguration
    {
        ExportConfiguration(
            jobName: try JobName("TestJob"),
            timestamp: try ExportTimestamp(parsing: "2024-01-02T03:04:05Z"),
            maxPartRows: maxPartRows,
            grouping: GroupingOptions(memoryLimit: memoryLimit, temporaryDirectory: temp)
        )
    }

    static func export(
        _ rows: [Row],
        batchSize: Int = 4096,
        configuration: ExportConfiguration,
        sink: InMemorySink = InMemorySink()
    ) async throws -> (InMemorySink, ExportResult) {
        let batches = batches(rows, size: batchSize)
        let exporter = BacktestExporter(sink: sink, format: TextTableFormat(), configuration: configuration)
        let result = try await exporter.export(from: { ForecastBatchList(schema: schema, batches: batches) })
        return (sink, result)
    }

    static func text(_ sink: InMemorySink) -> [String: String] {
        sink.files.mapValues { String(buffer: $0) }
    }
}

@Suite struct ExporterTests {
    @Test func writesTheAmazonForecastLayout() async throws {
        let rows = Fixture.rows(series: 20)
        let (sink, result) = try await Fixture.export(rows, configuration: try Fixture.configuration())
        let files = Fixture.text(sink)
        #expect(
            files.keys.sorted() == [
                "_CHECK", "_SUCCESS", "_manifest.json",
                "accuracy-metrics-values/TestJob_2024-01-02T03-04-05Z_part0.txt",
                "forecasted-values/TestJob_2024-01-02T03-04-05Z_part0.txt",
            ]
        )
        #expect(files["_CHECK"] == "" && files["_SUCCESS"] == "")
        #expect(result.forecastRowCount == rows.count)
        #expect(result.inputWasInExportOrder == false)  // the fixture's ids are not in byte order
        let lines = files["forecasted-values/TestJob_2024-01-02T03-04-05Z_part0.txt"]!.split(
            separator: "\n",
            omittingEmptySubsequences: false
        )
        #expect(
            lines.first
                == "item_id|store|timestamp|target_value|backtestwindow_start_time|backtestwindow_end_time|mean|p10"
        )
        let manifest = try JSONSerialization.jsonObject(with: Data(files["_manifest.json"]!.utf8)) as! [String: Any]
        #expect(manifest["job_name"] as? String == "TestJob")
        #expect(manifest["export_timestamp"] as? String == "2024-01-02T03:04:05Z")
        let tables = manifest["tables"] as! [String: Any]
        let forecast = tables["forecasted-values"] as! [String: Any]
        #expect(forecast["rows"] as? Int == rows.count)
        let parts = forecast["parts"] as! [[String: Any]]
        #expect(parts.count == 1)
        #expect(parts[0]["bytes"] as? Int == sink.files[parts[0]["key"] as! String]!.readableBytes)
        #expect((parts[0]["sha256"] as? String)?.count == 64)
    }

    @Test func anyInputOrderAndAnyMemoryBudgetGiveIdenticalFiles() async throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("grouper-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let rows = Fixture.rows(series: 150, windows: 3, horizon: 7)
        let sortedRows = rows.sorted(by: exportOrder)
        let (reference, sortedResult) = try await Fixture.export(sortedRows, configuration: try Fixture.configuration())
        #expect(sortedResult.inputWasInExportOrder)
        #expect(sortedResult.spilledRunCount == 0)
        var generator = SystemRandomNumberGenerator()
        let orders: [(String, [Row])] = [
            ("reversed", sortedRows.reversed()), ("shuffled", rows.shuffled(using: &generator)), ("as made", rows),
        ]
        for (name, ordered) in orders {
            for (budget, spills) in [(1 << 30, false), (64 << 10, true), (4 << 10, true)] {
                for batchSize in [1, 7, 4096] where batchSize != 1 || budget == 4 << 10 {
                    let (sink, result) = try await Fixture.export(
                        ordered,
                        batchSize: batchSize,
                        configuration: try Fixture.configuration(memoryLimit: budget, temp: temp)
                    )
                    #expect(
                        Fixture.text(sink) == Fixture.text(reference),
                        "\(name), budget \(budget), batch \(batchSize)"
                    )
                    #expect(!result.inputWasInExportOrder)
                    #expect((result.spilledRunCount > 0) == spills, "\(name) \(budget): \(result.spilledRunCount) runs")
                    if budget == 4 << 10 && batchSize < 100 { #expect(result.spilledRunCount > 5) }
                    #expect(try FileManager.default.contentsOfDirectory(atPath: temp).isEmpty)
                }
            }
        }
    }

    @Test func forecastRowsAreInExportOrderAndComplete() async throws {
        let rows = Fixture.rows(series: 40).shuffled()
        let (sink, _) = try await Fixture.export(rows, configuration: try Fixture.configuration(maxPartRows: 7))
        let files = Fixture.text(sink)
        let partKeys = files.keys.filter { $0.hasPrefix("forecasted-values/") }
            .sorted {
                try! PartName(parsing: String($0.split(separator: "/")[1])).index
                    < PartName(parsing: String($1.split(separator: "/")[1])).index
            }
        var seen: [String] = []
        var seriesParts: [String: Set<String>] = [:]
        for key in partKeys {
            let body = files[key]!.split(separator: "\n").dropFirst()
            #expect(body.count <= 7 && body.count > 0)
            for line in body {
                seen.append(String(line))
                seriesParts[
                    line.split(separator: "|", omittingEmptySubsequences: false)[0...1].joined(separator: "|"),
                    default: []
                ].insert(key)
            }
        }
        #expect(seen.count == rows.count)
        // Each series (10 rows: 2 windows × 5) is larger than 7 rows, so it may span two parts, never three.
        #expect(seriesParts.values.allSatisfy { $0.count <= 2 })
        #expect(seriesParts.count == 40)
    }

    @Test func zeroRowsStillGiveAPartZeroInEachFolder() async throws {
        let (sink, result) = try await Fixture.export([], configuration: try Fixture.configuration())
        let files = Fixture.text(sink)
        #expect(result.forecastRowCount == 0)
        #expect(files["forecasted-values/TestJob_2024-01-02T03-04-05Z_part0.txt"]?.split(separator: "\n").count == 1)
        #expect(
            files["accuracy-metrics-values/TestJob_2024-01-02T03-04-05Z_part0.txt"]?.split(separator: "\n").count == 1
        )
        #expect(files["_SUCCESS"] != nil)
    }

    @Test func aSinkThatFailsMidPartLeavesNoSuccessAndNoParts() async throws {
        let sink = InMemorySink()
        sink.failWrite(whenKeyContains: "part2", afterBytes: 10)
        let rows = Fixture.rows(series: 30)
        await #expect(throws: ExportError.self) {
            _ = try await Fixture.export(rows, configuration: try Fixture.configuration(maxPartRows: 10), sink: sink)
        }
        #expect(sink.files.keys.sorted() == ["_CHECK"])
    }

    @Test func aSeriesLargerThanTheBudgetAndASingleRow() async throws {
        let temp = FileManager.default.temporaryDirectory.path
        let big = Fixture.rows(series: 1, windows: 5, horizon: 400)
        let (reference, _) = try await Fixture.export(big, configuration: try Fixture.configuration())
        let (spilled, result) = try await Fixture.export(
            big.shuffled(),
            batchSize: 100,
            configuration: try Fixture.configuration(memoryLimit: 8 << 10, temp: temp)
        )
        #expect(result.spilledRunCount > 1)
        #expect(Fixture.text(spilled) == Fixture.text(reference))

        let one = Array(Fixture.rows(series: 1, windows: 1, horizon: 1))
        let (sink, single) = try await Fixture.export(
            one,
            configuration: try Fixture.configuration(memoryLimit: 1, temp: temp)
        )
        #expect(single.forecastRowCount == 1)
        #expect(single.inputWasInExportOrder)
        #expect(Fixture.text(sink).count == 5)
    }
}

/// Export order of test rows: series, window start, timestamp.
func exportOrder(_ lhs: Row, _ rhs: Row) -> Bool {
    if lhs.key != rhs.key { return lhs.key < rhs.key }
    return (lhs.windowStart, lhs.timestamp) < (rhs.windowStart, rhs.timestamp)
}
