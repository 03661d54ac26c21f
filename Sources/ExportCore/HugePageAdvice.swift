#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back large buffers with transparent huge pages (`madvise(MADV_HUGEPAGE)`),
/// where the system leaves THP to `madvise` (the common default).
///
/// A Parquet column chunk or row-group buffer, or a grouper column of millions of rows, is tens
/// of MB written once front to back: with 4 KiB pages that is one page fault per 4 KiB (about a
/// fifth of a Parquet write's time when measured); with 2 MiB pages, one per 2 MiB. Only the
/// 2 MiB-aligned interior of the range is advised, so at most 2 MiB more of a buffer is resident
/// than was written. It is advice: contents and semantics are unchanged, failures are ignored, and
/// it is a no-op on other systems. Cost: one system call per buffer of at least ``threshold`` bytes.
package enum HugePageAdvice {
    /// Buffers smaller than this are left alone.
    package static let threshold = 4 << 20
    private static let hugePageSize = 2 << 20

    package static func advise(_ base: UnsafeMutableRawPointer, byteCount: Int) {
        #if os(Linux)
        guard byteCount >= threshold else { return }
        let start = (Int(bitPattern: base) + hugePageSize - 1) & ~(hugePageSize - 1)
        let end = (Int(bitPattern: base) + byteCount) & ~(hugePageSize - 1)
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(p, end - start, MADV_HUGEPAGE)
        #endif
    }

    /// Advises the storage of `array`, all of its capacity (the elements not yet appended too),
    /// when it is at least ``threshold`` bytes. Call it right after reserving, before the
    /// elements are written.
    package static func advise<Element>(capacityOf array: inout [Element]) {
        let bytes = array.capacity * MemoryLayout<Element>.stride
        guard bytes >= threshold else { return }
        array.withUnsafeMutableBufferPointer { buffer in
            // The storage is `capacity` elements from the first one, appended or not.
            guard let base = buffer.baseAddress else { return }
            advise(UnsafeMutableRawPointer(base), byteCount: bytes)
        }
    }
}
