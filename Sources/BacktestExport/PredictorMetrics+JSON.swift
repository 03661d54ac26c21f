public import ExportCore

extension PredictorMetrics {
    /// As written in `_manifest.json` and the CLI's `--json` output: the series count, the summary
    /// and every window, each metric by name (`null`: not defined).
    public var json: JSONValue {
        func values(_ values: [Double?]) -> JSONValue {
            .object(zip(metricNames, values).map { ($0, .finite($1)) })
        }
        let windows: [JSONValue] = windows.map { window in
            .object([
                ("start", .string(ExportTimestamp.windowBoundText(millis: window.start))),
                ("end", .string(ExportTimestamp.windowBoundText(millis: window.end))),
                ("items", .integer(window.itemCount)),
                ("metrics", values(window.values)),
            ])
        }
        return .object([
            ("series", .integer(seriesCount)), ("summary", values(summary)), ("windows", .array(windows)),
        ])
    }
}
