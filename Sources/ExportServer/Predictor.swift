public import ExportCore

/// A named backtest input the server can export: the forecasts file, optionally the target
/// history (for MASE/RMSE scaling) and the data frequency. Registered at start
/// (`--predictor NAME=FILE[,history=FILE][,frequency=F]`).
public struct Predictor: Sendable, Equatable {
    public var name: String
    public var input: String
    public var history: String?
    public var frequency: Frequency?

    public init(name: String, input: String, history: String? = nil, frequency: Frequency? = nil) {
        self.name = name
        self.input = input
        self.history = history
        self.frequency = frequency
    }
}
