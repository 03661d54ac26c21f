/// What the metrics engine needs beyond the forecasts: the WAPE scaling and, for MASE, the
/// target history and its frequency.
public struct MetricsOptions: Sendable {
    /// How `WAPE` is scaled in the per-series rows: absolute by default (predictor-level WAPE is
    /// always normalized).
    public var wapeMode: WAPEMode
    /// The series' frequency, which sets MASE's seasonal lag `m`. When nil it is inferred from
    /// ``history`` (``TargetHistory/inferredFrequency()``); when that fails too, MASE is not defined.
    public var frequency: Frequency?
    /// The target time series MASE's scale is taken from. Nil: MASE is not defined.
    public var history: TargetHistory?

    public init(wapeMode: WAPEMode = .absolute, frequency: Frequency? = nil, history: TargetHistory? = nil) {
        self.wapeMode = wapeMode
        self.frequency = frequency
        self.history = history
    }
}
