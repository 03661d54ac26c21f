/// The columns of one output table, in output order: the series key columns (`item_id` and the
/// dimensions, all strings), then the value columns.
///
/// Encoders take their header, their Parquet schema and each column's formatting from here; a
/// ``ColumnarBatch`` for this table supplies one ``BatchColumn`` per value column, in this order.
public struct TableSchema: Sendable, Equatable {
    /// How a value column is typed and printed.
    public enum ValueKind: Sendable, Equatable {
        /// An instant printed `yyyy-MM-dd'T'HH:mm:ss'Z'` (the `timestamp` column); INT64 TIMESTAMP(MILLIS, UTC).
        case instant
        /// A window bound printed `yyyy-MM-dd'T'HH:mm:ss` (no zone); INT64 TIMESTAMP(MILLIS, UTC).
        case windowTime
        /// The `backtest_window` label, `Computed` or `Summary`; a dictionary-encoded string.
        case backtestWindow
        /// An optional double; a missing value prints as `missingText` in CSV and is null in Parquet.
        case double(missingText: String)
    }

    public struct Column: Sendable, Equatable {
        public var name: String
        public var kind: ValueKind
        public init(name: String, kind: ValueKind) {
            self.name = name
            self.kind = kind
        }
    }

    /// `item_id` followed by the dimension names.
    public var keyColumns: [String]
    public var valueColumns: [Column]
    /// For each value column, the index of its ``BatchColumn`` in a batch's
    /// ``ColumnarBatch/valueColumns`` (the forecast columns come in the input's order and are
    /// written in Forecast's order). The identity unless given.
    public var batchColumnIndex: [Int] {
        didSet { mapsBatchColumnsInOrder = batchColumnIndex == Array(batchColumnIndex.indices) }
    }
    /// Whether ``batchColumnIndex`` is the identity (no reordering needed).
    private var mapsBatchColumnsInOrder: Bool

    public init(keyColumns: [String], valueColumns: [Column], batchColumnIndex: [Int]? = nil) {
        precondition(batchColumnIndex.map { $0.sorted() == Array(valueColumns.indices) } ?? true, "a permutation")
        self.keyColumns = keyColumns
        self.valueColumns = valueColumns
        self.batchColumnIndex = batchColumnIndex ?? Array(valueColumns.indices)
        mapsBatchColumnsInOrder = self.batchColumnIndex == Array(valueColumns.indices)
    }

    /// A batch's value columns in this table's output order. O(columns); no copy when the
    /// batch's order is already the table's.
    public func outputColumns(of batch: some ColumnarBatch) -> [BatchColumn] {
        let columns = batch.valueColumns
        guard !mapsBatchColumnsInOrder, columns.count == batchColumnIndex.count else { return columns }
        return batchColumnIndex.map { columns[$0] }
    }

    /// Every column name, in output order.
    public var columnNames: [String] { keyColumns + valueColumns.map(\.name) }
}
