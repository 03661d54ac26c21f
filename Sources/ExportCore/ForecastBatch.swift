/// Rows of the `forecasted-values` table, column by column.
///
/// The reader, the grouper and a pipeline's own code build these; the encoders and the metrics
/// accumulator read them. Times are milliseconds since the epoch, UTC.
public struct ForecastBatch: ColumnarBatch, Sendable {
    /// The batch's distinct series; ``seriesIndex`` points into it. Any change to it clears
    /// ``seriesOrigin``. Changes happen in place: appending a key costs what appending to an
    /// array costs (an observer on a stored property would copy the array at every change made
    /// from another module).
    public var series: [SeriesKey] {
        get { seriesStorage }
        set {
            seriesStorage = newValue
            seriesOrigin = nil
        }
        _modify {
            seriesOrigin = nil
            yield &seriesStorage
        }
    }
    private var seriesStorage: [SeriesKey] = []
    /// Where ``series`` came from, when its producer (a reader) numbers its series in a table that
    /// outlives the batch; nil otherwise, and whenever ``series`` changes after it was set. Set it
    /// after ``series``.
    public var seriesOrigin: SeriesOrigin?
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
    /// Whether ``sourceLine`` numbers rows of the file (1-based, a Parquet file) rather than its lines.
    public var sourceCountsRows = false

    public init(forecastTypeCount: Int) {
        forecasts = Array(repeating: DoubleColumn(), count: forecastTypeCount)
    }

    public var rowCount: Int { seriesIndex.count }

    public func sharesColumns(with other: ForecastBatch) -> Bool {
        seriesStorage.isSameStorage(as: other.seriesStorage) && seriesIndex.isSameStorage(as: other.seriesIndex)
            && timestamp.isSameStorage(as: other.timestamp) && target.isSameStorage(as: other.target)
            && windowStart.isSameStorage(as: other.windowStart) && windowEnd.isSameStorage(as: other.windowEnd)
            && forecasts.isSameStorage(as: other.forecasts)
    }

    public var valueColumns: [BatchColumn] {
        [.times(timestamp), .doubles(target), .times(windowStart), .times(windowEnd)] + forecasts.map { .doubles($0) }
    }

    /// Appends one row. For tests and small producers; bulk producers fill the arrays directly.
    /// A series equal to the last row's reuses its entry in ``series``. `values` must have one
    /// entry per forecast column (a programming error otherwise, like an index out of range);
    /// batches handed to the library are checked with ``validate(schema:)``.
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

    /// Checks that the batch is consistent with itself and with `schema`, so that no consumer
    /// traps on it: one forecast column per forecast type, every column (and presence array) as
    /// long as ``seriesIndex``, every series index inside ``series``, every series key with the
    /// schema's number of dimensions, every window bound a whole second. O(rows) for the series
    /// indexes and window bounds, O(columns + series) otherwise.
    ///
    /// - Throws: ``ExportError/Code/validation`` saying what does not fit.
    public func validate(schema: ExportSchema) throws(ExportError) {
        let rows = seriesIndex.count
        guard forecasts.count == schema.forecastTypes.count else {
            throw .validation(
                "A forecast batch has \(forecasts.count) forecast columns, the schema \(schema.forecastTypes.count) forecast types"
            )
        }
        func check(_ name: String, _ count: Int) throws(ExportError) {
            guard count == rows else {
                throw .validation("A forecast batch's column '\(name)' has \(count) values for \(rows) rows")
            }
        }
        func check(_ name: String, _ column: DoubleColumn) throws(ExportError) {
            try check(name, column.values.count)
            if let isPresent = column.isPresent { try check(name + "' presence flags '", isPresent.count) }
        }
        try check("timestamp", timestamp.count)
        try check("target_value", target)
        try check("backtestwindow_start_time", windowStart.count)
        try check("backtestwindow_end_time", windowEnd.count)
        for (i, column) in forecasts.enumerated() { try check(schema.forecastTypes[i].columnName, column) }
        for (start, end) in zip(windowStart, windowEnd) where start % 1000 != 0 || end % 1000 != 0 {
            throw .validation(
                "A forecast batch has a backtest window bound with a fraction of a second (\(start % 1000 != 0 ? start : end) ms):"
                    + " window bounds are whole seconds, as the window columns are written"
            )
        }
        var lowest = Int32.max
        var highest = Int32.min
        for s in seriesIndex {
            lowest = Swift.min(lowest, s)
            highest = Swift.max(highest, s)
        }
        if rows > 0, lowest < 0 || Int(highest) >= series.count {
            throw .validation(
                "A forecast batch refers to series \(lowest < 0 ? lowest : highest), it has \(series.count) series"
            )
        }
        for key in series where key.dimensions.count != schema.dimensions.count {
            throw .validation(
                "A forecast batch's series '\(key)' has \(key.dimensions.count) dimensions, the schema \(schema.dimensions.count)"
            )
        }
    }
}
