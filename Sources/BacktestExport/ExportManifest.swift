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
    /// Set by a sharded export's commit: the plan's shard count and membership digest, written as
    /// `"shard_plan": {"shards": N, "digest": "…"}`, so that a second commit of the same plan
    /// knows the export is its own. Nil (and absent from the JSON) for a single-machine export.
    var shardPlan: (shards: Int, digest: String)? = nil

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
        var members: [(String, JSONValue)] = [
            ("job_name", .string(configuration.jobName.rawValue)),
            ("export_timestamp", .string(configuration.timestamp.iso8601)),
            ("format", .string(formatName)),
            ("compression", .string(codecName)),
            ("wape_mode", .string(configuration.metrics.wapeMode.rawValue)),
            ("dimensions", .array(schema.dimensions.map { .string($0) })),
            ("forecast_types", .array(schema.outputForecastTypes.map { .string($0.columnName) })),
        ]
        if let shardPlan {
            members.append(
                (
                    "shard_plan",
                    .object([("shards", .integer(shardPlan.shards)), ("digest", .string(shardPlan.digest))])
                )
            )
        }
        members += [("tables", .object(tables)), ("predictor_metrics", predictorMetrics.json)]
        let document = JSONValue.object(members)
        return document.text(expanding: { path in
            path.isEmpty || path == ["tables"] || (path.count == 2 && path[0] == "tables")
                || (path.count == 3 && path[0] == "tables" && path[2] == "parts")
        }) + "\n"
    }
}
