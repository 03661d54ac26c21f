public import ExportCore

/// The CSV reader is a forecast source: the CLI's input.
extension BacktestCSVReader: ForecastSource {}
