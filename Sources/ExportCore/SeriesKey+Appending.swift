extension [SeriesKey] {
    /// The series index of a row appended after a row of series `lastIndex`: that index again
    /// when `key` is the same series, otherwise `key` is added. O(1); what the batches' `append`
    /// methods share.
    mutating func index(forAppending key: SeriesKey, after lastIndex: Int32?) -> Int32 {
        if let lastIndex, self[Int(lastIndex)] == key { return lastIndex }
        append(key)
        return Int32(count - 1)
    }
}
