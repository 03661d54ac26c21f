import ExportCore
import ExportSinks

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process's limit on open files (`ulimit -n`), checked before any work starts: SwiftNIO's
/// threads need a few descriptors each and stop the process with a fatal error when they cannot
/// get them, which a user should never see in place of a message.
enum OpenFileLimit {
    /// Below this many open files a run is refused (the event loops, the thread pool, inputs,
    /// parts, the lock, spill runs and sockets need about this many).
    static let minimum = 32
    /// A soft limit below this is raised toward the hard limit (at most to this), as far as the
    /// hard limit allows; more is never needed (the merge fan-in adapts to what there is).
    static let wanted = 256

    /// Raises the soft limit to `min(hard limit, wanted)` when it is lower, then throws a
    /// validation error naming the limit when it leaves fewer than ``minimum`` descriptors beyond
    /// those already open (inherited ones count). Cost: a few system calls and a listing of
    /// `/proc/self/fd`.
    static func ensure() throws(ExportError) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < rlim_t(wanted) {
            var raised = limit
            raised.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
            if raised.rlim_cur > limit.rlim_cur && setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 {
                limit = raised
            }
        }
        guard limit.rlim_cur >= rlim_t(minimum) else {
            throw .validation(
                "The open-file limit (ulimit -n) is \(limit.rlim_cur): backtest-export needs at least \(minimum)"
                    + " open files; raise it (for example ulimit -n 256) and run again"
            )
        }
        // Descriptors inherited from the parent count against the same limit.
        let inUse = OpenDescriptors.count()
        guard rlim_t(inUse) + rlim_t(minimum) <= limit.rlim_cur else {
            throw .validation(
                "The open-file limit (ulimit -n) is \(limit.rlim_cur) and \(inUse) files are already open"
                    + " (inherited from the parent process): backtest-export needs \(minimum) more; raise the limit"
                    + " or close the inherited descriptors, and run again"
            )
        }
    }
}
