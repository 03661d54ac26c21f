/// Rows of the `forecasted-values` table, column by column.
///
/// The reader, the grouper and a pipeline's own code build these; the encoders and the metrics
/// accumulator read them. Times are milliseconds since the epoch, UTC.
public struct ForecastBatch: ColumnarBatch, Sendable {
    public var series: [SeriesKey] = []
    public var seriesIndex: [Int32] = []
    public var timestamp: [Int64] = []
    public var target = DoubleColumn()
    public var windowStart: [Int64] = []
    public var windowEnd: [Int64] = []
    /// One column per forecast type, in the schema's order.
    public var forecasts: [DoubleColumn]
    /// Where each row came from, for error messages: the 1-based line on which its record starts
    /// in ``sourceName``. Either empty (unknown; producers that are not files leave it so) or one
    /// entry per row. Not written to any output.
    public var sourceLine: [Int64] = []
    /// The file the rows came from, as the user named it (empty when unknown).
    public var sourceName = ""

    public init(forecastTypeCount: Int) {
        forecasts = Array(repeating: DoubleColumn(), count: forecastTypeCount)
    }

    public var rowCount: Int { seriesIndex.count }

    public var valueColumns: [BatchColumn] {
        [.times(timestamp), .doubles(target), .times(windowStart), .times(windowEnd)] + forecasts.map { .doubles($0) }
    }

    /// Appends one row. For tests and small producers; bulk producers fill the arrays directly.
    /// A series equal to the last row's reuses its entry in ``series``.
    public mutating func append(
        series key: SeriesKey,
        timestamp: Int64,
        target: Double?,
        windowStart: Int64,
        windowEnd: Int64,
        forecasts values: [Double?]
    ) {
        precondition(values.count == forecasts.count, "one value per forecast type")
        seriesIndex.append(series.index(forAppending: key, after: seriesIndex.last))
        self.timestamp.append(timestamp)
        self.target.append(target)
        self.windowStart.append(windowStart)
        self.windowEnd.append(windowEnd)
        for i in values.indices { forecasts[i].append(values[i]) }
    }

    public mutating func reserveCapacity(_ n: Int) {
        seriesIndex.reserveCapacity(n)
        timestamp.reserveCapacity(n)
        target.reserveCapacity(n)
        windowStart.reserveCapacity(n)
        windowEnd.reserveCapacity(n)
        for i in forecasts.indices { forecasts[i].reserveCapacity(n) }
        if !sourceLine.isEmpty || !sourceName.isEmpty { sourceLine.reserveCapacity(n) }
    }

    /// Empties the batch and keeps its capacity, so that a producer can refill it without allocating.
    public mutating func removeAll() {
        series.removeAll(keepingCapacity: true)
        seriesIndex.removeAll(keepingCapacity: true)
        timestamp.removeAll(keepingCapacity: true)
        target.removeAll()
        windowStart.removeAll(keepingCapacity: true)
        windowEnd.removeAll(keepingCapacity: true)
        for i in forecasts.indices { forecasts[i].removeAll() }
        sourceLine.removeAll(keepingCapacity: true)
    }
}
