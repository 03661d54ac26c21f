internal import CPrefetch
import ExportCore

/// Rows held in memory by the grouper, with one series table for all of them, until they are
/// sorted and handed on (or spilled to a run file).
///
/// Each series key is interned once: a batch whose producer numbers its series in a lasting table
/// (``ForecastBatch/seriesOrigin``, the CSV reader's) costs an array look-up per batch series, and
/// a dictionary look-up only for a number not met before; any other batch costs one dictionary
/// look-up per batch series. Never one per row. A row's backtest window is held as an index into
/// a table of the distinct (start, end) pairs (a backtest has few windows): 4 bytes a row instead
/// of 16, and one random read fewer when rows are gathered. A row's values (target, then
/// forecasts) are held together, row-major: rows gathered in random order cost one or two cache
/// lines each for all their values, not one per value column. Cost: the rows' columns
/// (``bytesPerRow``: about `32 + 9 × (1 + forecast types)` bytes, including the sort's scratch;
/// provenance as runs of consecutive lines) plus each distinct series and window once;
/// ``estimatedBytes`` tracks that total for the memory budget.
struct RowBuffer {
    let forecastTypeCount: Int
    private(set) var keys: [SeriesKey] = []
    private var keyIndex: [SeriesKey: Int32] = [:]
    /// Per producer table (``SeriesOrigin/table``): the index in ``keys`` of each series number
    /// met so far (-1: not met).
    private var originIndex: [UInt64: [Int32]] = [:]
    /// The rows' series index and timestamp columns; their window columns stay empty (see
    /// ``windowIndex``) and so do their value columns (see ``values``).
    private(set) var rows: ForecastBatch
    /// Values a row holds: the target, then one per forecast type.
    let valueCount: Int
    /// The rows' values, row-major: row `r`'s target at `r × valueCount`, its forecasts after it
    /// in schema order (a missing value is 0 here and false in ``presence``).
    private var values: [Double] = []
    /// Per value column (target first), its presence flags (false: missing); nil while no value
    /// of that column is missing.
    private var presence: [[Bool]?]
    /// Per row, its window's index in ``windows``.
    private(set) var windowIndex: [UInt32] = []
    /// The distinct windows (start, end), in the order first met.
    private(set) var windows: [Window] = []
    private var windowLookup: [Window: UInt32] = [:]
    /// A window's index in ``windows`` by ``windowSlot(_:)`` (`.max`: none), for the window
    /// look-up of every row.
    private var windowSlots = Self.emptyWindowSlots
    /// Per row, where it came from (see ``RowProvenance``), as runs of consecutive lines.
    private(set) var provenance = ProvenanceRuns()
    private(set) var estimatedBytes = 0

    init(forecastTypeCount: Int) {
        self.forecastTypeCount = forecastTypeCount
        self.rows = ForecastBatch(forecastTypeCount: forecastTypeCount)
        self.valueCount = 1 + forecastTypeCount
        self.presence = Array(repeating: nil, count: 1 + forecastTypeCount)
    }

    var rowCount: Int { releasedRowCount ?? rows.rowCount }
    /// The row count once the key columns are released (``releaseKeyColumns(readableFrom:)``).
    private var releasedRowCount: Int?
    /// Bytes a row costs while held: series index, timestamp, window index, values with presence
    /// flags, and 16 bytes of sort scratch (the packed keys and their ping-pong copy). Provenance
    /// runs are counted as they start (16 bytes each), windows as they are met (48 bytes each).
    var bytesPerRow: Int { 4 + 8 + 4 + 9 * (1 + forecastTypeCount) + 16 }

    /// A backtest window: its start and end instants.
    struct Window: Hashable {
        var start: Int64
        var end: Int64
    }

    /// The window of buffered row `row`.
    func window(ofRow row: Int) -> Window { windows[Int(windowIndex[row])] }

    /// Makes room for `count` rows in all, so that appending up to that many copies no column to
    /// grow it (each growth would copy the column and hold both copies for a moment).
    mutating func reserve(rows count: Int) {
        guard count > rows.rowCount else { return }
        rows.seriesIndex.reserveCapacity(count)
        rows.timestamp.reserveCapacity(count)
        values.reserveCapacity(count * valueCount)
        windowIndex.reserveCapacity(count)
        // Not advised to huge pages (``HugePageAdvice``): with the kernel's THP defrag policy at
        // its default (`madvise`), a fault in an advised range may compact memory first, and a
        // fresh huge page faults in slower here than its small pages. Measured on 9 M shuffled
        // rows (`sample`, CSV output, 5 runs each): 6.39-7.43 s wall and 1.5-2.7 s system time
        // with the advice, 6.24-6.57 s and 1.4-1.6 s without.
    }

    /// Appends `rows` of `batch`, whose provenance per row is `provenance(row)`: one dictionary
    /// look-up per series of the batch, then bulk copies.
    mutating func append(_ batch: ForecastBatch, rows range: Range<Int>, provenance: (Int) -> UInt64) {
        guard !range.isEmpty else { return }
        var globalIndex = [Int32](repeating: 0, count: batch.series.count)
        if let origin = batch.seriesOrigin, origin.ids.count == batch.series.count {
            var known = originIndex.removeValue(forKey: origin.table) ?? []
            map(batch.series, numbered: origin.ids, through: &known, into: &globalIndex)
            originIndex[origin.table] = known
        } else {
            for (local, key) in batch.series.enumerated() { globalIndex[local] = intern(key) }
        }
        rows.seriesIndex.append(contentsOf: batch.seriesIndex[range].lazy.map { globalIndex[Int($0)] })
        rows.timestamp.append(contentsOf: batch.timestamp[range])
        appendWindows(batch, range)
        appendValues(batch, range)
        let runs = self.provenance.runCount
        for row in range { self.provenance.append(provenance(row)) }
        estimatedBytes += range.count * bytesPerRow + 16 * (self.provenance.runCount - runs)
    }

    /// Appends the window index of each row of `range`: a look-up in ``windowSlots`` a row, which
    /// finds the window whatever the order of the rows (no branch on whether the window changed,
    /// which rows in random order do on most rows), and a dictionary look-up only for a window
    /// not in its slot.
    private mutating func appendWindows(_ batch: ForecastBatch, _ range: Range<Int>) {
        let indexes = [UInt32](unsafeUninitializedCapacity: range.count) { out, initialized in
            batch.windowStart.withUnsafeBufferPointer { starts in
                batch.windowEnd.withUnsafeBufferPointer { ends in
                    var i = 0
                    for row in range {
                        let window = Window(start: starts[row], end: ends[row])
                        let slot = Self.windowSlot(window)
                        let cached = windowSlots.withUnsafeBufferPointer { $0[slot] }
                        if cached != .max && windows.withUnsafeBufferPointer({ $0[Int(cached)] }) == window {
                            out[i] = cached
                        } else {
                            let index = windowLookup[window] ?? addWindow(window)
                            windowSlots[slot] = index
                            out[i] = index
                        }
                        i &+= 1
                    }
                }
            }
            initialized = range.count
        }
        windowIndex.append(contentsOf: indexes)
    }

    /// The window table with no window (``windowSlots``): 64 slots, far more than a backtest has
    /// windows.
    private static let emptyWindowSlots = [UInt32](repeating: .max, count: 64)

    /// A window's slot in ``windowSlots``: a multiplicative hash of its start and end.
    @inline(__always)
    private static func windowSlot(_ window: Window) -> Int {
        let mixed =
            (UInt64(bitPattern: window.start) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: window.end))
            &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> 58)  // the top 6 bits: one of the 64 slots
    }

    private mutating func addWindow(_ window: Window) -> UInt32 {
        let index = UInt32(windows.count)
        windows.append(window)
        windowLookup[window] = index
        estimatedBytes += 48
        return index
    }

    /// The index of `key` in ``keys``, added when new.
    private mutating func intern(_ key: SeriesKey) -> Int32 {
        if let known = keyIndex[key] { return known }
        let index = Int32(keys.count)
        keys.append(key)
        keyIndex[key] = index
        estimatedBytes += 96 + key.values.reduce(0) { $0 + $1.utf8.count + 16 }
        return index
    }

    /// Fills `globalIndex` for series numbered `numbers` in one producer table, whose known
    /// numbers `known` maps; numbers met for the first time are interned and added to it.
    private mutating func map(
        _ series: [SeriesKey],
        numbered numbers: [Int32],
        through known: inout [Int32],
        into globalIndex: inout [Int32]
    ) {
        for (local, number) in numbers.enumerated() {
            let n = Int(number)
            if n < known.count && known[n] >= 0 {
                globalIndex[local] = known[n]
                continue
            }
            if n >= known.count {
                let added = max(n + 1, known.count * 2) - known.count
                known.append(contentsOf: repeatElement(-1, count: added))
                estimatedBytes += 4 * added
            }
            let index = intern(series[local])
            known[n] = index
            globalIndex[local] = index
        }
    }

    /// Rows whose values are moved between columns and rows at a time: a few KiB at five values
    /// a row, well within the first-level cache.
    private static let transposeBlock = 256

    /// Appends the values of `range` row-major (one column at a time into its stride), and
    /// their presence flags to the columns that have any.
    private mutating func appendValues(_ batch: ForecastBatch, _ range: Range<Int>) {
        let start = values.count
        let stride = valueCount
        values.append(contentsOf: repeatElement(0, count: range.count * stride))
        let sources = [batch.target] + batch.forecasts
        values.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress! + start
            // A block of rows at a time, so that its values stay in the cache while each column
            // is written into its stride.
            for block in Swift.stride(from: range.lowerBound, to: range.upperBound, by: Self.transposeBlock) {
                let rows = block..<min(block + Self.transposeBlock, range.upperBound)
                for column in 0..<stride {
                    sources[column].values.withUnsafeBufferPointer { source in
                        var p = base + (block - range.lowerBound) * stride + column
                        for row in rows {
                            p.pointee = source[row]
                            p += stride
                        }
                    }
                }
            }
        }
        let rowsBefore = start / stride
        for column in 0..<stride {
            if let present = sources[column].isPresent {
                if presence[column] == nil { presence[column] = Array(repeating: true, count: rowsBefore) }
                presence[column]!.append(contentsOf: present[range])
            } else if presence[column] != nil {
                presence[column]!.append(contentsOf: repeatElement(true, count: range.count))
            }
        }
    }

    /// The rows in the export's order (series byte-wise, window start, timestamp), nil when they
    /// are in that order already, or the first two rows (in that order) that share series, window
    /// start and timestamp.
    ///
    /// The distinct series are ranked byte-wise (a comparison sort of the few keys); each row's
    /// (rank, window start, timestamp) is packed into one integer (times are offset by their
    /// minimum and divided by their common step). One pass checks whether the packed keys rise
    /// strictly (rows in order, no duplicate: nothing more to do); otherwise the keys, each with
    /// its row number, are sorted with an LSD radix sort over the key bits only: O(rows) for any
    /// input order, and kept as the ``RowOrder``, from which ``gather(_:_:)`` reads each row's
    /// series, window and timestamp back. Keys too wide to pack fall back to a comparison sort
    /// (O(n log n)) and the order holds row numbers only.
    func sortedOrder() -> (order: RowOrder?, duplicate: (first: Int, second: Int)?) {
        let n = rowCount
        if n == 0 { return (nil, nil) }
        let ranks = seriesRanks()
        let rankBits = Self.bitWidth(UInt64(keys.count - 1))
        // The windows' starts are few: compressed on their own (the same minimum and step as over
        // the rows, since every row's start is one of them), and reduced once each.
        let window = Self.compress(windows.map(\.start))
        let reducedWindow = windows.map { window.reduce($0.start) }
        let time = Self.compress(rows.timestamp)
        let indexBits = Self.bitWidth(UInt64(n - 1))
        let keyBits = rankBits + window.bits + time.bits
        guard keyBits + indexBits <= 64 else {
            let sorted = comparisonSortedOrder(ranks)
            guard !Self.isIdentity(sorted.order) else { return (nil, sorted.duplicate) }
            let entries = sorted.order.map { UInt64(UInt32(bitPattern: $0)) }
            return (RowOrder(entries: entries, indexBits: 32, keys: nil), sorted.duplicate)
        }

        func packing(_ body: ((Int) -> UInt64) -> Void) {
            ranks.withUnsafeBufferPointer { rank in
                rows.seriesIndex.withUnsafeBufferPointer { series in
                    windowIndex.withUnsafeBufferPointer { windowOf in
                        reducedWindow.withUnsafeBufferPointer { reduced in
                            rows.timestamp.withUnsafeBufferPointer { ts in
                                body { i in
                                    let r = UInt64(UInt32(bitPattern: rank[Int(series[i])]))
                                    let w = reduced[Int(windowOf[i])]
                                    return ((r << window.bits | w) << time.bits) | time.reduce(ts[i])
                                }
                            }
                        }
                    }
                }
            }
        }
        // In order already? The shares checked at once (each row against the one before it).
        let shares = Self.shares(of: n)
        var partInOrder = [Bool](repeating: true, count: shares.count)
        packing { key in
            partInOrder.withUnsafeMutableBufferPointer { partInOrder in
                ParallelWork.run(shares.count) { part in
                    let rows = max(1, shares[part].lowerBound)..<shares[part].upperBound
                    guard !rows.isEmpty else { return }
                    var previous = key(rows.lowerBound - 1)
                    for i in rows {
                        let next = key(i)
                        guard next > previous else {
                            partInOrder[part] = false
                            return
                        }
                        previous = next
                    }
                }
            }
        }
        if !partInOrder.contains(false) { return (nil, nil) }

        // The keys and the sort's scratch are not advised to huge pages (``HugePageAdvice``):
        // they are written at once right after the input ends, and a huge page that has to be
        // made (zeroed, and on a virtual machine with free page reporting, backed again by the
        // host) faults in slower than its 512 small pages. Measured on 3 M shuffled rows, a
        // fresh process each: the whole order took 0.09–0.20 s with the advice, 0.10–0.12 s
        // without it.
        var packed = [UInt64](unsafeUninitializedCapacity: n) { out, count in
            packing { key in
                ParallelWork.run(shares.count) { part in
                    for i in shares[part] { out[i] = key(i) << indexBits | UInt64(i) }
                }
            }
            count = n
        }
        Self.radixSort(&packed, fromBit: indexBits, bitCount: keyBits)
        let indexMask = RowOrder.lowBits(indexBits)
        var duplicate: (Int, Int)?
        packed.withUnsafeBufferPointer { sorted in
            var previousKey = sorted[0] >> indexBits
            for i in 1..<n {
                let key = sorted[i] >> indexBits
                if key == previousKey {
                    duplicate = (Int(sorted[i - 1] & indexMask), Int(sorted[i] & indexMask))
                    return
                }
                previousKey = key
            }
        }
        // The keys read back only if each window start names one window.
        let startsAreUnique = Set(reducedWindow).count == reducedWindow.count
        let packedKeys =
            startsAreUnique
            ? PackedKeys(
                windowBits: window.bits,
                time: time,
                seriesOfRank: Self.inverse(ranks),
                reducedStarts: reducedWindow
            ) : nil
        return (RowOrder(entries: packed, indexBits: indexBits, keys: packedKeys), duplicate)
    }

    /// The permutation that undoes `permutation` (a rank per index: the index per rank).
    private static func inverse(_ permutation: [Int32]) -> [Int32] {
        var inverse = [Int32](repeating: 0, count: permutation.count)
        for (index, rank) in permutation.enumerated() { inverse[Int(rank)] = Int32(index) }
        return inverse
    }

    private static func isIdentity(_ order: [Int32]) -> Bool {
        order.withUnsafeBufferPointer { order in
            for i in 0..<order.count where order[i] != Int32(truncatingIfNeeded: i) { return false }
            return true
        }
    }

    /// The fallback for keys that do not pack into 64 bits.
    private func comparisonSortedOrder(_ ranks: [Int32]) -> (order: [Int32], duplicate: (first: Int, second: Int)?) {
        let rows = self.rows
        func key(_ i: Int) -> (Int32, Int64, Int64) {
            (ranks[Int(rows.seriesIndex[i])], window(ofRow: i).start, rows.timestamp[i])
        }
        var order = (0..<Int32(rowCount)).map { $0 }
        order.sort { a, b in
            let ka = key(Int(a))
            let kb = key(Int(b))
            return ka != kb ? ka < kb : a < b
        }
        for i in order.indices.dropFirst() where key(Int(order[i - 1])) == key(Int(order[i])) {
            return (order, (Int(order[i - 1]), Int(order[i])))
        }
        return (order, nil)
    }

    /// Times offset by their minimum and divided by their common step.
    struct CompressedTimes {
        var minimum: Int64
        var step: ExactDivisor
        var bits: Int

        /// `(value - minimum) / step` for a value of the column (so the division is exact).
        @inline(__always)
        func reduce(_ value: Int64) -> UInt64 {
            step.quotient(ofMultiple: UInt64(bitPattern: value &- minimum))
        }

        /// The value whose ``reduce(_:)`` is `reduced`.
        @inline(__always)
        func expand(_ reduced: UInt64) -> Int64 {
            minimum &+ Int64(bitPattern: reduced &* step.divisor)
        }
    }

    static func compress(_ values: [Int64]) -> CompressedTimes {
        guard !values.isEmpty else { return CompressedTimes(minimum: 0, step: ExactDivisor(1), bits: 0) }
        // Two passes (range, then common step), each split over two threads for a long column:
        // nothing else runs while the grouper decides the order.
        let shares = Self.shares(of: values.count)
        var ranges = [(minimum: Int64, maximum: Int64)](repeating: (.max, .min), count: shares.count)
        var steps = [UInt64](repeating: 0, count: shares.count)
        let (minimum, maximum, step) = values.withUnsafeBufferPointer { values in
            ranges.withUnsafeMutableBufferPointer { ranges in
                ParallelWork.run(shares.count) { part in
                    var (minimum, maximum) = (Int64.max, Int64.min)
                    for value in values[shares[part]] {
                        minimum = Swift.min(minimum, value)
                        maximum = Swift.max(maximum, value)
                    }
                    ranges[part] = (minimum, maximum)
                }
            }
            let minimum = ranges.map(\.minimum).min()!
            steps.withUnsafeMutableBufferPointer { steps in
                ParallelWork.run(shares.count) { part in
                    steps[part] = commonStep(of: values[shares[part]], above: minimum)
                }
            }
            let step = steps.reduce(0) { $0 == 0 ? $1 : $1 == 0 ? $0 : gcd($0, $1) }
            return (minimum, ranges.map(\.maximum).max()!, step)
        }
        let divisor = ExactDivisor(step == 0 ? 1 : step)
        let range = divisor.quotient(ofMultiple: UInt64(bitPattern: maximum &- minimum))
        return CompressedTimes(minimum: minimum, step: divisor, bits: bitWidth(range))
    }

    /// `0..<count` cut into equal shares for ``ParallelWork/run(_:_:)``: two for a column long enough
    /// to be worth a second thread (64 Ki rows or more), one otherwise.
    static func shares(of count: Int) -> [Range<Int>] {
        let parts = count >= 1 << 16 ? 2 : 1
        return (0..<parts).map { (count * $0 / parts)..<(count * ($0 + 1) / parts) }
    }

    /// The greatest common divisor of the nonzero `value - minimum` (0 when there is none).
    private static func commonStep(of values: Slice<UnsafeBufferPointer<Int64>>, above minimum: Int64) -> UInt64 {
        var step: ExactDivisor?
        var last: UInt64 = 0
        for value in values {
            let offset = UInt64(bitPattern: value &- minimum)
            if offset == last { continue }
            last = offset
            guard let current = step else {
                step = ExactDivisor(offset)
                continue
            }
            if current.divisor == 1 { break }
            if !current.divides(offset) { step = ExactDivisor(gcd(current.divisor, offset)) }
        }
        return step?.divisor ?? 0
    }

    private static func gcd(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// Bits needed to hold `value` (0 for 0).
    static func bitWidth(_ value: UInt64) -> Int { 64 - value.leadingZeroBitCount }

    /// Sorts `values` stably by their bits `fromBit ..< fromBit + bitCount` (LSD, digits of up to
    /// 11 bits, a digit whose values are all equal skipped).
    ///
    /// Each pass counts its digit and scatters on `threads` threads at once, each thread over its
    /// own slice of the values into its own share of every bucket (so the order stays stable).
    /// The scatter writes to as many places as there are buckets, which defeats the hardware's
    /// prefetching: it waits on memory, and two threads wait on twice as many lines at once.
    static func radixSort(_ values: inout [UInt64], fromBit: Int, bitCount: Int, threads: Int = AvailableCores.count) {
        let n = values.count
        guard n > 1, bitCount > 0 else { return }
        let passes = (bitCount + 10) / 11
        let digitBits = (bitCount + passes - 1) / passes
        let buckets = 1 << digitBits
        let mask = UInt64(buckets - 1)
        // Below this many values a second thread costs more than it saves.
        let parts = n < 1 << 16 ? 1 : max(1, min(threads, 2))
        let slices = (0..<parts).map { t in (n * t / parts)..<(n * (t + 1) / parts) }
        // Not advised to huge pages: see ``sortedOrder()``.
        var scratch = [UInt64](unsafeUninitializedCapacity: n) { _, count in count = n }
        var counts = [Int](repeating: 0, count: parts * buckets)
        var inScratch = false
        for pass in 0..<passes {
            let shift = UInt64(fromBit + pass * digitBits)
            let work = { (source: UnsafeBufferPointer<UInt64>, target: UnsafeMutableBufferPointer<UInt64>) -> Bool in
                counts.withUnsafeMutableBufferPointer { counts in
                    let counts = counts.baseAddress!
                    ParallelWork.run(parts) { t in
                        let own = counts + t * buckets
                        own.update(repeating: 0, count: buckets)
                        for i in slices[t] { own[Int((source[i] >> shift) & mask)] &+= 1 }
                    }
                    // Bucket b of thread t starts after every value of lower buckets and after
                    // the values of bucket b in the slices before t.
                    var total = 0
                    for b in 0..<buckets {
                        let start = total
                        for t in 0..<parts {
                            let count = counts[t * buckets + b]
                            counts[t * buckets + b] = total
                            total &+= count
                        }
                        if total - start == n { return false }  // one value of this digit: nothing moves
                    }
                    ParallelWork.run(parts) { t in
                        let offsets = counts + t * buckets
                        for i in slices[t] {
                            let value = source[i]
                            let digit = Int((value >> shift) & mask)
                            target[offsets[digit]] = value
                            offsets[digit] &+= 1
                        }
                    }
                    return true
                }
            }
            let moved =
                inScratch
                ? scratch.withUnsafeBufferPointer { from in values.withUnsafeMutableBufferPointer { work(from, $0) } }
                : values.withUnsafeBufferPointer { from in scratch.withUnsafeMutableBufferPointer { work(from, $0) } }
            if moved { inScratch.toggle() }
        }
        if inScratch { swap(&values, &scratch) }
    }

    /// Each series' rank in byte-wise key order.
    ///
    /// Keys are compared by the first 16 bytes of their `item_id` first (two integers, which
    /// order as the bytes do), and in full only when those are equal: ranking the keys of a
    /// shuffled input costs a few integer compares each instead of string compares.
    private func seriesRanks() -> [Int32] {
        let prefixes = keys.map { Self.orderPrefix(of: $0.itemId) }
        let byKey = prefixes.withUnsafeBufferPointer { prefixes in
            keys.indices.sorted { a, b in
                let (pa, pb) = (prefixes[a], prefixes[b])
                return pa != pb ? pa < pb : keys[a] < keys[b]
            }
        }
        var ranks = [Int32](repeating: 0, count: keys.count)
        for (rank, index) in byKey.enumerated() { ranks[index] = Int32(rank) }
        return ranks
    }

    /// The first 16 UTF-8 bytes of `text` as two big-endian integers, zero-padded. When two
    /// texts' prefixes differ they order as the texts do byte-wise (a missing byte counts as 0,
    /// below any byte that is there, except 0 itself, which leaves the prefixes equal).
    static func orderPrefix(of text: String) -> (UInt64, UInt64) {
        var text = text
        return text.withUTF8 { bytes in
            var words: (UInt64, UInt64) = (0, 0)
            for (i, byte) in bytes.prefix(16).enumerated() {
                let shift = UInt64(56 - 8 * (i % 8))
                if i < 8 { words.0 |= UInt64(byte) << shift } else { words.1 |= UInt64(byte) << shift }
            }
            return words
        }
    }

    /// The rows at positions `range` of `order` as one batch, with a series table of just the
    /// series they use.
    ///
    /// With packed keys (``RowOrder/keys``) the series, window and timestamp columns are read back
    /// from the keys, in order; otherwise they are gathered from the buffer like the values. A
    /// row's values are read together (one or two cache lines, see ``values``). The gathers read
    /// at random (the rows are held in input order) and each read waits on memory, so with enough
    /// rows the keys and the two halves of the rows' values are three jobs shared by two threads.
    func gather(_ order: RowOrder, _ range: Range<Int>) -> ForecastBatch {
        let entries = order.entries[range]
        let rowMask = order.rowMask
        let count = range.count
        let stride = valueCount
        // Each job writes its own variable, or its own rows of the value columns.
        var keyColumns: (series: [SeriesKey], seriesIndex: [Int32], timestamp: [Int64], windows: ([Int64], [Int64]))?
        var flags = [[Bool]?](repeating: nil, count: stride)
        func gatherKeys() {
            if let packed = order.keys {
                keyColumns = readKeys(entries, indexBits: order.indexBits, packed)
            } else {
                let rowNumbers = (0..<count).lazy.map { order[range.lowerBound + $0] }
                let (series, seriesIndex) = seriesTable(rowNumbers, count: count)
                keyColumns = (
                    series, seriesIndex, Self.gather(rows.timestamp, entries, rowMask: rowMask),
                    windowColumns(Self.gather(windowIndex, entries, rowMask: rowMask))
                )
            }
            for column in 0..<stride {
                if let present = presence[column] { flags[column] = Self.gather(present, entries, rowMask: rowMask) }
            }
        }
        let columns = Self.makeColumns(stride, rows: count) { columns in
            func gatherValues(_ part: Range<Int>) {
                values.withUnsafeBufferPointer { values in
                    entries.withUnsafeBufferPointer { entries in
                        columns.withUnsafeBufferPointer { columns in
                            let base = values.baseAddress!
                            for i in part {
                                // Ask for the row `gatherLookahead` entries ahead now: its line
                                // arrives while this and the next rows are copied.
                                if i &+ Self.gatherLookahead < part.upperBound {
                                    let ahead = Int(truncatingIfNeeded: entries[i &+ Self.gatherLookahead] & rowMask)
                                    cprefetch_read(base + ahead &* stride)
                                    cprefetch_read(base + (ahead &* stride &+ stride &- 1))
                                }
                                let row = base + Int(truncatingIfNeeded: entries[i] & rowMask) &* stride
                                for column in 0..<stride { columns[column][i] = row[column] }
                            }
                        }
                    }
                }
            }
            // Job 0 the keys (and presence flags, if any), jobs 1 and 2 the values of each half
            // of the rows: each read of a row's values waits on memory, so two threads wait at once.
            let half = count / 2
            func run(_ job: Int) {
                switch job {
                case 0: gatherKeys()
                case 1: gatherValues(0..<half)
                default: gatherValues(half..<count)
                }
            }
            if count >= 4096 {
                ParallelWork.run(3, run)
            } else {
                for job in 0..<3 { run(job) }
            }
        }
        var batch = ForecastBatch(forecastTypeCount: forecastTypeCount)
        let keys = keyColumns!
        batch.series = keys.series
        batch.seriesIndex = keys.seriesIndex
        batch.timestamp = keys.timestamp
        (batch.windowStart, batch.windowEnd) = keys.windows
        Self.setValues(of: &batch, columns, presence: flags.map { $0?[...] })
        return batch
    }

    /// How far ahead of the row it copies a gather asks for a row's values: enough rows in flight
    /// to cover a memory access, few enough that they are still cached when their turn comes.
    private static let gatherLookahead = 16

    /// The series table, series index, timestamp and window columns of the rows whose sort
    /// entries are `entries`, read back from their packed keys: one sequential pass.
    private func readKeys(
        _ entries: ArraySlice<UInt64>,
        indexBits: Int,
        _ packed: PackedKeys
    ) -> (series: [SeriesKey], seriesIndex: [Int32], timestamp: [Int64], windows: ([Int64], [Int64])) {
        let count = entries.count
        var series: [SeriesKey] = []
        var timestamp: [Int64] = []
        var starts: [Int64] = []
        var ends: [Int64] = []
        // Each column is written once through its pointer: no zero-filling, no per-row checks.
        let seriesIndex = [Int32](unsafeUninitializedCapacity: count) { seriesIndex, initialized in
            timestamp = [Int64](unsafeUninitializedCapacity: count) { timestamp, initialized in
                starts = [Int64](unsafeUninitializedCapacity: count) { starts, initialized in
                    ends = [Int64](unsafeUninitializedCapacity: count) { ends, initialized in
                        var lastRank = UInt64.max
                        var lastWindow = UInt64.max
                        var window = Window(start: 0, end: 0)
                        var i = 0
                        for entry in entries {
                            let (rank, reducedStart, time) = packed.fields(of: entry >> UInt64(indexBits))
                            if rank != lastRank {
                                series.append(keys[Int(packed.seriesOfRank[Int(rank)])])
                                lastRank = rank
                            }
                            if reducedStart != lastWindow {
                                window = windows[packed.window(reducedStart: reducedStart)]
                                lastWindow = reducedStart
                            }
                            seriesIndex[i] = Int32(truncatingIfNeeded: series.count &- 1)
                            timestamp[i] = packed.time.expand(time)
                            starts[i] = window.start
                            ends[i] = window.end
                            i &+= 1
                        }
                        initialized = count
                    }
                    initialized = count
                }
                initialized = count
            }
            initialized = count
        }
        return (series, seriesIndex, timestamp, (starts, ends))
    }

    /// Rows `range`, in their buffered order, as one batch (bulk copies; for rows that arrived in
    /// the export's order).
    func slice(_ range: Range<Int>) -> ForecastBatch {
        var batch = ForecastBatch(forecastTypeCount: forecastTypeCount)
        (batch.series, batch.seriesIndex) = seriesTable(range, count: range.count)
        batch.timestamp = Array(rows.timestamp[range])
        (batch.windowStart, batch.windowEnd) = windowColumns(windowIndex[range])
        Self.setValues(of: &batch, valueColumns(range), presence: presence.map { $0?[range] })
        return batch
    }

    /// Sets `batch`'s target and forecasts to `columns` (target first), each with its presence
    /// flags when it has a missing value.
    private static func setValues(of batch: inout ForecastBatch, _ columns: [[Double]], presence: [ArraySlice<Bool>?]) {
        let doubleColumns = zip(columns, presence).map { values, present in
            guard let present, present.contains(false) else { return DoubleColumn(values: values) }
            return DoubleColumn(values: values, isPresent: Array(present))
        }
        batch.target = doubleColumns[0]
        batch.forecasts = Array(doubleColumns[1...])
    }

    /// The value columns (target first) of rows `range`, read out of the row-major values with a
    /// stride.
    private func valueColumns(_ range: Range<Int>) -> [[Double]] {
        let stride = valueCount
        let count = range.count
        return Self.makeColumns(stride, rows: count) { columns in
            guard count > 0 else { return }
            values.withUnsafeBufferPointer { values in
                // A block of rows at a time (see ``appendValues(_:_:)``).
                for block in Swift.stride(from: 0, to: count, by: Self.transposeBlock) {
                    let rows = block..<min(block + Self.transposeBlock, count)
                    for column in 0..<stride {
                        var p = values.baseAddress! + (range.lowerBound + block) * stride + column
                        let out = columns[column]
                        for i in rows {
                            out[i] = p.pointee
                            p += stride
                        }
                    }
                }
            }
        }
    }

    /// `count` new columns of `rows` doubles each, which `fill` must initialize whole through
    /// their base addresses (column order); no zero-filling, no copy.
    private static func makeColumns(
        _ count: Int,
        rows: Int,
        _ fill: ([UnsafeMutablePointer<Double>]) -> Void
    ) -> [[Double]] {
        var pointers: [UnsafeMutablePointer<Double>] = []
        func make(_ column: Int) -> [[Double]] {
            guard column < count else {
                fill(pointers)
                return []
            }
            var rest: [[Double]] = []
            let made = [Double](unsafeUninitializedCapacity: max(rows, 1)) { buffer, initialized in
                pointers.append(buffer.baseAddress!)
                rest = make(column + 1)
                initialized = rows
            }
            return [made] + rest
        }
        return make(0)
    }

    /// The series of buffered rows `rows` (`count` of them), each once per run, and each row's
    /// index into them.
    private func seriesTable(_ rows: some Sequence<Int>, count: Int) -> ([SeriesKey], [Int32]) {
        var series: [SeriesKey] = []
        var seriesIndex = [Int32](repeating: 0, count: count)
        var lastGlobal: Int32 = -1
        self.rows.seriesIndex.withUnsafeBufferPointer { global in
            for (i, row) in rows.enumerated() {
                let g = global[row]
                if g != lastGlobal {
                    series.append(keys[Int(g)])
                    lastGlobal = g
                }
                seriesIndex[i] = Int32(truncatingIfNeeded: series.count - 1)
            }
        }
        return (series, seriesIndex)
    }

    /// The window start and end columns of rows whose window indexes are `indexes`.
    private func windowColumns(_ indexes: some Collection<UInt32>) -> ([Int64], [Int64]) {
        (indexes.map { windows[Int($0)].start }, indexes.map { windows[Int($0)].end })
    }

    /// `column`'s values at the rows of sort entries `entries` (row numbers in their `rowMask`
    /// bits).
    private static func gather<T>(_ column: [T], _ entries: ArraySlice<UInt64>, rowMask: UInt64) -> [T] {
        [T](unsafeUninitializedCapacity: entries.count) { buffer, count in
            column.withUnsafeBufferPointer { column in
                entries.withUnsafeBufferPointer { entries in
                    let out = buffer.baseAddress!
                    for i in 0..<entries.count {
                        (out + i).initialize(to: column[Int(truncatingIfNeeded: entries[i] & rowMask)])
                    }
                }
            }
            count = entries.count
        }
    }

    /// Frees the series index, timestamp and window index columns (16 bytes a row) when `order`
    /// reads them back from its packed keys: from then on the rows can only be handed out with
    /// ``gather(_:_:)`` in that order, then removed; otherwise keeps them.
    mutating func releaseKeyColumns(readableFrom order: RowOrder) {
        guard order.keys != nil, order.count == rowCount else { return }
        releasedRowCount = rowCount
        rows.seriesIndex = []
        rows.timestamp = []
        windowIndex = []
    }

    mutating func removeAll() {
        releasedRowCount = nil
        keys.removeAll(keepingCapacity: true)
        keyIndex.removeAll(keepingCapacity: true)
        originIndex.removeAll()
        rows.removeAll()
        values.removeAll(keepingCapacity: true)
        presence = Array(repeating: nil, count: valueCount)
        windowIndex.removeAll(keepingCapacity: true)
        windows.removeAll()
        windowLookup.removeAll()
        windowSlots = Self.emptyWindowSlots
        provenance.removeAll()
        estimatedBytes = 0
    }
}
