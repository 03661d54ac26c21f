// `import BacktestExport` is all a library user needs: the exporter and every layer it builds on
// (names, schema, batches and metrics; the CSV and Parquet formats and readers; inputs from files,
// folders, globs and standard input; local and
// in-memory sinks). The S3 sink is a product of its own (`ExportS3`), so that a local-only user
// builds no HTTP or TLS stack.
@_exported public import ExportCSV
@_exported public import ExportCore
@_exported public import ExportInput
@_exported public import ExportParquet
@_exported public import ExportSinks
