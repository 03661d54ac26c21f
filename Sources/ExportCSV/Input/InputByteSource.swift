public import ExportCore

/// A forward-only stream of input bytes: a file, a pipe, standard input, or one of those
/// decompressed on the fly.
///
/// The CSV scanner asks for large blocks (megabytes), so a call through this protocol costs nothing
/// per row. A source is read from one thread at a time.
public protocol InputByteSource: AnyObject {
    /// The input's name as the user gave it (`-` for standard input), for error messages.
    var name: String { get }
    /// Reads up to `count` bytes into `buffer` and returns how many it read: at least 1 while
    /// bytes remain, 0 at the end of the input. Throws an input error when reading fails or the
    /// stream is corrupt.
    func read(into buffer: UnsafeMutableRawPointer, count: Int) throws(ExportError) -> Int
}
