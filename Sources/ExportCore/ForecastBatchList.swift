/// A source over batches already in memory (tests, pipelines that build batches themselves).
public struct ForecastBatchList: ForecastSource, Sendable {
    public let schema: ExportSchema
    private var batches: [ForecastBatch]
    private var next = 0

    public init(schema: ExportSchema, batches: [ForecastBatch]) {
        self.schema = schema
        self.batches = batches
    }

    public mutating func nextBatch() throws -> ForecastBatch? {
        guard next < batches.count else { return nil }
        defer { next += 1 }
        return batches[next]
    }
}
