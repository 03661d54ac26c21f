#if canImport(Glibc)
public import Glibc
#elseif canImport(Musl)
public import Musl
#endif

/// The name of a folder entry as `readdir` returns it.
///
/// Reads the name through a pointer, up to its terminating zero, and never copies `d_name` as a
/// value: the kernel's records are only as long as their name (`d_reclen`), so the last entry
/// of a `readdir` buffer can end well before the 256 bytes of a whole `dirent`, and copying the
/// field read past the end of the buffer (AddressSanitizer: heap-buffer-overflow in `readdir`'s
/// buffer). Cost: one pass over the name's bytes.
public enum DirectoryEntryName {
    /// `entry`'s name (bytes that are not UTF-8 become U+FFFD, as `String(decoding:)` does).
    public static func of(_ entry: UnsafePointer<dirent>) -> String {
        let name = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var length = 0
        while name.load(fromByteOffset: length, as: UInt8.self) != 0 { length += 1 }
        return String(decoding: UnsafeRawBufferPointer(start: name, count: length), as: UTF8.self)
    }
}
