/// One file of an input, found by ``InputPaths``.
public struct InputFile: Sendable, Equatable {
    /// How a file is read.
    public enum Kind: Sendable, Equatable {
        /// CSV text, plain or gzip (told by its first bytes when opened).
        case csv
        /// A Parquet file (told by its name; checked by its magic when opened).
        case parquet
        /// Standard input: CSV text, plain or gzip, or Parquet (copied to a temporary file first).
        case standardInput
    }

    /// The path as found (as the user gave it, or joined under the folder they gave).
    public let path: String
    public let kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// Whether the file can be opened again from its first byte (not a pipe or standard input):
    /// the export may read an input twice (once to check its order, once to group it).
    public var isReplayable: Bool {
        kind != .standardInput && !InputPaths.isPipe(path)
    }
}
