public import ExportCore

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The bytes of one open file descriptor: a regular file, a pipe, a FIFO, a character device, or
/// standard input (the path `-`).
///
/// The file is opened once and read from its first byte through this one descriptor, so a pipe
/// or FIFO works: bytes looked at with ``peek(_:)`` (to tell gzip or Parquet from text) are kept
/// and handed out again by ``read(into:count:)``. Standard input is not closed at the end.
public final class FileByteSource: InputByteSource {
    public let name: String
    /// The open descriptor (0 for standard input).
    public let fileDescriptor: Int32
    private let ownsDescriptor: Bool
    /// Bytes already read by ``peek(_:)`` and not yet handed out.
    private var pushedBack: [UInt8] = []
    private var pushedBackStart = 0

    /// Opens `path` for reading; `-` is standard input. Throws an input error when it cannot be
    /// opened or is a folder.
    public init(path: String) throws(ExportError) {
        name = path
        if path == "-" {
            fileDescriptor = 0
            ownsDescriptor = false
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                throw .input("Cannot open input file '\(path)': \(reason)")
            }
            fileDescriptor = fd
            ownsDescriptor = true
        }
        var info = stat()
        if fstat(fileDescriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            if ownsDescriptor { close(fileDescriptor) }
            throw .input("Cannot read input '\(path)': it is a folder")
        }
    }

    deinit {
        if ownsDescriptor { close(fileDescriptor) }
    }

    /// Whether the descriptor is a regular file (seekable, with a size), not a pipe or device.
    public var isRegularFile: Bool {
        var info = stat()
        return fstat(fileDescriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// The file's size when it is a regular file opened by its path (read from its first byte),
    /// nil for standard input, a pipe, a FIFO or a device: only such a file can be read at offsets.
    public var regularFileSize: Int? {
        guard ownsDescriptor else { return nil }
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// The first `count` bytes not yet handed out (fewer at the end of the input), without
    /// consuming them: the next ``read(into:count:)`` returns them first.
    public func peek(_ count: Int) throws(ExportError) -> [UInt8] {
        while pushedBack.count - pushedBackStart < count {
            let want = count - (pushedBack.count - pushedBackStart)
            let chunk = UnsafeMutableRawPointer.allocate(byteCount: want, alignment: 1)
            defer { chunk.deallocate() }
            let n = try readDescriptor(into: chunk, count: want)
            if n == 0 { break }
            pushedBack.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: n))
        }
        return Array(pushedBack[pushedBackStart..<min(pushedBack.count, pushedBackStart + count)])
    }

    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(ExportError) -> Int {
        if pushedBackStart < pushedBack.count {
            let n = min(count, pushedBack.count - pushedBackStart)
            pushedBack.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + pushedBackStart, byteCount: n) }
            pushedBackStart += n
            if pushedBackStart == pushedBack.count {
                pushedBack = []
                pushedBackStart = 0
            }
            return n
        }
        return try readDescriptor(into: buffer, count: count)
    }

    private func readDescriptor(into buffer: UnsafeMutableRawPointer, count: Int) throws(ExportError) -> Int {
        while true {
            let n = Glibc.read(fileDescriptor, buffer, count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            throw .input("Cannot read input file '\(name)': \(reason)")
        }
    }
}

extension FileByteSource {
    /// The two bytes every gzip member starts with (RFC 1952).
    static let gzipMagic: [UInt8] = [0x1F, 0x8B]

    /// Opens `path` (`-`: standard input) as text: gzip data (told by its first two bytes, whatever
    /// the file's name) is inflated as it is read, anything else is read as it is.
    public static func openText(path: String) throws(ExportError) -> any InputByteSource {
        let file = try FileByteSource(path: path)
        if try file.peek(2) == gzipMagic { return try GzipByteSource(file) }
        return file
    }
}
