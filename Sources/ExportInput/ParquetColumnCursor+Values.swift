import ExportCSV
import ExportCore
import ExportParquet

/// Reading a run of a cursor's rows as times or values, with the CSV reader's rules and messages:
/// shared by the forecast and history readers.
extension ParquetColumnCursor {
    /// Appends `n` times (milliseconds since the epoch, UTC) from ``position``: timestamps and
    /// dates as they are, text parsed in the CSV timestamp forms. A null time is an input error.
    func appendTimes(_ n: Int, to out: inout [Int64]) throws(ExportError) {
        let p = position
        if let validity {
            for r in p..<(p + n) where validity[r] == 0 {
                throw .input("Missing \(columnName): every row needs one (the value is null)", at: location(ofRow: r))
            }
        }
        if target == .millis {
            let values = UnsafeBufferPointer(start: integers + p, count: n)
            // The output spells years with four digits, as a CSV input must (1000...9999).
            for (r, value) in values.enumerated() where !Self.writableTimes.contains(value) {
                throw .input(
                    "Invalid \(columnName): year \(CivilTime(epochMilliseconds: value).year) is out of range 1000...9999",
                    at: location(ofRow: p + r)
                )
            }
            out.append(contentsOf: values)
            return
        }
        var cache = CSVTimestampParser.DateCache()
        for r in p..<(p + n) {
            let field = UnsafeBufferPointer(start: byteBase + byteStarts[r], count: Int(byteLengths[r]))
            guard let value = CSVTimestampParser.parse(field, cache: &cache) else {
                throw .input(CSVTimestampParser.diagnose(field), at: location(ofRow: r))
            }
            out.append(value)
        }
    }

    /// Appends `n` values from ``position``: numbers as doubles, text parsed in the CSV number
    /// forms. A null (or empty text) is a missing value: `0` in `out` and `false` in `presence`,
    /// which stays nil while every value is present.
    func appendValues(_ n: Int, to out: inout [Double], presence: inout [Bool]?) throws(ExportError) {
        let p = position
        let validity = self.validity
        if target == .double {
            let before = out.count
            out.append(contentsOf: UnsafeBufferPointer(start: doubles + p, count: n))
            presence?.append(contentsOf: repeatElement(true, count: n))
            if let validity {
                for r in p..<(p + n) where validity[r] == 0 {
                    if presence == nil { presence = Array(repeating: true, count: before + n) }
                    presence![before + r - p] = false
                }
            }
            return
        }
        for r in p..<(p + n) {
            let field = UnsafeBufferPointer(start: byteBase + byteStarts[r], count: Int(byteLengths[r]))
            if (validity.map { $0[r] == 0 } ?? false) || field.isEmpty {
                if presence == nil { presence = Array(repeating: true, count: out.count) }
                out.append(0)
                presence!.append(false)
                continue
            }
            guard let value = CSVNumberParser.parseDouble(field) else {
                throw .input(
                    "Cannot parse \(String(decoding: field.prefix(40), as: UTF8.self).debugDescription) as a number",
                    at: location(ofRow: r)
                )
            }
            out.append(value)
            presence?.append(true)
        }
    }

    /// Instants from 1000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z, in milliseconds since
    /// the epoch: the years a CSV input may spell, and the output's four-digit years.
    static let writableTimes: ClosedRange<Int64> = {
        let first = CivilTime.days(fromYear: 1000, month: 1, day: 1) * millisecondsPerDay
        let end = CivilTime.days(fromYear: 10000, month: 1, day: 1) * millisecondsPerDay
        return first...(end - 1)
    }()

    static let millisecondsPerDay: Int64 = 86_400_000
}
