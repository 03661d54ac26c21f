#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back large buffers with transparent huge pages (`madvise(MADV_HUGEPAGE)`),
/// where the system leaves THP to `madvise` (the common default).
///
/// A Parquet column chunk or row-group buffer is tens of MB written once front to back: with
/// 4 KiB pages that is one page fault per 4 KiB (about a fifth of a Parquet write's time when
/// measured); with 2 MiB pages, one per 2 MiB. The grouper's columns and sort buffers are not
/// advised: there a fresh huge page (and, with THP defrag at `madvise`, the compaction a fault may
/// wait for) cost more than the small pages' faults, measured on whole runs.
///
/// Only the 2 MiB-aligned interior of the range is advised, so at most 2 MiB more of a buffer is
/// resident than was written. It is advice: contents and semantics are unchanged, failures are
/// ignored, and it is a no-op on other systems. Cost: one system call per buffer of at least
/// ``threshold`` bytes.
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
}
