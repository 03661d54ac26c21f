/// Column-chunk `Statistics` as written to the footer.
///
/// `minValue`/`maxValue` are PLAIN-encoded without a length prefix and ordered by the column's
/// TYPE_ORDER (signed for INT64, IEEE for DOUBLE with the NaN/±0 rules, unsigned byte-wise for
/// strings). `legacyMinMax` also copies them into the deprecated fields 1/2, which is only correct for
/// signed-order types (INT64, DOUBLE).
struct Statistics: Equatable {
    var nullCount: Int64
    var minValue: [UInt8]?
    var maxValue: [UInt8]?
    var nanCount: Int64?
    var legacyMinMax: Bool

    func write(to w: inout ThriftCompactWriter) {
        let hasBounds = minValue != nil && maxValue != nil
        if hasBounds && legacyMinMax {
            w.field(1, binary: maxValue!)
            w.field(2, binary: minValue!)
        }
        w.field(3, i64: nullCount)
        if hasBounds {
            w.field(5, binary: maxValue!)
            w.field(6, binary: minValue!)
            w.field(7, bool: true)
            w.field(8, bool: true)
        }
        if let nanCount { w.field(9, i64: nanCount) }
    }
}
