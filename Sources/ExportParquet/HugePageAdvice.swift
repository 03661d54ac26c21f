#if canImport(Glibc)
import Glibc
#endif

/// Asks the kernel to back large staging buffers with transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`), where the system leaves THP to `madvise` (the common default).
///
/// A column chunk or row-group buffer is tens of MB that is written once front to back: with 4 KiB
/// pages that is one page fault per 4 KiB (about a fifth of a Parquet write's time when measured);
/// with 2 MiB pages, one per 2 MiB. Only the 2 MiB-aligned interior of the range is advised. It is
/// advice: contents and semantics are unchanged, failures are ignored, and it is a no-op on other
/// systems. Cost: one system call per buffer allocation of at least ``threshold`` bytes.
enum HugePageAdvice {
    /// Buffers smaller than this are left alone.
    static let threshold = 4 << 20
    private static let hugePageSize = 2 << 20

    static func advise(_ base: UnsafeMutableRawPointer, byteCount: Int) {
        #if os(Linux)
        guard byteCount >= threshold else { return }
        let start = (Int(bitPattern: base) + hugePageSize - 1) & ~(hugePageSize - 1)
        let end = (Int(bitPattern: base) + byteCount) & ~(hugePageSize - 1)
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(p, end - start, MADV_HUGEPAGE)
        #endif
    }
}
