/// How far a source is through its input: the bytes read so far and the input's total size.
///
/// Known only for inputs of known size (regular files); a pipe or standard input has none. The
/// grouper uses it to size its buffers once (rows so far × total ÷ read), and a progress line to
/// show the percentage read.
public struct InputProgress: Sendable, Equatable {
    public var bytesRead: Int
    public var totalBytes: Int

    public init(bytesRead: Int, totalBytes: Int) {
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
    }

    /// The rows the whole input holds, extrapolated from `rowsRead` so far; nil before any byte.
    public func estimatedTotalRows(rowsRead: Int) -> Int? {
        guard bytesRead > 0, totalBytes >= bytesRead, rowsRead > 0 else { return nil }
        return Int((Double(rowsRead) * Double(totalBytes) / Double(bytesRead)).rounded(.up))
    }
}
