/// A column of optional doubles: values plus, when any is missing, a presence flag per row.
///
/// A missing value is a null in Parquet and an empty field (or `not defined` for metrics) in CSV.
/// NaN and ±infinity are values, not missing. `isPresent == nil` means every value is present,
/// which keeps the common case free of a second array.
public struct DoubleColumn: Sendable, Equatable {
    public var values: [Double]
    public var isPresent: [Bool]?

    public init(values: [Double] = [], isPresent: [Bool]? = nil) {
        precondition(isPresent == nil || isPresent!.count == values.count, "presence flags must match values")
        self.values = values
        self.isPresent = isPresent
    }

    public var count: Int { values.count }

    /// The value at `row`, or nil when it is missing.
    @inlinable
    public subscript(row: Int) -> Double? {
        if let isPresent, !isPresent[row] { return nil }
        return values[row]
    }

    /// Appends a value or a missing marker. Amortised O(1); the presence array is created on the
    /// first missing value.
    public mutating func append(_ value: Double?) {
        if let value {
            values.append(value)
            isPresent?.append(true)
        } else {
            if isPresent == nil { isPresent = Array(repeating: true, count: values.count) }
            values.append(0)
            isPresent!.append(false)
        }
    }

    public mutating func reserveCapacity(_ n: Int) { values.reserveCapacity(n) }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        values.removeAll(keepingCapacity: keepingCapacity)
        isPresent = nil
    }

    /// Number of missing values.
    public var missingCount: Int { isPresent.map { $0.lazy.filter { !$0 }.count } ?? 0 }

    /// Bit-exact equality (NaN equals NaN with the same bits; 0.0 differs from -0.0).
    public static func == (lhs: DoubleColumn, rhs: DoubleColumn) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for i in 0..<lhs.count {
            switch (lhs[i], rhs[i]) {
            case (nil, nil): continue
            case (let a?, let b?) where a.bitPattern == b.bitPattern: continue
            default: return false
            }
        }
        return true
    }
}
