import BacktestExport
import BacktestSample
import Benchmark
import ExportCSV
import ExportCore
import ExportParquet
import ExportSinks
import MallocInterposerSwift
import NIOCore

// Suites (names start with the suite, so `--filter 'naming.*'` picks one):
//   naming     JobName validation, ExportTimestamp.fileNameForm, PartName.fileName / parsing
//   number     JavaDoubleFormatter.write over the data set's doubles
//   csv        CSVEncoder: forecasted-values (3 M rows) and accuracy-metrics-values (60 k rows)
//   parquet    ParquetEncoder per codec (none, snappy, zstd, gzip), both tables
//   metrics    MetricsAccumulator over 3 M rows
//   export     BacktestExporter, whole job into an InMemorySink, CSV and Parquet
//   alloc      mallocs per 65,536-row batch appended to a warmed-up encoder
// The data (perf-anchors' L set) is generated untimed in each benchmark's setup.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1_000
    )
    namingSuite()
    numberSuite()
    csvSuite()
    parquetSuite()
    metricsSuite()
    exportSuite()
    allocationSuite()
}

// MARK: - Naming engine (per call: .kilo scaling, times are per call)

func namingSuite() {
    Benchmark("naming: JobName validation") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try? JobName("my_backtest_export_job_2024"))
        }
    }
    Benchmark("naming: ExportTimestamp.fileNameForm") { benchmark in
        var t = ExportTimestamp(epochSeconds: 1_709_802_300)
        for _ in benchmark.scaledIterations {
            blackHole(t.fileNameForm)
            t.epochSeconds += 61
        }
    }
    Benchmark("naming: PartName.fileName") { benchmark in
        let job = try JobName("my_backtest_export_job_2024")
        var name = PartName(
            jobName: job,
            timestamp: ExportTimestamp(epochSeconds: 1_709_802_300),
            index: 0,
            fileExtension: "csv"
        )
        for i in benchmark.scaledIterations {
            name.index = i
            blackHole(name.fileName)
        }
    }
    Benchmark("naming: PartName parsing") { benchmark in
        let names = (0..<64).map { "my_backtest_export_job_2024_2024-03-07T09-05-00Z_part\($0).parquet" }
        for i in benchmark.scaledIterations {
            blackHole(try? PartName(parsing: names[i & 63]))
        }
    }
}

// MARK: - Number formatter (.mega scaling: one iteration writes 1 M doubles; times are per value)

func numberSuite() {
    Benchmark(
        "number: JavaDoubleFormatter.write (1 M data-set doubles)",
        configuration: .init(
            metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal, bytesPerSecond],
            scalingFactor: .mega,
            maxDuration: .seconds(3),
            maxIterations: 20
        ),
        closure: { benchmark in
            let values = BenchData.doubleSample
            let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: values.count * JavaDoubleFormatter.maxLength)
            defer { buffer.deallocate() }
            let clock = ContinuousClock()
            benchmark.startMeasurement()
            let start = clock.now
            var offset = 0
            values.withUnsafeBufferPointer { v in
                for i in benchmark.scaledIterations {
                    offset += JavaDoubleFormatter.write(v[i], to: buffer + offset)
                }
            }
            let elapsed = clock.now - start
            benchmark.stopMeasurement()
            blackHole(buffer[offset - 1])
            benchmark.measurement(bytesPerSecond, perSecond(offset, elapsed))
        },
        setup: { _ = BenchData.doubleSample }
    )
}

// MARK: - CSV encoder

func csvSuite() {
    Benchmark(
        "csv: forecasted-values 3M rows",
        configuration: .large(maxIterations: 5),
        closure: { benchmark in
            let context = BenchData.context(.forecastedValues)
            var encoder = CSVFormat().makeEncoder(for: context)
            try measureEncoding(benchmark, &encoder, BenchData.forecastBatches)
        },
        setup: { _ = BenchData.forecastBatches }
    )
    Benchmark(
        "csv: accuracy-metrics-values 60k rows",
        configuration: .large(maxIterations: 50),
        closure: { benchmark in
            var encoder = CSVFormat().makeEncoder(for: BenchData.context(.accuracyMetricsValues))
            try measureEncoding(benchmark, &encoder, [BenchData.metricsBatch])
        },
        setup: { _ = BenchData.metricsBatch }
    )
}

// MARK: - Parquet encoder per codec

func parquetSuite() {
    for codec in [ParquetFormat.Codec.none, .snappy, .zstd, .gzip] {
        Benchmark(
            "parquet: forecasted-values 3M rows, \(codec.rawValue)",
            configuration: .large(maxIterations: codec == .gzip ? 2 : 5),
            closure: { benchmark in
                var encoder = ParquetFormat(codec: codec).makeEncoder(for: BenchData.context(.forecastedValues))
                try measureEncoding(benchmark, &encoder, BenchData.forecastBatches)
            },
            setup: { _ = BenchData.forecastBatches }
        )
        Benchmark(
            "parquet: accuracy-metrics-values 60k rows, \(codec.rawValue)",
            configuration: .large(maxIterations: 30),
            closure: { benchmark in
                var encoder = ParquetFormat(codec: codec).makeEncoder(for: BenchData.context(.accuracyMetricsValues))
                try measureEncoding(benchmark, &encoder, [BenchData.metricsBatch])
            },
            setup: { _ = BenchData.metricsBatch }
        )
    }
}

// MARK: - Metrics accumulator

func metricsSuite() {
    Benchmark(
        "metrics: MetricsAccumulator 3M rows -> 60k rows",
        configuration: .large(maxIterations: 5),
        closure: { benchmark in
            let batches = BenchData.forecastBatches
            let clock = ContinuousClock()
            benchmark.startMeasurement()
            let start = clock.now
            var accumulator = MetricsAccumulator(schema: SyntheticBacktest.schema)
            for b in batches {
                try accumulator.add(b, rows: 0..<b.rowCount)
                if let done = accumulator.takeCompletedSeries() { blackHole(done.rowCount) }
            }
            let last = accumulator.finish()
            let elapsed = clock.now - start
            benchmark.stopMeasurement()
            blackHole(last.rowCount)
            benchmark.measurement(rowsPerSecond, perSecond(BenchData.rowCount, elapsed))
        },
        setup: { _ = BenchData.forecastBatches }
    )
}

// MARK: - Whole export into memory

func exportSuite() {
    func run(_ benchmark: Benchmark, _ format: some TableFormat) async throws {
        let batches = BenchData.forecastBatches
        let configuration = ExportConfiguration(
            jobName: try JobName("bench"),
            timestamp: ExportTimestamp(epochSeconds: 1_709_802_300)
        )
        let exporter = BacktestExporter(sink: InMemorySink(), format: format, configuration: configuration)
        let clock = ContinuousClock()
        benchmark.startMeasurement()
        let start = clock.now
        let result = try await exporter.export(from: {
            ForecastBatchList(schema: SyntheticBacktest.schema, batches: batches)
        })
        let elapsed = clock.now - start
        benchmark.stopMeasurement()
        benchmark.measurement(rowsPerSecond, perSecond(result.forecastRowCount, elapsed))
        benchmark.measurement(bytesPerSecond, perSecond(result.byteCount, elapsed))
    }
    Benchmark(
        "export: whole job 3M rows to InMemorySink, CSV",
        configuration: .large(maxIterations: 3),
        closure: { benchmark in try await run(benchmark, CSVFormat()) },
        setup: { _ = BenchData.forecastBatches }
    )
    Benchmark(
        "export: whole job 3M rows to InMemorySink, Parquet snappy",
        configuration: .large(maxIterations: 3),
        closure: { benchmark in try await run(benchmark, ParquetFormat(codec: .snappy)) },
        setup: { _ = BenchData.forecastBatches }
    )
}

// MARK: - Allocations per batch after warm-up

/// Batches appended before counting starts (the encoder's buffers and caches grow there).
let warmUpBatches = 4
/// Batches counted.
let countedBatches = 16

func allocationSuite() {
    func count(_ benchmark: Benchmark, _ encoder: inout some TableEncoder) throws {
        let batches = BenchData.forecastBatches
        for b in batches[0..<warmUpBatches] {
            try encoder.append(b, rows: 0..<b.rowCount)
            while let chunk = encoder.takeReadyBytes() { blackHole(chunk.readableBytes) }
        }
        benchmark.startMeasurement()
        let before = MallocInterposerSwift.getStatistics().mallocCount
        for b in batches[warmUpBatches..<(warmUpBatches + countedBatches)] {
            try encoder.append(b, rows: 0..<b.rowCount)
            while let chunk = encoder.takeReadyBytes() { blackHole(chunk.readableBytes) }
        }
        let after = MallocInterposerSwift.getStatistics().mallocCount
        benchmark.stopMeasurement()
        benchmark.measurement(mallocsPerBatch, (after - before + countedBatches / 2) / countedBatches)
        blackHole(try encoder.finish().readableBytes)
    }
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .mallocBytesCount, mallocsPerBatch],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(10),
        maxIterations: 3
    )
    Benchmark(
        "alloc: CSV encoder, \(countedBatches) batches of 65536 rows after \(warmUpBatches)",
        configuration: configuration,
        closure: { benchmark in
            var encoder = CSVFormat().makeEncoder(for: BenchData.context(.forecastedValues))
            try count(benchmark, &encoder)
        },
        setup: { _ = BenchData.forecastBatches }
    )
    Benchmark(
        "alloc: Parquet snappy encoder, \(countedBatches) batches of 65536 rows after \(warmUpBatches)",
        configuration: configuration,
        closure: { benchmark in
            var encoder = ParquetFormat(codec: .snappy).makeEncoder(for: BenchData.context(.forecastedValues))
            try count(benchmark, &encoder)
        },
        setup: { _ = BenchData.forecastBatches }
    )
}
