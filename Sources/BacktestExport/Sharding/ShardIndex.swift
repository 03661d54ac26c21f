public import ExportCore

/// Which shard this process is: `--shard K`, or `--shard auto` from the index variable an
/// array-job engine sets. Pure: the environment is passed in.
public enum ShardIndex {
    /// The variables `auto` reads, in this order: Kubernetes Indexed Job, AWS Batch array job,
    /// Slurm job array (made 0-based with `SLURM_ARRAY_TASK_MIN` when that is set).
    public static let variables = ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX", "SLURM_ARRAY_TASK_ID"]

    /// - Throws: ``ExportError/Code/validation`` for an argument that is neither a number nor
    ///   `auto`, `auto` without any of the variables, or an index outside `0..<shardCount`.
    public static func resolve(
        _ argument: String,
        environment: [String: String],
        shardCount: Int
    ) throws(ExportError) -> Int {
        let index: Int
        let source: String
        if argument.lowercased() == "auto" {
            guard let name = variables.first(where: { environment[$0] != nil }), let text = environment[name] else {
                throw .validation(
                    "--shard auto: none of \(variables.joined(separator: ", ")) is set; "
                        + "run on an array-job engine or pass --shard K"
                )
            }
            guard var value = Int(text.trimmingSpaces) else {
                throw .validation("--shard auto: \(name)='\(text)' is not a whole number")
            }
            if name == "SLURM_ARRAY_TASK_ID", let minimum = environment["SLURM_ARRAY_TASK_MIN"].flatMap({ Int($0) }) {
                value -= minimum
            }
            index = value
            source = "\(name)=\(text)"
        } else {
            guard let value = Int(argument) else {
                throw .validation("Invalid --shard '\(argument)': use a shard number (0-based) or auto")
            }
            index = value
            source = "--shard \(argument)"
        }
        guard (0..<shardCount).contains(index) else {
            throw .validation("Shard \(index) (from \(source)) is outside the plan's shards 0…\(shardCount - 1)")
        }
        return index
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
