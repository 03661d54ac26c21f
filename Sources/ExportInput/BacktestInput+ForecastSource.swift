public import ExportCore

/// The CLI's input (files, folders, globs, standard input; CSV, gzip, Parquet) is a forecast source.
extension BacktestInput: ForecastSource {}
