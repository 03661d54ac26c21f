/// Computes the `accuracy-metrics-values` rows (SPEC §6) from the same ``ForecastBatch``es the
/// encoders see, one pass, without keeping any point.
///
/// **State.** A fixed set of sums per (series, window) (``WindowSums``: about 40 + 56·quantiles
/// bytes), kept only while the series is held. A window is a series' rows with one
/// (`backtestwindow_start_time`, `backtestwindow_end_time`) pair. Memory is O(held series ×
/// their windows), never O(rows); ``openSeriesCount`` and ``openWindowCount`` make it observable.
///
/// **Streaming.** When rows of a different series arrive, the previous series is complete (the
/// exporter feeds each series whole, in ``SeriesKey`` order); ``finishCurrentSeries()`` completes
/// the current one explicitly. ``takeCompletedSeries()`` hands out and forgets the complete
/// series, so on grouped, sorted input at most one series (plus those completed since the last
/// take) is held. A complete series that gets rows again before it was taken is simply reopened,
/// so input in any order gives the same rows from ``finish()``. Once rows have been taken,
/// ``add(_:rows:)`` refuses a series that is not after every taken one (byte-wise), because its
/// rows could no longer come out in order or once.
///
/// **Numbers.** A point counts when its `target_value` is present and not NaN (a NaN actual is no
/// actual). For each metric it also needs that metric's forecast (its quantile for `wQL`, ŷ for
/// `RMSE`, `WAPE`, `MAPE`, `MASE`) present and not NaN; otherwise the point is left out of that
/// metric only, numerator and denominator. ŷ is `mean`, else `p50`; with neither, those four are
/// not defined. Negative forecasts are used as they are. A metric with no point to use is not
/// defined; a window without any point with an actual has every metric not defined. `Average wQL`
/// is the mean of the row's defined `wQL` values. Sums are compensated (``CompensatedSum``), so rows fed in another order or in other batch
/// sizes give the same bits in practice.
///
/// **MASE.** The numerator is `mean|y − ŷ|` over the window's points; the scale is
/// ``TargetHistory/seasonalScales(of:windowStarts:frequency:)`` for the window's start, with the
/// frequency from ``MetricsOptions/frequency`` or, failing that, inferred from the history. No
/// history, no frequency or no pair before the window: not defined; a zero scale: `0.0`.
///
/// **MAPE** is `(1/n)·Σ|(y − ŷ)/y|`, the sum over points with `y ≠ 0` and `n` every point with
/// an actual and ŷ; a window whose actuals are all zero gets `0.0`. **WAPE** follows
/// ``MetricsOptions/wapeMode`` (absolute error sum by default).
///
/// **Order of rows.** Per series: its `Computed` rows by window (start, then end), then its
/// `Summary` row: per metric, the mean of its defined `Computed` values (not defined when none
/// is), with the earliest start and the latest end. ``takeCompletedSeries()`` and ``finish()``
/// return series in byte-wise ``SeriesKey`` order.
public struct MetricsAccumulator: Sendable {
    private struct SeriesState: Sendable {
        let key: SeriesKey
        var windows: [WindowSums] = []
        /// The window the last row went to, a cache for the common case of consecutive rows.
        var lastWindow = 0
        /// No more rows expected (a different series came after it, or the caller said so).
        var isComplete = false

        init(key: SeriesKey) { self.key = key }
    }

    public let schema: ExportSchema
    public let options: MetricsOptions
    /// The frequency MASE uses: ``MetricsOptions/frequency``, else the one inferred from the
    /// history; nil when there is none (MASE is then not defined).
    public let frequency: Frequency?

    private let layout: MetricsLayout
    /// Windows reserved for a new series (Amazon Forecast allows 1–5 backtest windows).
    private static let initialWindowCapacity = 5
    private var held: [SeriesState] = []
    private var heldIndex: [SeriesKey: Int] = [:]
    /// Index in ``held`` of the series the last row belonged to, while it is open.
    private var current: Int?
    /// The greatest series handed out so far; later series must sort after it.
    private var lastEmitted: SeriesKey?
    /// The pooled sums of every series handed out: mergeable across shards.
    public private(set) var predictorState: PredictorMetricsState

    /// Windows held across all held series (each costs one ``WindowSums``).
    public private(set) var openWindowCount = 0

    /// Series held in memory: the open one and those complete but not yet taken.
    public var openSeriesCount: Int { held.count }

    /// O(1), except that without ``MetricsOptions/frequency`` the frequency is inferred from the
    /// history here, O(history points).
    public init(schema: ExportSchema, options: MetricsOptions = MetricsOptions()) {
        self.schema = schema
        self.options = options
        frequency = options.frequency ?? options.history?.inferredFrequency()
        layout = MetricsLayout(schema: schema)
        predictorState = PredictorMetricsState(quantileCount: layout.quantileCount)
    }

    /// Adds rows `rows` of `batch` (a batch of this schema: one forecast column per forecast type).
    /// O(rows × (quantiles + 1)) plus one key comparison per run of a series and one window lookup
    /// (linear in the series' windows) per run of a window. Allocates only for a new series or window.
    ///
    /// - Throws: ``ExportError/Code/internal`` when, after ``takeCompletedSeries()`` handed out
    ///   series, a row belongs to a series that does not sort after all of them (input that is not
    ///   grouped by series in ``SeriesKey`` order while streaming). Rows before it are kept.
    ///   ``ExportError/Code/validation`` when the batch has not one forecast column per forecast
    ///   type or `rows` is not inside it (the batch's own consistency is
    ///   ``ForecastBatch/validate(schema:)``'s job).
    public mutating func add(_ batch: ForecastBatch, rows: Range<Int>) throws(ExportError) {
        guard batch.forecasts.count == schema.forecastTypes.count else {
            throw .validation(
                "A forecast batch has \(batch.forecasts.count) forecast columns, the schema \(schema.forecastTypes.count) forecast types"
            )
        }
        guard rows.lowerBound >= 0, rows.upperBound <= batch.rowCount else {
            throw .validation("Rows \(rows) are not inside a forecast batch of \(batch.rowCount) rows")
        }
        guard !rows.isEmpty else { return }
        let seriesIndex = batch.seriesIndex
        let starts = batch.windowStart
        let ends = batch.windowEnd
        var runStart = rows.lowerBound
        while runStart < rows.upperBound {
            let index = seriesIndex[runStart]
            var runEnd = runStart + 1
            while runEnd < rows.upperBound && seriesIndex[runEnd] == index { runEnd += 1 }
            let s = try stateIndex(for: batch.series[Int(index)])
            var r = runStart
            while r < runEnd {
                let start = starts[r]
                let end = ends[r]
                var windowEnd = r + 1
                while windowEnd < runEnd && starts[windowEnd] == start && ends[windowEnd] == end { windowEnd += 1 }
                let w = windowIndex(series: s, start: start, end: end)
                held[s].windows[w].add(batch, rows: r..<windowEnd, layout: layout)
                r = windowEnd
            }
            runStart = runEnd
        }
    }

    /// Marks the series that received the last row as complete, so that the next
    /// ``takeCompletedSeries()`` returns it. O(1).
    public mutating func finishCurrentSeries() {
        if let c = current { held[c].isComplete = true }
        current = nil
    }

    /// The rows of the complete series that sort before the open one (all complete series when
    /// none is open), in ``SeriesKey`` order; they are then forgotten. Nil when there is none.
    /// O(held series + rows returned).
    public mutating func takeCompletedSeries() -> MetricsBatch? {
        let openKey = current.map { held[$0].key }
        let ready = held.indices.filter { i in
            guard held[i].isComplete else { return false }
            guard let openKey else { return true }
            return held[i].key < openKey
        }
        guard !ready.isEmpty else { return nil }
        return emit(ready)
    }

    /// Every remaining series' rows, in ``SeriesKey`` order; the accumulator holds nothing after.
    /// ``predictorMetrics`` then covers every series.
    public mutating func finish() -> MetricsBatch {
        finishCurrentSeries()
        return emit(Array(held.indices))
    }

    /// The predictor-level metrics of every series handed out so far (all of them after
    /// ``finish()``). O(windows × metrics).
    public var predictorMetrics: PredictorMetrics { predictorState.metrics(schema: schema) }

    // MARK: - Internals

    private mutating func stateIndex(for key: SeriesKey) throws(ExportError) -> Int {
        if let c = current {
            if held[c].key == key { return c }
            held[c].isComplete = true
        }
        if let i = heldIndex[key] {
            held[i].isComplete = false
            current = i
            return i
        }
        if let last = lastEmitted, !(last < key) {
            throw .internal(
                "Metrics: rows of series '\(key)' arrived after the metrics of series '\(last)' were emitted; "
                    + "streaming metrics need the input grouped by series in byte-wise key order"
            )
        }
        held.append(SeriesState(key: key))
        heldIndex[key] = held.count - 1
        current = held.count - 1
        return held.count - 1
    }

    private mutating func windowIndex(series s: Int, start: Int64, end: Int64) -> Int {
        let last = held[s].lastWindow
        if last < held[s].windows.count, held[s].windows[last].start == start, held[s].windows[last].end == end {
            return last
        }
        var w = 0
        while w < held[s].windows.count && !(held[s].windows[w].start == start && held[s].windows[w].end == end) {
            w += 1
        }
        if w == held[s].windows.count {
            if w == 0 { held[s].windows.reserveCapacity(Self.initialWindowCapacity) }
            held[s].windows.append(WindowSums(start: start, end: end, quantileCount: layout.quantileCount))
            openWindowCount += 1
        }
        held[s].lastWindow = w
        return w
    }

    /// Per-emission scratch space, so that building rows allocates nothing per row or series.
    private struct RowScratch {
        var values: [Double?]
        var sums: [Double]
        var counts: [Int]

        init(metricCount: Int) {
            values = Array(repeating: nil, count: metricCount)
            sums = Array(repeating: 0, count: metricCount)
            counts = Array(repeating: 0, count: metricCount)
        }
    }

    /// Builds the rows of the held series at `indices`, sorted by key, pools them, and forgets them.
    private mutating func emit(_ indices: [Int]) -> MetricsBatch {
        var batch = MetricsBatch(metricCount: layout.metricCount)
        let states = held
        let order = indices.sorted { states[$0].key < states[$1].key }
        let rowCount = order.reduce(0) { $0 + states[$1].windows.count + 1 }
        batch.series.reserveCapacity(order.count)
        batch.seriesIndex.reserveCapacity(rowCount)
        batch.backtestWindow.reserveCapacity(rowCount)
        batch.windowStart.reserveCapacity(rowCount)
        batch.windowEnd.reserveCapacity(rowCount)
        for m in batch.metrics.indices { batch.metrics[m].reserveCapacity(rowCount) }
        var scratch = RowScratch(metricCount: layout.metricCount)
        for i in order { appendRows(of: states[i], to: &batch, scratch: &scratch) }
        if let last = order.last { lastEmitted = states[last].key }

        var removed = [Bool](repeating: false, count: states.count)
        for i in indices { removed[i] = true }
        var kept: [SeriesState] = []
        kept.reserveCapacity(states.count - indices.count)
        var newCurrent: Int?
        for i in states.indices {
            if removed[i] {
                openWindowCount -= states[i].windows.count
                continue
            }
            if i == current { newCurrent = kept.count }
            kept.append(states[i])
        }
        held = kept
        current = newCurrent
        heldIndex.removeAll(keepingCapacity: true)
        for i in held.indices { heldIndex[held[i].key] = i }
        return batch
    }

    private mutating func appendRows(
        of state: SeriesState,
        to batch: inout MetricsBatch,
        scratch: inout RowScratch
    ) {
        guard !state.windows.isEmpty else { return }
        var windows = state.windows
        var ordered = true
        for w in windows.indices.dropFirst()
        where (windows[w - 1].start, windows[w - 1].end) >= (windows[w].start, windows[w].end) {
            ordered = false
        }
        if !ordered { windows.sort { ($0.start, $0.end) < ($1.start, $1.end) } }
        var scales: [Double?] = []
        if let history = options.history, let frequency {
            scales = history.seasonalScales(of: state.key, windowStarts: windows.map(\.start), frequency: frequency)
        }
        batch.series.append(state.key)
        let seriesIndex = Int32(batch.series.count - 1)
        for i in scratch.sums.indices {
            scratch.sums[i] = 0
            scratch.counts[i] = 0
        }
        var earliest = Int64.max
        var latest = Int64.min
        for w in windows.indices {
            let window = windows[w]
            let scale = scales.isEmpty ? nil : scales[w]
            window.metrics(into: &scratch.values, layout: layout, wapeMode: options.wapeMode, scale: scale)
            Self.appendRow(scratch.values, to: &batch, seriesIndex, .computed, window.start, window.end)
            for i in scratch.values.indices {
                if let v = scratch.values[i] {
                    scratch.sums[i] += v
                    scratch.counts[i] += 1
                }
            }
            earliest = min(earliest, window.start)
            latest = max(latest, window.end)
            predictorState.absorb(window, mase: scratch.values[layout.maseIndex])
        }
        for i in scratch.values.indices {
            scratch.values[i] = scratch.counts[i] > 0 ? scratch.sums[i] / Double(scratch.counts[i]) : nil
        }
        Self.appendRow(scratch.values, to: &batch, seriesIndex, .summary, earliest, latest)
        predictorState.seriesCount += 1
    }

    private static func appendRow(
        _ values: [Double?],
        to batch: inout MetricsBatch,
        _ seriesIndex: Int32,
        _ kind: BacktestWindow,
        _ start: Int64,
        _ end: Int64
    ) {
        batch.seriesIndex.append(seriesIndex)
        batch.backtestWindow.append(kind)
        batch.windowStart.append(start)
        batch.windowEnd.append(end)
        for i in values.indices { batch.metrics[i].append(values[i]) }
    }
}
