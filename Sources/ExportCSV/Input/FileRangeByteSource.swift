public import ExportCore

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The bytes `range` of an open regular file, read with `pread` (which leaves the descriptor's
/// offset alone, so several of these may read one descriptor from several threads at once).
///
/// The descriptor belongs to the caller and must stay open while this is read.
public final class FileRangeByteSource: InputByteSource {
    public let name: String
    private let fileDescriptor: Int32
    private var offset: Int
    private let end: Int

    public init(name: String, fileDescriptor: Int32, range: Range<Int>) {
        self.name = name
        self.fileDescriptor = fileDescriptor
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(ExportError) -> Int {
        let want = min(count, end - offset)
        guard want > 0 else { return 0 }
        while true {
            let n = pread(fileDescriptor, buffer, want, off_t(offset))
            if n > 0 {
                offset += n
                return n
            }
            if n == 0 {
                throw .input("Cannot read input file '\(name)': it became shorter while it was read")
            }
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            throw .input("Cannot read input file '\(name)': \(reason)")
        }
    }
}
