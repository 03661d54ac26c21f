/// The status of a predictor backtest export job, spelled as Amazon Forecast spells it.
///
/// `CREATE_PENDING → CREATE_IN_PROGRESS → ACTIVE | CREATE_FAILED`, and from either of the first
/// two `CREATE_STOPPING → CREATE_STOPPED`. See ``JobStateMachine`` for every allowed step.
public enum JobStatus: String, Sendable, Hashable, CaseIterable {
    case createPending = "CREATE_PENDING"
    case createInProgress = "CREATE_IN_PROGRESS"
    case active = "ACTIVE"
    case createFailed = "CREATE_FAILED"
    case createStopping = "CREATE_STOPPING"
    case createStopped = "CREATE_STOPPED"

    /// No further step happens on its own: the job may be deleted.
    public var isFinal: Bool {
        switch self {
        case .active, .createFailed, .createStopped: true
        case .createPending, .createInProgress, .createStopping: false
        }
    }
}
