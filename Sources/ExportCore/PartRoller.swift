/// Decides where parts end: a pure state machine, no I/O.
///
/// Rules (SPEC §2):
/// - a part ends only at a series boundary;
/// - the row limit is strict: a part never holds more than `maxRows` rows, so a series that does
///   not fit in the open part starts a new one, and only a series that alone has more than
///   `maxRows` rows is split, into pieces of `maxRows`;
/// - the byte limit closes the part at the first series boundary once the part has reached
///   `maxBytes` (a part may exceed it by at most one series).
///
/// The caller feeds whole series: ``place(seriesRows:bytesInOpenPart:)`` returns the pieces the
/// series is written in and whether each piece opens a new part.
public struct PartRoller: Sendable {
    /// One piece of a series: write `rowCount` rows, first closing the open part if `startsNewPart`.
    public struct Placement: Sendable, Equatable {
        public var startsNewPart: Bool
        public var rowCount: Int
        public init(startsNewPart: Bool, rowCount: Int) {
            self.startsNewPart = startsNewPart
            self.rowCount = rowCount
        }
    }

    public let maxBytes: Int
    public let maxRows: Int
    /// The index of the open part (0 before anything is placed).
    public private(set) var partIndex = 0
    /// Rows placed in the open part.
    public private(set) var rowsInOpenPart = 0

    /// `nil` means no limit. Limits must be positive.
    public init(maxBytes: Int? = nil, maxRows: Int? = nil) {
        precondition((maxBytes ?? 1) > 0 && (maxRows ?? 1) > 0, "part limits must be positive")
        self.maxBytes = maxBytes ?? .max
        self.maxRows = maxRows ?? .max
    }

    /// Where a whole series of `seriesRows` rows goes, given the bytes already in the open part.
    public mutating func place(seriesRows: Int, bytesInOpenPart: Int) -> [Placement] {
        guard seriesRows > 0 else { return [] }
        var placements: [Placement] = []
        var remaining = seriesRows
        var startNew =
            rowsInOpenPart > 0
            && (bytesInOpenPart >= maxBytes || seriesRows > maxRows - rowsInOpenPart)
        while remaining > 0 {
            if startNew {
                partIndex += 1
                rowsInOpenPart = 0
            }
            let take = min(remaining, maxRows - rowsInOpenPart)
            placements.append(Placement(startsNewPart: startNew, rowCount: take))
            rowsInOpenPart += take
            remaining -= take
            startNew = true
        }
        return placements
    }
}
