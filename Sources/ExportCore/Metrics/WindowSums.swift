/// The sums one backtest window's metrics are computed from: a fixed state per (series, window),
/// independent of the number of points (about 40 + 56·quantiles bytes).
///
/// Only points with an actual count: a present, non-NaN `target_value`. For each metric a point
/// also needs the forecast that metric reads (its quantile for `wQL`, ŷ for the others), present
/// and not NaN; a point without it is left out of that metric alone, numerator and denominator.
/// The same type pools several series for the predictor-level metrics (``merge(_:)``).
struct WindowSums: Sendable {
    struct Quantile: Sendable {
        /// Σ max(y − q, 0): under-forecast.
        var under = CompensatedSum()
        /// Σ max(q − y, 0): over-forecast.
        var over = CompensatedSum()
        /// Σ|y| over the points with this quantile.
        var absoluteActual = CompensatedSum()
        var count = 0

        mutating func merge(_ other: Quantile) {
            under.add(other.under)
            over.add(other.over)
            absoluteActual.add(other.absoluteActual)
            count += other.count
        }
    }

    struct Point: Sendable {
        /// Points with an actual and ŷ.
        var count = 0
        var squaredError = CompensatedSum()
        var absoluteError = CompensatedSum()
        var absoluteActual = CompensatedSum()
        /// Σ |(y − ŷ)/y| over points with y ≠ 0.
        var absolutePercentageError = CompensatedSum()

        mutating func merge(_ other: Point) {
            count += other.count
            squaredError.add(other.squaredError)
            absoluteError.add(other.absoluteError)
            absoluteActual.add(other.absoluteActual)
            absolutePercentageError.add(other.absolutePercentageError)
        }
    }

    let start: Int64
    let end: Int64
    /// Points with an actual, whatever their forecasts.
    var actualCount = 0
    var quantiles: [Quantile]
    var point = Point()

    init(start: Int64, end: Int64, quantileCount: Int) {
        self.start = start
        self.end = end
        quantiles = Array(repeating: Quantile(), count: quantileCount)
    }

    /// Adds rows `rows` of `batch`, all of which belong to this window. Column by column,
    /// O(rows × (quantiles + 1)), no allocation.
    mutating func add(_ batch: ForecastBatch, rows: Range<Int>, layout: MetricsLayout) {
        let y = batch.target.values
        let yPresent = batch.target.isPresent
        var actuals = 0
        for r in rows where yPresent?[r] ?? true && !y[r].isNaN { actuals += 1 }
        guard actuals > 0 else { return }
        actualCount += actuals

        for k in 0..<layout.quantileCount {
            let column = batch.forecasts[layout.quantileColumns[k]]
            let q = column.values
            let qPresent = column.isPresent
            var sums = Quantile()
            for r in rows where yPresent?[r] ?? true && qPresent?[r] ?? true {
                let actual = y[r]
                let forecast = q[r]
                if actual.isNaN || forecast.isNaN { continue }
                let d = actual - forecast
                if d >= 0 { sums.under.add(d) } else { sums.over.add(-d) }
                sums.absoluteActual.add(abs(actual))
                sums.count += 1
            }
            quantiles[k].merge(sums)
        }

        if let pointColumn = layout.pointColumn {
            let column = batch.forecasts[pointColumn]
            let f = column.values
            let fPresent = column.isPresent
            var sums = Point()
            for r in rows where yPresent?[r] ?? true && fPresent?[r] ?? true {
                let actual = y[r]
                let forecast = f[r]
                if actual.isNaN || forecast.isNaN { continue }
                let e = actual - forecast
                sums.count += 1
                sums.squaredError.add(e * e)
                sums.absoluteError.add(abs(e))
                sums.absoluteActual.add(abs(actual))
                if actual != 0 { sums.absolutePercentageError.add(abs(e / actual)) }
            }
            point.merge(sums)
        }
    }

    /// Adds another window's sums (pooling series).
    mutating func merge(_ other: WindowSums) {
        actualCount += other.actualCount
        for k in quantiles.indices { quantiles[k].merge(other.quantiles[k]) }
        point.merge(other.point)
    }

    /// `mean|y − ŷ|` over the points with ŷ, MASE's numerator; nil when there is none.
    var meanAbsoluteError: Double? {
        point.count > 0 ? point.absoluteError.value / Double(point.count) : nil
    }

    /// Writes this window's metrics into `values` (indexed like ``ExportSchema/metricNames``;
    /// nil = not defined). `scale` is MASE's denominator, nil when there is none (MASE is then
    /// not defined, as it is for a NaN scale; a zero scale gives MASE 0.0). All nil when no point
    /// has an actual.
    func metrics(
        into values: inout [Double?],
        layout: MetricsLayout,
        wapeMode: WAPEMode,
        scale: Double?
    ) {
        for i in values.indices { values[i] = nil }
        guard actualCount > 0 else { return }
        var wqlSum = 0.0
        var wqlCount = 0
        for k in 0..<layout.quantileCount where quantiles[k].count > 0 {
            let sums = quantiles[k]
            let tau = layout.quantileLevels[k]
            let numerator = 2 * (tau * sums.under.value + (1 - tau) * sums.over.value)
            let denominator = sums.absoluteActual.value
            let wql = denominator == 0 ? numerator : numerator / denominator
            values[k] = wql
            wqlSum += wql
            wqlCount += 1
        }
        if let average = layout.averageWQLIndex, wqlCount > 0 { values[average] = wqlSum / Double(wqlCount) }
        guard point.count > 0 else { return }
        let n = Double(point.count)
        values[layout.rmseIndex] = (point.squaredError.value / n).squareRoot()
        let absoluteError = point.absoluteError.value
        let absoluteActual = point.absoluteActual.value
        values[layout.wapeIndex] =
            wapeMode == .absolute || absoluteActual == 0 ? absoluteError : absoluteError / absoluteActual
        // MAPE: the sum over y ≠ 0, divided by every point (a zero actual adds 0 but counts);
        // all actuals zero gives 0.0, as real exports show (SPEC §6).
        values[layout.mapeIndex] = point.absolutePercentageError.value / n
        // MASE: a zero scale gives 0.0 (as real exports show); no scale: not defined.
        if let scale, !scale.isNaN { values[layout.maseIndex] = scale == 0 ? 0 : absoluteError / n / scale }
    }
}
