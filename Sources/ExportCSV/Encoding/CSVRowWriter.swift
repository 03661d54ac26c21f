internal import CPrefetch
import ExportCore

/// The CSV row loop: writes whole rows of one batch into raw memory, as many as fit.
///
/// A trivial value of pointers, valid during one `CSVEncoder.append`. Each row: the pre-quoted
/// series key (`key,dim,…,`) copied by 8-byte words, then each value column followed by `,`, the
/// last `,` turned into LF.
struct CSVRowWriter {
    let plan: UnsafeBufferPointer<CSVColumnPlan>
    let seriesIndex: UnsafePointer<Int32>
    /// The quoted keys, back to back, followed by 8 readable bytes.
    let keyBytes: UnsafePointer<UInt8>
    /// Indexed by series index minus ``firstSeries``: where that key starts in ``keyBytes``; the
    /// next entry is its end.
    let keyOffsets: UnsafePointer<Int>
    /// The series index of ``keyOffsets``' first entry (the lowest the rows refer to).
    let firstSeries: Int
    let timestamps: CSVTimestampWriter

    /// Writes rows from `rows.lowerBound` while at least `rowBound` bytes remain in `capacity`;
    /// returns the first row not written and the bytes written. `rowBound` is an upper bound of the
    /// bytes any one row touches.
    @inline(__always)
    func write(
        rows: Range<Int>,
        rowBound: Int,
        to base: UnsafeMutablePointer<UInt8>,
        capacity: Int
    ) -> (next: Int, count: Int) {
        var p = base
        let limit = base + (capacity - rowBound)
        var row = rows.lowerBound
        let end = rows.upperBound
        while row < end && p <= limit {
            if row & 7 == 0 {
                // Each number column is a stream read a row at a time, next to the row's other
                // columns: ask for its cache line 64 rows ahead (one request per 8 values), so
                // that the loads of later rows find their values in cache.
                for i in 0..<plan.count {
                    let column = plan[i]
                    if let times = column.times { cprefetch_read(times + (row &+ Self.prefetchRows)) }
                    if let doubles = column.doubles { cprefetch_read(doubles + (row &+ Self.prefetchRows)) }
                }
            }
            let s = Int(seriesIndex[row]) &- firstSeries
            let keyStart = keyOffsets[s]
            let keyLength = keyOffsets[s + 1] &- keyStart
            Self.copyWords(from: keyBytes + keyStart, to: p, count: keyLength)
            p += keyLength
            for i in 0..<plan.count {
                let column = plan[i]
                switch column.kind {
                case .instant:
                    p += timestamps.write(millis: column.times![row], slot: column.slot, zulu: true, to: p)
                case .windowTime:
                    p += timestamps.write(millis: column.times![row], slot: column.slot, zulu: false, to: p)
                case .double:
                    if let present = column.present, !present[row] {
                        Self.copyWords(from: column.missingText!, to: p, count: column.missingCount)
                        p += column.missingCount
                    } else {
                        p += JavaDoubleFormatter.write(column.doubles![row], to: p)
                    }
                case .backtestWindow:
                    let raw = UnsafeMutableRawPointer(p)
                    if column.windows![row] == .computed {
                        raw.storeBytes(of: 0x6465_7475_706D_6F43, as: UInt64.self)  // "Computed"
                        p += 8
                    } else {
                        raw.storeBytes(of: 0x0079_7261_6D6D_7553, as: UInt64.self)  // "Summary"
                        p += 7
                    }
                }
                p.pointee = UInt8(ascii: ",")
                p += 1
            }
            p[-1] = UInt8(ascii: "\n")
            row &+= 1
        }
        return (row, p - base)
    }

    /// How far ahead of the row being written the number columns are prefetched (a prefetch of an
    /// address past a column's end is a hint only: it never faults).
    static let prefetchRows = 64

    /// Copies `count` bytes in 8-byte words; reads and writes up to 7 bytes past the end.
    @inline(__always)
    static func copyWords(from source: UnsafePointer<UInt8>, to target: UnsafeMutablePointer<UInt8>, count: Int) {
        let s = UnsafeRawPointer(source)
        let t = UnsafeMutableRawPointer(target)
        var i = 0
        while i < count {
            t.storeBytes(of: s.loadUnaligned(fromByteOffset: i, as: UInt64.self), toByteOffset: i, as: UInt64.self)
            i &+= 8
        }
    }
}
