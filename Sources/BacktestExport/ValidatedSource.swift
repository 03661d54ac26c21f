public import ExportCore

/// A ``ForecastSource`` that checks every batch of another one with
/// ``ForecastBatch/validate(schema:)`` before handing it on, so that a library caller's
/// inconsistent batch fails the export with a validation error instead of trapping in a consumer.
///
/// Cost: one pass over each batch's series indexes, plus a look at every column's count and
/// every series key's dimension count.
public struct ValidatedSource<Source: ForecastSource>: ForecastSource {
    private var source: Source

    public init(_ source: Source) { self.source = source }

    public var schema: ExportSchema { source.schema }
    public var inputProgress: InputProgress? { source.inputProgress }

    public mutating func nextBatch() throws -> ForecastBatch? {
        guard let batch = try source.nextBatch() else { return nil }
        try batch.validate(schema: schema)
        return batch
    }
}
