/// One record of a CSV file as field boundaries in the scanner's block buffer.
///
/// A plain value of pointers: reading a field is pointer arithmetic, with no reference counting
/// and no exclusivity checks. Valid only until the scanner's next `nextRecord()`.
struct CSVRecord {
    let base: UnsafeMutablePointer<UInt8>
    let starts: UnsafeMutablePointer<Int>
    let ends: UnsafeMutablePointer<Int>
    /// Number of fields.
    let count: Int
    /// Physical line (1-based) on which the record starts.
    let line: Int

    /// The bytes of field `index` (0-based), quotes removed and `""` collapsed.
    @inline(__always)
    func field(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + starts[index], count: ends[index] &- starts[index])
    }
}
