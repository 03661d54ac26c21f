/// The provenance (``RowProvenance``) of each row a ``RowBuffer`` holds, stored as runs: a row
/// whose provenance is the previous row's plus one (the next line of the same file, or the next
/// row of a source without lines) extends the current run.
///
/// A CSV file read in order makes one run per batch, or one per record that spans several lines
/// or follows an empty line: a few bytes per batch instead of 8 bytes a row. Cost: a compare per
/// appended row; a binary search over the runs per look-up (duplicate errors and spilling only).
/// Memory: 16 bytes per run.
struct ProvenanceRuns {
    /// Per run: the buffer row it starts at, and that row's provenance.
    private var startRows: [Int] = []
    private var startValues: [UInt64] = []
    /// Rows appended.
    private(set) var count = 0
    private var last: UInt64 = 0

    var runCount: Int { startRows.count }

    mutating func append(_ value: UInt64) {
        if count == 0 || value != last &+ 1 {
            startRows.append(count)
            startValues.append(value)
        }
        last = value
        count += 1
    }

    /// The provenance of buffer row `row` (`0..<count`).
    subscript(row: Int) -> UInt64 {
        precondition(row >= 0 && row < count, "row \(row) is not among the \(count) rows")
        // The last run that starts at or before `row`.
        var low = 0
        var high = startRows.count
        while high - low > 1 {
            let middle = (low + high) / 2
            if startRows[middle] <= row { low = middle } else { high = middle }
        }
        return startValues[low] &+ UInt64(row - startRows[low])
    }

    mutating func removeAll() {
        startRows.removeAll(keepingCapacity: true)
        startValues.removeAll(keepingCapacity: true)
        count = 0
        last = 0
    }
}
