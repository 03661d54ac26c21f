/// Where backtest rows come from: the CSV reader, the series grouper, or a pipeline's own code.
///
/// A source knows its schema before the first batch and hands out batches until it returns nil.
public protocol ForecastSource: SendableMetatype {
    var schema: ExportSchema { get }
    /// The next batch, or nil at the end. Batches may be of any size, including empty.
    mutating func nextBatch() throws -> ForecastBatch?
    /// How far through its input the source is, where the input's size is known (default: nil).
    var inputProgress: InputProgress? { get }
}

extension ForecastSource {
    public var inputProgress: InputProgress? { nil }
}
