/// ``WindowSums`` as plain numbers and back, for ``PredictorMetricsState/Window`` (shard manifests).
///
/// The numbers are exactly the fields: counts as integers and every ``CompensatedSum`` as its
/// (high, low) pair, so a state read back merges bit for bit like the one written.
extension WindowSums {
    /// `actualCount`, each quantile's count, the point count.
    var stateCounts: [Int] {
        [actualCount] + quantiles.map(\.count) + [point.count]
    }

    /// Per quantile: under, over, Σ|y| as (high, low); then the point sums: squared error,
    /// absolute error, Σ|y|, absolute percentage error as (high, low).
    var stateSums: [Double] {
        var out: [Double] = []
        out.reserveCapacity(quantiles.count * 6 + 8)
        for q in quantiles {
            for s in [q.under, q.over, q.absoluteActual] { out += [s.high, s.low] }
        }
        for s in [point.squaredError, point.absoluteError, point.absoluteActual, point.absolutePercentageError] {
            out += [s.high, s.low]
        }
        return out
    }

    /// Rebuilds the sums from ``stateCounts`` and ``stateSums``; nil when the numbers do not fit
    /// `quantileCount`.
    init?(start: Int64, end: Int64, quantileCount: Int, counts: ArraySlice<Int>, sums: ArraySlice<Double>) {
        guard counts.count == quantileCount + 2, sums.count == quantileCount * 6 + 8 else { return nil }
        self.init(start: start, end: end, quantileCount: quantileCount)
        let c = Array(counts)
        let s = Array(sums)
        func sum(_ i: Int) -> CompensatedSum {
            var value = CompensatedSum()
            value.high = s[2 * i]
            value.low = s[2 * i + 1]
            return value
        }
        actualCount = c[0]
        for k in 0..<quantileCount {
            quantiles[k].count = c[1 + k]
            quantiles[k].under = sum(3 * k)
            quantiles[k].over = sum(3 * k + 1)
            quantiles[k].absoluteActual = sum(3 * k + 2)
        }
        point.count = c[quantileCount + 1]
        let p = 3 * quantileCount
        point.squaredError = sum(p)
        point.absoluteError = sum(p + 1)
        point.absoluteActual = sum(p + 2)
        point.absolutePercentageError = sum(p + 3)
    }
}
