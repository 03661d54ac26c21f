internal import CZlib
public import ExportCore
internal import ExportZlib

/// Inflates a gzip stream (RFC 1952; also several members back to back, as `cat a.gz b.gz` and
/// some parallel compressors write) while it is read: no temporary file, no whole-file buffer.
///
/// Memory: zlib's inflate state (~44 KiB with its 32 KiB window) and one 1 MiB buffer of
/// compressed input. A stream that ends inside a member, or whose data or CRC is corrupt, is an
/// input error naming the file.
public final class GzipByteSource: InputByteSource {
    public var name: String { file.name }
    private let file: any InputByteSource
    private let zlib: ZlibStream
    private var stream: UnsafeMutablePointer<z_stream> { zlib.stream }
    private let input: UnsafeMutablePointer<UInt8>
    private let inputCapacity = 1 << 20
    private var inputAtEnd = false
    private var finished = false

    /// Reads gzip data from `file`.
    public init(_ file: any InputByteSource) throws(ExportError) {
        self.file = file
        zlib = try ZlibStream(.gzipInflate)
        input = .allocate(capacity: inputCapacity)
    }

    deinit {
        input.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(ExportError) -> Int {
        if finished || count == 0 { return 0 }
        let out = buffer.assumingMemoryBound(to: Bytef.self)
        stream.pointee.next_out = out
        stream.pointee.avail_out = uInt(min(count, Int(UInt32.max)))
        while true {
            if stream.pointee.avail_in == 0 && !inputAtEnd { try refill() }
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = Int(bitPattern: UInt(bitPattern: stream.pointee.next_out) &- UInt(bitPattern: out))
            switch status {
            case Z_OK:
                if stream.pointee.avail_out == 0 { return produced }
            case Z_STREAM_END:
                // Another member may follow.
                if stream.pointee.avail_in == 0 && !inputAtEnd { try refill() }
                if stream.pointee.avail_in == 0 {
                    finished = true
                    return produced
                }
                guard zlib.reset() else { throw .internal("zlib inflateReset failed") }
                if produced > 0 { return produced }
            case Z_BUF_ERROR:
                if inputAtEnd && stream.pointee.avail_in == 0 {
                    throw .input(
                        "Cannot read input file '\(name)': the gzip stream ends early (the file is truncated)"
                    )
                }
                if produced > 0 { return produced }
            default:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "status \(status)"
                throw .input("Cannot read input file '\(name)': the gzip data is corrupt (\(detail))")
            }
            if produced > 0 && stream.pointee.avail_in == 0 && inputAtEnd { return produced }
        }
    }

    private func refill() throws(ExportError) {
        let n = try file.read(into: input, count: inputCapacity)
        if n == 0 {
            inputAtEnd = true
            return
        }
        stream.pointee.next_in = input
        stream.pointee.avail_in = uInt(n)
    }
}
