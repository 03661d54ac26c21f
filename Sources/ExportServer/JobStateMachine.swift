/// The life of one export job as a pure function: a status and an event in, the next status,
/// the message to keep and what the caller must do out. No I/O, no clock.
///
/// ```
/// CREATE_PENDING ─started─► CREATE_IN_PROGRESS ─succeeded─► ACTIVE
///       │                         │           └─failed────► CREATE_FAILED (message)
///       └─stopRequested─► CREATE_STOPPED    └─stopRequested─► CREATE_STOPPING ─exportEnded─► CREATE_STOPPED
/// ```
/// A restart puts pending and running jobs back to `CREATE_PENDING` (to be run again from the
/// start) and settles `CREATE_STOPPING` as `CREATE_STOPPED`. An export that completes while a
/// stop is pending ends `ACTIVE`: its files, `_SUCCESS` included, are complete, so the stop lost
/// the race. `CREATE_STOPPED` therefore always means no `_SUCCESS` was written.
public enum JobStateMachine {
    public enum Event: Sendable, Equatable {
        /// The runner took the job from the queue.
        case started
        /// The export wrote everything, `_SUCCESS` last.
        case succeeded
        /// The export failed; the message says why, for the user.
        case failed(String)
        /// `StopResource`.
        case stopRequested
        /// The export task of a stopping job ended (cancelled, failed or finished).
        case exportEnded(succeeded: Bool)
        /// The server started again and found the job in this status.
        case serverRestarted
    }

    /// What the caller must do besides recording the new status.
    public enum Action: Sendable, Equatable {
        /// Put the job in the run queue (it runs when a slot is free).
        case enqueue
        /// Cancel the running export task.
        case cancelExport
        /// Drop the job from the run queue (it never started).
        case dequeue
    }

    public struct Transition: Sendable, Equatable {
        public var status: JobStatus
        /// The job's `Message`; `nil` keeps none.
        public var message: String?
        public var actions: [Action]

        public init(status: JobStatus, message: String? = nil, actions: [Action] = []) {
            self.status = status
            self.message = message
            self.actions = actions
        }
    }

    /// Why an event cannot happen in a status (the API turns it into an error for the user).
    public struct NotAllowed: Error, Sendable, Equatable {
        public var status: JobStatus
        public var event: Event
    }

    /// The next status for `event` in `status`, or ``NotAllowed``.
    public static func transition(from status: JobStatus, on event: Event) throws(NotAllowed) -> Transition {
        switch (status, event) {
        case (.createPending, .started):
            return Transition(status: .createInProgress)
        case (.createInProgress, .succeeded):
            return Transition(status: .active)
        case (.createInProgress, .failed(let message)):
            return Transition(status: .createFailed, message: message)
        case (.createPending, .stopRequested):
            return Transition(
                status: .createStopped,
                message: "Stopped before it started (StopResource).",
                actions: [.dequeue]
            )
        case (.createInProgress, .stopRequested):
            return Transition(status: .createStopping, actions: [.cancelExport])
        case (.createStopping, .stopRequested):
            return Transition(status: .createStopping)
        case (.createStopping, .exportEnded(let succeeded)):
            if succeeded { return Transition(status: .active) }
            return Transition(
                status: .createStopped,
                message: "Stopped while running (StopResource); no _SUCCESS was written."
            )
        case (.createPending, .serverRestarted), (.createInProgress, .serverRestarted):
            return Transition(status: .createPending, actions: [.enqueue])
        case (.createStopping, .serverRestarted):
            return Transition(status: .createStopped, message: "Stopped (StopResource); no _SUCCESS was written.")
        default:
            throw NotAllowed(status: status, event: event)
        }
    }
}
