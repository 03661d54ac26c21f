public import ExportCore

/// `_shard.json`: what one shard of a sharded export staged, written last in its staging folder
/// (`_staging/<job>_<ts>/shard-<K>/`), so that its presence means the shard finished.
///
/// Holds the shard's parts (keys relative to its staging folder, rows, bytes, SHA-256) and its
/// predictor-level metric sums (``PredictorMetricsState``, sums, not averages) for the commit to
/// merge. Deterministic text; doubles are written with shortest round-trip digits and read back
/// bit for bit.
public struct ShardManifest: Sendable, Equatable {
    public static let fileName = "_shard.json"
    /// 2: with `wape_mode` and `mase` (a shard of version 1 cannot be committed with them).
    public static let formatVersion = 2

    public var jobName: JobName
    public var timestamp: ExportTimestamp
    public var shard: Int
    public var shardCount: Int
    /// ``ShardPlan/membershipDigest`` of the plan the shard ran under.
    public var planDigest: String
    public var formatName: String
    public var codecName: String
    public var schema: ExportSchema
    /// Both tables' parts in order, keys relative to the shard's staging folder.
    public var parts: [PublishedPart]
    public var forecastRowCount: Int
    public var metricsRowCount: Int
    public var metricSums: PredictorMetricsState
    /// The WAPE scaling of the shard's metric rows.
    public var wapeMode: WAPEMode
    /// What the shard's MASE values were computed from (``maseBasis(of:)``): shards that differ
    /// in it cannot be committed together.
    public var maseBasis: String

    /// `no history`, or `history, frequency <F>` with the frequency MASE uses (given, or
    /// inferred from the history; `not inferred` when it could not be). O(history points) when
    /// the frequency is inferred.
    public static func maseBasis(of options: MetricsOptions) -> String {
        guard let history = options.history else { return "no history" }
        let frequency = options.frequency ?? history.inferredFrequency()
        return "history, frequency " + (frequency?.rawValue ?? "not inferred")
    }

    public init(
        plan: ShardPlan,
        shard: Int,
        formatName: String,
        codecName: String,
        schema: ExportSchema,
        parts: [PublishedPart],
        forecastRowCount: Int,
        metricsRowCount: Int,
        metricSums: PredictorMetricsState,
        wapeMode: WAPEMode = .absolute,
        maseBasis: String = "no history"
    ) {
        jobName = plan.jobName
        timestamp = plan.timestamp
        self.shard = shard
        shardCount = plan.shardCount
        planDigest = plan.membershipDigest
        self.formatName = formatName
        self.codecName = codecName
        self.schema = schema
        self.parts = parts
        self.forecastRowCount = forecastRowCount
        self.metricsRowCount = metricsRowCount
        self.metricSums = metricSums
        self.wapeMode = wapeMode
        self.maseBasis = maseBasis
    }

    public func json() -> String {
        func list(_ values: [String]) -> String { "[" + values.map(JSONText.quote).joined(separator: ", ") + "]" }
        let tables = ExportTable.allCases.map { table in
            let parts = self.parts.filter { $0.table == table }.map { part in
                "{\"key\": \(JSONText.quote(part.key)), \"rows\": \(part.rowCount), \"bytes\": \(part.byteCount), \"sha256\": \(JSONText.quote(part.sha256))}"
            }
            let rows = table == .forecastedValues ? forecastRowCount : metricsRowCount
            return "    \(JSONText.quote(table.folderName)): {\"rows\": \(rows), \"parts\": [\n      "
                + parts.joined(separator: ",\n      ") + "\n    ]}"
        }
        let windows = metricSums.windows.map { window in
            "{\"start\": \(window.start), \"end\": \(window.end), \"items\": \(window.itemCount), \"counts\": ["
                + window.counts.map(String.init).joined(separator: ", ") + "], \"sums\": ["
                + window.sums.map(JSONValue.text(of:)).joined(separator: ", ") + "]}"
        }
        return """
            {
              "version": \(Self.formatVersion),
              "job_name": \(JSONText.quote(jobName.rawValue)),
              "export_timestamp": \(JSONText.quote(timestamp.iso8601)),
              "shard": \(shard),
              "shards": \(shardCount),
              "plan_digest": \(JSONText.quote(planDigest)),
              "format": \(JSONText.quote(formatName)),
              "compression": \(JSONText.quote(codecName)),
              "dimensions": \(list(schema.dimensions)),
              "forecast_types": \(list(schema.forecastTypes.map(\.columnName))),
              "wape_mode": \(JSONText.quote(wapeMode.rawValue)),
              "mase": \(JSONText.quote(maseBasis)),
              "tables": {
            \(tables.joined(separator: ",\n"))
              },
              "metric_sums": {"series": \(metricSums.seriesCount), "quantiles": \(metricSums.quantileCount), "windows": [
                \(windows.joined(separator: ",\n    "))
              ]}
            }

            """
    }

    /// Reads a manifest written by ``json()``; `what` names it in errors.
    public init(parsing text: String, what: String) throws(ExportError) {
        let document = try JSONValue(parsing: text, what: what)
        func fail(_ why: String) -> ExportError { .validation("\(what) is not a shard manifest: \(why)") }
        guard document["version"]?.int == Self.formatVersion else { throw fail("missing or unsupported version") }
        guard let job = document["job_name"]?.string, let stamp = document["export_timestamp"]?.string,
            let shard = document["shard"]?.int, let shards = document["shards"]?.int,
            let digest = document["plan_digest"]?.string, let format = document["format"]?.string,
            let codec = document["compression"]?.string,
            let dimensions = document["dimensions"]?.array?.compactMap(\.string),
            let typeNames = document["forecast_types"]?.array?.compactMap(\.string),
            let wape = document["wape_mode"]?.string, let mase = document["mase"]?.string
        else { throw fail("a required field is missing") }
        guard let wapeMode = WAPEMode(rawValue: wape) else { throw fail("unknown wape_mode '\(wape)'") }
        var types: [ForecastType] = []
        for name in typeNames {
            guard let type = try ForecastType(columnName: name) else { throw fail("unknown forecast type '\(name)'") }
            types.append(type)
        }
        var parts: [PublishedPart] = []
        var rowCounts: [ExportTable: Int] = [:]
        for table in ExportTable.allCases {
            guard let entry = document["tables"]?[table.folderName], let rows = entry["rows"]?.int,
                let list = entry["parts"]?.array
            else { throw fail("no table '\(table.folderName)'") }
            rowCounts[table] = rows
            for item in list {
                guard let key = item["key"]?.string, let partRows = item["rows"]?.int,
                    let bytes = item["bytes"]?.int, let sha = item["sha256"]?.string
                else { throw fail("a part of '\(table.folderName)' lacks key, rows, bytes or sha256") }
                parts.append(PublishedPart(table: table, key: key, rowCount: partRows, byteCount: bytes, sha256: sha))
            }
        }
        guard let sums = document["metric_sums"], let series = sums["series"]?.int,
            let quantiles = sums["quantiles"]?.int, let rawWindows = sums["windows"]?.array
        else { throw fail("no metric_sums") }
        var windows: [PredictorMetricsState.Window] = []
        for raw in rawWindows {
            guard let start = raw["start"]?.int64, let end = raw["end"]?.int64, let items = raw["items"]?.int,
                let counts = raw["counts"]?.array, let values = raw["sums"]?.array
            else { throw fail("a metric window lacks start, end, items, counts or sums") }
            let intCounts = counts.compactMap(\.int)
            let doubles = values.compactMap(\.double)
            guard intCounts.count == counts.count, doubles.count == values.count else {
                throw fail("a metric window holds a value that is not a number")
            }
            windows.append(.init(start: start, end: end, itemCount: items, counts: intCounts, sums: doubles))
        }
        jobName = try JobName(job)
        timestamp = try ExportTimestamp(parsing: stamp)
        self.shard = shard
        shardCount = shards
        planDigest = digest
        formatName = format
        codecName = codec
        schema = try ExportSchema(dimensions: dimensions, forecastTypes: types)
        self.parts = parts
        forecastRowCount = rowCounts[.forecastedValues] ?? 0
        metricsRowCount = rowCounts[.accuracyMetricsValues] ?? 0
        metricSums = try PredictorMetricsState(quantileCount: quantiles, seriesCount: series, windows: windows)
        self.wapeMode = wapeMode
        maseBasis = mase
    }
}
