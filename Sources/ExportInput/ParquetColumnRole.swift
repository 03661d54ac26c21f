import ExportCore
import ExportParquet

/// What a Parquet column is read as, by the CSV reader's column rules: a key (`item_id` or a
/// dimension), a time, or a value (the target or a forecast). Each role accepts some column kinds
/// and reads each kind as one ``ParquetValueTarget``. Shared by the forecast and history readers.
enum ParquetColumnRole {
    /// `item_id` or a dimension: text, or integers written in decimal.
    case key
    /// `timestamp` or a window bound: timestamps, dates, or text in the CSV timestamp forms.
    case time
    /// `target_value` or a forecast: numbers, or text in the CSV number forms.
    case value

    private var accepted: [ParquetColumnKind] {
        switch self {
        case .key: [.string, .integer]
        case .time: [.instant, .string]
        case .value: [.floatingPoint, .integer, .string]
        }
    }

    private var description: String {
        switch self {
        case .key: "a key column: text or integers"
        case .time: "a time column: timestamps, dates or text"
        case .value: "a value column: numbers or text"
        }
    }

    /// How column `column` of `reader` is handed out in this role. Throws an input error naming
    /// the file and column when its type does not fit the role.
    func target(of column: Int, in reader: ParquetReader) throws(ExportError) -> ParquetValueTarget {
        let kind = reader.columnKinds[column]
        guard accepted.contains(kind) else {
            throw .input(
                "Cannot read Parquet column '\(reader.columnNames[column])': its type \(kind.description) is not supported"
                    + " for \(description)",
                at: .init(file: reader.path, line: 0, columnName: reader.columnNames[column], rowGroup: 0)
            )
        }
        switch kind {
        case .string: return .bytes
        case .instant: return .millis
        case .integer: return self == .value ? .double : .integer
        default: return .double
        }
    }
}
