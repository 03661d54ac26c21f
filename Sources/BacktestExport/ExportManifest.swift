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

    func json() -> String {
        var out = "{\n"
        out += "  \"job_name\": \(JSONText.quote(configuration.jobName.rawValue)),\n"
        out += "  \"export_timestamp\": \(JSONText.quote(configuration.timestamp.iso8601)),\n"
        out += "  \"format\": \(JSONText.quote(formatName)),\n"
        out += "  \"compression\": \(JSONText.quote(codecName)),\n"
        out += "  \"wape_mode\": \(JSONText.quote(configuration.metrics.wapeMode.rawValue)),\n"
        out += "  \"dimensions\": [\(schema.dimensions.map(JSONText.quote).joined(separator: ", "))],\n"
        out +=
            "  \"forecast_types\": [\(schema.outputForecastTypes.map { JSONText.quote($0.columnName) }.joined(separator: ", "))],\n"
        if let shardPlan {
            out +=
                "  \"shard_plan\": {\"shards\": \(shardPlan.shards), \"digest\": \(JSONText.quote(shardPlan.digest))},\n"
        }
        out += "  \"tables\": {\n"
        let tables = ExportTable.allCases.map { table in
            let columns = schema.tableSchema(for: table).columnNames.map(JSONText.quote).joined(separator: ", ")
            let rows = table == .forecastedValues ? forecastRowCount : metricsRowCount
            let parts = self.parts.filter { $0.table == table }.map { part in
                "      {\"key\": \(JSONText.quote(part.key)), \"rows\": \(part.rowCount), \"bytes\": \(part.byteCount), \"sha256\": \(JSONText.quote(part.sha256))}"
            }
            return
                "    \(JSONText.quote(table.folderName)): {\n      \"columns\": [\(columns)],\n      \"rows\": \(rows),\n      \"parts\": [\n  \(parts.joined(separator: ",\n  "))\n      ]\n    }"
        }
        out += tables.joined(separator: ",\n") + "\n  },\n"
        out += "  \"predictor_metrics\": \(Self.json(predictorMetrics))\n}\n"
        return out
    }

    /// Predictor-level metrics: per window and summary, each metric by name (null = not defined).
    static func json(_ metrics: PredictorMetrics) -> String {
        func values(_ values: [Double?]) -> String {
            let pairs = zip(metrics.metricNames, values).map { name, value in
                "\(JSONText.quote(name)): \(value.map { $0.isFinite ? "\($0)" : "null" } ?? "null")"
            }
            return "{" + pairs.joined(separator: ", ") + "}"
        }
        let windows = metrics.windows.map { window in
            let start = JSONText.quote(ExportTimestamp.windowBoundText(millis: window.start))
            let end = JSONText.quote(ExportTimestamp.windowBoundText(millis: window.end))
            return
                "{\"start\": \(start), \"end\": \(end), \"items\": \(window.itemCount), \"metrics\": \(values(window.values))}"
        }
        return "{\"series\": \(metrics.seriesCount), \"summary\": \(values(metrics.summary)), \"windows\": ["
            + windows.joined(separator: ", ") + "]}"
    }
}
