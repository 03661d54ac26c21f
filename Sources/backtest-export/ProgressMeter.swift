import BacktestExport
import ExportCore
import Synchronization

/// The counts the progress line shows, shared between the export, which counts, and the line's
/// ticker, which reads them about four times a second.
///
/// Lock-free: relaxed atomic counters. A ``snapshot`` may mix counts taken a batch apart, which a
/// progress line tolerates; nothing else reads them.
final class ProgressMeter: Sendable {
    /// One reading of the counters.
    struct Snapshot: Equatable {
        var rowsRead = 0
        /// The input's bytes read and total size; `inputBytesTotal` is 0 where the size is not
        /// known (a pipe, standard input, gzip is counted in compressed bytes).
        var inputBytesRead = 0
        var inputBytesTotal = 0
        var forecastRowsWritten = 0
        var bytesWritten = 0
    }

    private let rowsRead = Atomic<Int>(0)
    private let inputBytesRead = Atomic<Int>(0)
    private let inputBytesTotal = Atomic<Int>(0)
    private let forecastRowsWritten = Atomic<Int>(0)
    private let bytesWritten = Atomic<Int>(0)

    init() {}

    /// Counts a batch read from the input, and where the input's reading stands.
    func recordRead(rows: Int, input: InputProgress?) {
        rowsRead.add(rows, ordering: .relaxed)
        if let input {
            inputBytesRead.store(input.bytesRead, ordering: .relaxed)
            inputBytesTotal.store(input.totalBytes, ordering: .relaxed)
        }
    }

    /// Takes the writer's running totals.
    func recordWritten(_ progress: ExportProgress) {
        forecastRowsWritten.store(progress.forecastRowsWritten, ordering: .relaxed)
        bytesWritten.store(progress.bytesWritten, ordering: .relaxed)
    }

    var snapshot: Snapshot {
        Snapshot(
            rowsRead: rowsRead.load(ordering: .relaxed),
            inputBytesRead: inputBytesRead.load(ordering: .relaxed),
            inputBytesTotal: inputBytesTotal.load(ordering: .relaxed),
            forecastRowsWritten: forecastRowsWritten.load(ordering: .relaxed),
            bytesWritten: bytesWritten.load(ordering: .relaxed)
        )
    }
}
