import ExportCore

/// One value column of a batch, resolved for the row loop: how to print it and where its data is.
///
/// Built once per `append`; the pointers are set inside the `withUnsafeBufferPointer` closures
/// of the batch's column arrays and used only there (`CSVEncoder.withColumnPointers`). Trivial
/// value, no reference counting in the loop.
struct CSVColumnPlan {
    enum Kind: UInt8 {
        case instant
        case windowTime
        case backtestWindow
        case double
    }

    var kind: Kind
    /// Milliseconds, for `instant` and `windowTime`.
    var times: UnsafePointer<Int64>?
    /// Values, for `double`.
    var doubles: UnsafePointer<Double>?
    /// Presence flags for `double`; nil when every value is present.
    var present: UnsafePointer<Bool>?
    /// Labels, for `backtestWindow`.
    var windows: UnsafePointer<BacktestWindow>?
    /// The text of a missing value (padded by 8 readable bytes), for `double`.
    var missingText: UnsafePointer<UInt8>?
    var missingCount: Int = 0
    /// The timestamp cache slot, for `instant` and `windowTime`.
    var slot: Int = 0

    init(kind: Kind) { self.kind = kind }

    /// The most bytes one cell of this column touches at its start (its longest text plus store
    /// overshoot), not counting the separator.
    var cellBound: Int {
        switch kind {
        case .instant, .windowTime: CSVTimestampWriter.maxLength
        case .backtestWindow: 8
        case .double: max(JavaDoubleFormatter.maxLength, missingCount + 8)
        }
    }
}
