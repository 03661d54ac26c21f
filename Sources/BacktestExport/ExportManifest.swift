import ExportCore

/// `_manifest.json`: what the export holds, written just before `_SUCCESS`.
///
/// Deterministic: the same export gives the same bytes (keys in a fixed order, no wall-clock time
/// other than the job's timestamp).
struct ExportManifest {
    var configuration: ExportConfiguration
    var schema: ExportSchema
    var formatName: String
    var codecName: String
    var parts: [PublishedPart]
    var forecastRowCount: Int
    var metricsRowCount: Int
    var predictorMetrics: PredictorMetrics

    /// The document: the top level, `tables`, each table and its `parts` one member per line;
    /// each part and the predictor metrics on one line.
    func json() -> String {
        let tables: [(String, JSONValue)] = ExportTable.allCases.map { table in
            let rows = table == .forecastedValues ? forecastRowCount : metricsRowCount
            let parts: [JSONValue] = self.parts.filter { $0.table == table }.map { part in
                .object([
                    ("key", .string(part.key)), ("rows", .integer(part.rowCount)),
                    ("bytes", .integer(part.byteCount)), ("sha256", .string(part.sha256)),
                ])
            }
            return (
                table.folderName,
                .object([
                    ("columns", .array(schema.tableSchema(for: table).columnNames.map { .string($0) })),
                    ("rows", .integer(rows)),
                    ("parts", .array(parts)),
                ])
            )
        }
        let document = JSONValue.object([
            ("job_name", .string(configuration.jobName.rawValue)),
            ("export_timestamp", .string(configuration.timestamp.iso8601)),
            ("format", .string(formatName)),
            ("compression", .string(codecName)),
            ("wape_mode", .string(configuration.metrics.wapeMode.rawValue)),
            ("dimensions", .array(schema.dimensions.map { .string($0) })),
            ("forecast_types", .array(schema.outputForecastTypes.map { .string($0.columnName) })),
            ("tables", .object(tables)),
            ("predictor_metrics", predictorMetrics.json),
        ])
        return document.text(expanding: { path in
            path.isEmpty || path == ["tables"] || (path.count == 2 && path[0] == "tables")
                || (path.count == 3 && path[0] == "tables" && path[2] == "parts")
        }) + "\n"
    }
}
