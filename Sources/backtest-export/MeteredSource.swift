import ExportCore

/// A ``ForecastSource`` that counts the rows of every batch another one hands out, and where its
/// input's reading stands, into a ``ProgressMeter`` (none: a plain pass-through).
///
/// Cost: three relaxed atomic stores a batch.
struct MeteredSource<Source: ForecastSource>: ForecastSource {
    private var source: Source
    private let meter: ProgressMeter?

    init(_ source: Source, meter: ProgressMeter?) {
        self.source = source
        self.meter = meter
    }

    var schema: ExportSchema { source.schema }
    var inputProgress: InputProgress? { source.inputProgress }

    mutating func nextBatch() throws -> ForecastBatch? {
        guard let batch = try source.nextBatch() else { return nil }
        meter?.recordRead(rows: batch.rowCount, input: source.inputProgress)
        return batch
    }
}
