import BacktestSample
import Benchmark
import ExportCore
import NIOCore

/// Rows per second of the measured region, taken with the benchmark's own clock reading.
let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)
/// Output bytes per second of the measured region.
let bytesPerSecond = BenchmarkMetric.custom("bytes/s", polarity: .prefersLarger, useScalingFactor: false)
/// `malloc` calls per appended 65,536-row batch (rounded), read from the interposer around the loop.
let mallocsPerBatch = BenchmarkMetric.custom("mallocs/batch", polarity: .prefersSmaller, useScalingFactor: false)

extension Benchmark.Configuration {
    /// One iteration = one whole table or job: wall and CPU time, rows/s, bytes/s, mallocs.
    static func large(maxIterations: Int) -> Self {
        .init(
            metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident, rowsPerSecond, bytesPerSecond],
            timeUnits: .milliseconds,
            warmupIterations: 1,
            scalingFactor: .one,
            maxDuration: .seconds(10),
            maxIterations: maxIterations
        )
    }
}

/// `count / elapsed` as a whole number per second.
func perSecond(_ count: Int, _ elapsed: Duration) -> Int {
    let c = elapsed.components
    let seconds = Double(c.seconds) + Double(c.attoseconds) * 1e-18
    return seconds > 0 ? Int(Double(count) / seconds) : 0
}

/// Appends every batch (whole), hands out ready chunks as the exporter does, finishes the part;
/// records rows/s and bytes/s of that region. Everything else (encoder creation) is untimed.
func measureEncoding<Encoder: TableEncoder, Batch: ColumnarBatch>(
    _ benchmark: Benchmark,
    _ encoder: inout Encoder,
    _ batches: [Batch]
) throws {
    let clock = ContinuousClock()
    var rows = 0
    var bytes = 0
    benchmark.startMeasurement()
    let start = clock.now
    for b in batches {
        try encoder.append(b, rows: 0..<b.rowCount)
        rows += b.rowCount
        while let chunk = encoder.takeReadyBytes() { bytes += chunk.readableBytes }
    }
    bytes += try encoder.finish().readableBytes
    let elapsed = clock.now - start
    benchmark.stopMeasurement()
    benchmark.measurement(rowsPerSecond, perSecond(rows, elapsed))
    benchmark.measurement(bytesPerSecond, perSecond(bytes, elapsed))
}

/// The data set, built once per benchmark process on first use (in a benchmark's setup, untimed).
enum BenchData {
    static let dataSet = SyntheticBacktest()
    static var rowCount: Int { dataSet.rowCount }
    /// perf-anchors' L set in 65,536-row batches (the reader's and the grouper's batch size).
    static let forecastBatches: [ForecastBatch] = dataSet.batches(rowsPerBatch: 65_536)
    /// Its accuracy metrics, computed by MetricsAccumulator (no history: MASE not defined).
    static let metricsBatch: MetricsBatch = {
        do { return try SyntheticBacktest.metrics(of: forecastBatches) } catch { fatalError("\(error)") }
    }()
    /// 1 M doubles: the five value columns of the first 200,000 rows, row by row.
    static let doubleSample: [Double] = {
        var values: [Double] = []
        values.reserveCapacity(1_000_000)
        outer: for b in forecastBatches {
            for r in 0..<b.rowCount {
                values.append(b.target.values[r])
                for f in b.forecasts { values.append(f.values[r]) }
                if values.count >= 1_000_000 { break outer }
            }
        }
        return values
    }()

    static func context(_ table: ExportTable) -> PartContext {
        PartContext(
            jobName: try! JobName("bench"),
            timestamp: ExportTimestamp(epochSeconds: 1_709_802_300),
            schema: SyntheticBacktest.schema,
            table: table
        )
    }
}
