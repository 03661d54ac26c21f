/// How the `WAPE` column is scaled.
public enum WAPEMode: String, Sendable, Hashable, CaseIterable {
    /// `Σ|y − ŷ| / Σ|y|`, or the numerator alone where `Σ|y|` is 0 (SPEC §6; the default).
    case normalized
    /// `Σ|y − ŷ|` always: what Amazon Forecast's item-level export files actually contain.
    case absolute
}
