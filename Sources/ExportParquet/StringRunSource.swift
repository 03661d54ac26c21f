import ExportCore

/// Where a string column's values come from, as small integer keys per row plus the bytes of each
/// key. Rows that share a key share a value, so a writer handles a key's bytes once per run or once
/// per append, never per row.
protocol StringRunSource {
    /// Keys are `0..<keyCount`.
    var keyCount: Int { get }
    /// The key of `row`.
    func key(at row: Int) -> Int
    /// Calls `body` with the UTF-8 bytes of `key`'s value.
    func withBytes<R>(ofKey key: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R
}

/// One key column (`item_id` or a dimension) of a batch: the key is the batch's series index, so a
/// batch's `series` table is mapped to chunk dictionary ids once per append, not once per row.
struct SeriesKeyColumnSource: StringRunSource {
    let series: [SeriesKey]
    let seriesIndex: UnsafeBufferPointer<Int32>
    /// 0 for `item_id`, 1… for the dimensions.
    let position: Int

    var keyCount: Int { series.count }

    @inline(__always)
    func key(at row: Int) -> Int { Int(seriesIndex[row]) }

    func withBytes<R>(ofKey key: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var value = position == 0 ? series[key].itemId : series[key].dimensions[position - 1]
        return value.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}

/// The `backtest_window` column: two possible labels.
struct BacktestWindowSource: StringRunSource {
    let windows: UnsafeBufferPointer<BacktestWindow>

    var keyCount: Int { 2 }

    @inline(__always)
    func key(at row: Int) -> Int { Int(windows[row].rawValue) }

    private static let computed = Array(BacktestWindow.computed.label.utf8)
    private static let summary = Array(BacktestWindow.summary.label.utf8)

    func withBytes<R>(ofKey key: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        (key == 0 ? Self.computed : Self.summary).withUnsafeBytes { body($0) }
    }
}
