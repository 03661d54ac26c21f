/// What identifies one time series: its `item_id` and its dimension values, in schema order.
///
/// Ordering is byte-wise on UTF-8 (not Unicode collation): `item_id` first, then each dimension.
/// This is the export's series order, the same on every machine and locale. Equality and hashing
/// are byte-wise too: `"é"` and `"e\u{301}"` are two series, as they are two byte strings in the
/// files.
public struct SeriesKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var itemId: String
    public var dimensions: [String]

    public init(itemId: String, dimensions: [String] = []) {
        self.itemId = itemId
        self.dimensions = dimensions
    }

    /// The key's values in column order: `item_id`, then the dimensions.
    public var values: [String] { [itemId] + dimensions }

    public static func == (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        guard lhs.dimensions.count == rhs.dimensions.count, byteOrder(lhs.itemId, rhs.itemId) == 0 else {
            return false
        }
        for (l, r) in zip(lhs.dimensions, rhs.dimensions) where byteOrder(l, r) != 0 { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(dimensions.count)
        for value in values {
            var value = value
            value.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            hasher.combine(0xFF as UInt8)  // never in UTF-8: separates the values
        }
    }

    public static func < (lhs: SeriesKey, rhs: SeriesKey) -> Bool {
        let order = byteOrder(lhs.itemId, rhs.itemId)
        if order != 0 { return order < 0 }
        for (l, r) in zip(lhs.dimensions, rhs.dimensions) {
            let o = byteOrder(l, r)
            if o != 0 { return o < 0 }
        }
        return lhs.dimensions.count < rhs.dimensions.count
    }

    public var description: String {
        dimensions.isEmpty ? itemId : "\(itemId) [\(dimensions.joined(separator: ", "))]"
    }

    /// -1, 0 or 1 as `a` sorts before, with or after `b`, byte-wise on UTF-8.
    public static func byteOrder(_ a: String, _ b: String) -> Int {
        var a = a
        var b = b
        let fast: Int? = a.withUTF8 { ua in
            b.withUTF8 { ub in
                let n = min(ua.count, ub.count)
                if n > 0, let pa = ua.baseAddress, let pb = ub.baseAddress {
                    let c = memcmpBytes(pa, pb, n)
                    if c != 0 { return c < 0 ? -1 : 1 }
                }
                return ua.count == ub.count ? 0 : (ua.count < ub.count ? -1 : 1)
            }
        }
        return fast ?? 0
    }

    @inline(__always)
    private static func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Int {
        for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return 0
    }
}
