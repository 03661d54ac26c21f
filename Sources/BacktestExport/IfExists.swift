/// What an export does when its destination already holds another export's parts (another job
/// name or timestamp; a re-run of the same name and timestamp is not another export).
public enum IfExists: String, Sendable, CaseIterable {
    /// Stop before writing anything (a validation error naming the option). The CLI's default.
    case error
    /// Remove the other export's parts from both folders first.
    case overwrite
    /// Keep them next to the new parts, as Amazon Forecast does. The library's default.
    case append
}
