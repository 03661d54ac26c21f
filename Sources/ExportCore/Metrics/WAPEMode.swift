/// How the `WAPE` column of `accuracy-metrics-values` is scaled (predictor-level WAPE is always
/// normalized).
public enum WAPEMode: String, Sendable, Hashable, CaseIterable {
    /// `Σ|y − ŷ|` always: what Amazon Forecast's item-level export files contain (SPEC §6; the default).
    case absolute
    /// `Σ|y − ŷ| / Σ|y|`, or the numerator alone where `Σ|y|` is 0.
    case normalized
}
