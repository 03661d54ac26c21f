public import ExportCore

/// The columns of the first file of a multi-file input, which every later file must match: the
/// same column names (any order), giving the same schema.
public struct InputColumns: Sendable, Equatable {
    /// The first file, as the user gave it.
    public let file: String
    /// Its column names, in its order.
    public let names: [String]
    public let schema: ExportSchema

    public init(file: String, names: [String], schema: ExportSchema) {
        self.file = file
        self.names = names
        self.schema = schema
    }
}

extension BacktestColumnMap {
    /// Maps `header` as ``map(_:)`` does; with a `reference` (an earlier file's columns) the file
    /// must have exactly the reference's column names, and the map lists the dimensions and forecast
    /// types in the reference's order, so that batches from every file share one schema.
    package static func map(
        _ header: CSVHeader,
        matching reference: InputColumns?,
        declaredDimensions: [String]? = nil
    ) throws(ExportError) -> (BacktestColumnMap, ExportSchema) {
        let (map, schema) = try map(header, declaredDimensions: declaredDimensions)
        guard let reference else { return (map, schema) }
        // Index columns are ignored (unless declared dimensions, which every file then has).
        let declared = Set(declaredDimensions ?? [])
        let mine = Set(header.names.filter { !isIndexColumn($0) || declared.contains($0) })
        let theirs = Set(reference.names.filter { !isIndexColumn($0) || declared.contains($0) })
        guard mine == theirs else {
            var differences: [String] = []
            let extra = header.names.filter { mine.contains($0) && !theirs.contains($0) }
            let missing = reference.names.filter { theirs.contains($0) && !mine.contains($0) }
            if !extra.isEmpty { differences.append("it has " + extra.map { "'\($0)'" }.joined(separator: ", ")) }
            if !missing.isEmpty { differences.append("it lacks " + missing.map { "'\($0)'" }.joined(separator: ", ")) }
            throw header.error(
                .input,
                "The columns differ from those of '\(reference.file)' (\(differences.joined(separator: "; "))):"
                    + " every input file needs the same columns, in any order"
            )
        }
        let aligned = BacktestColumnMap(
            names: map.names,
            itemId: map.itemId,
            dimensions: reference.schema.dimensions.map { header.position(of: $0) },
            timestamp: map.timestamp,
            targetValue: map.targetValue,
            windowStart: map.windowStart,
            windowEnd: map.windowEnd,
            forecastTypes: reference.schema.forecastTypes.map { type in
                map.forecastTypes[schema.forecastTypes.firstIndex(of: type)!]
            },
            schema: reference.schema
        )
        return (aligned, reference.schema)
    }
}
