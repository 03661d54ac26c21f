// TEMPORARY STUB: replaced by the metrics engine branch.
public enum WAPEMode: String, Sendable { case normalized, absolute }
public struct MetricsOptions: Sendable {
    public var wapeMode: WAPEMode
    public init(wapeMode: WAPEMode = .normalized) { self.wapeMode = wapeMode }
}
public struct MetricsAccumulator {
    let schema: ExportSchema
    var done = MetricsBatch(metricCount: 0)
    var current: SeriesKey?
    var windows: [(Int64, Int64)] = []
    public init(schema: ExportSchema, options: MetricsOptions) {
        self.schema = schema
        done = MetricsBatch(metricCount: schema.metricNames.count)
    }
    public mutating func add(_ batch: ForecastBatch, rows: Range<Int>) {
        for row in rows {
            let key = batch.series[Int(batch.seriesIndex[row])]
            if key != current {
                flush()
                current = key
            }
            let w = (batch.windowStart[row], batch.windowEnd[row])
            if !windows.contains(where: { $0 == w }) { windows.append(w) }
        }
    }
    mutating func flush() {
        guard let current else { return }
        for w in windows {
            done.append(
                series: current,
                window: .computed,
                windowStart: w.0,
                windowEnd: w.1,
                metrics: Array(repeating: nil, count: schema.metricNames.count)
            )
        }
        windows = []
        self.current = nil
    }
    public mutating func takeCompletedSeries() -> MetricsBatch? {
        guard done.rowCount > 0 else { return nil }
        defer { done = MetricsBatch(metricCount: schema.metricNames.count) }
        return done
    }
    public mutating func finish() -> MetricsBatch {
        flush()
        defer { done = MetricsBatch(metricCount: schema.metricNames.count) }
        return done
    }
}
