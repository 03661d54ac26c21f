public import ExportCSV

/// The CSV reader is a forecast source: the CLI's input.
extension BacktestCSVReader: ForecastSource {}
