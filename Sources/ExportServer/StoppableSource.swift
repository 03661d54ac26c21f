public import ExportCore

/// A forecast source that ends with `CancellationError` once its ``StopSignal`` is raised, so a
/// stop also interrupts reading and grouping (which may run long before the first write).
public struct StoppableSource<Base: ForecastSource>: ForecastSource {
    var base: Base
    let signal: StopSignal

    public init(base: Base, signal: StopSignal) {
        self.base = base
        self.signal = signal
    }

    public var schema: ExportSchema { base.schema }

    public mutating func nextBatch() throws -> ForecastBatch? {
        if signal.isRaised { throw CancellationError() }
        return try base.nextBatch()
    }
}
