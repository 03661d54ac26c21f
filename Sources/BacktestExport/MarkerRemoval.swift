import ExportSinks
import NIOConcurrencyHelpers

/// When an export removes the destination's `_SUCCESS` and `_manifest.json` left by an earlier
/// run: at once (before it removes the parts they list), just before its first part is published
/// (a re-run that replaces parts they list), or never (another export's, next to which this one
/// appends: its own are written over them at the end).
///
/// Shared by the exporter and its part writers; the removal happens once. Cost: a lock per part.
final class MarkerRemoval: Sendable {
    private let pending = NIOLockedValueBox(false)

    /// Marks the markers for removal before the first publish (``removeIfPending(from:)``).
    func removeBeforeFirstPublish() { pending.withLockedValue { $0 = true } }

    /// Removes both markers now.
    func removeNow<Sink: PartSink>(from sink: Sink) async throws {
        pending.withLockedValue { $0 = false }
        try await sink.remove(named: "_SUCCESS")
        try await sink.remove(named: "_manifest.json")
    }

    /// Removes both markers if ``removeBeforeFirstPublish()`` asked for it and they are not gone yet.
    func removeIfPending<Sink: PartSink>(from sink: Sink) async throws {
        guard pending.withLockedValue({ $0 }) else { return }
        try await removeNow(from: sink)
    }
}
