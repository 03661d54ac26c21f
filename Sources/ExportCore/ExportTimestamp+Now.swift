#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ExportTimestamp {
    /// The current instant, UTC, in whole seconds: what Amazon Forecast stamps a job with.
    public static func now() -> ExportTimestamp {
        ExportTimestamp(epochSeconds: Int64(time(nil)))
    }
}
