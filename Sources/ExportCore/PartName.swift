/// The name of one part file: `<ExportJobName>_<ExportTimestamp>_part<N>.<ext>`.
///
/// `N` is a decimal index from 0 without padding. ``init(parsing:)`` turns a name back into its
/// parts, so `PartName(parsing: name.fileName) == name` for every valid name.
public struct PartName: Sendable, Hashable, CustomStringConvertible {
    public var jobName: JobName
    public var timestamp: ExportTimestamp
    public var index: Int
    /// The file extension without the leading dot: `csv`, `csv.gz`, `parquet`.
    public var fileExtension: String

    public init(jobName: JobName, timestamp: ExportTimestamp, index: Int, fileExtension: String) {
        precondition(index >= 0, "part index must not be negative")
        self.jobName = jobName
        self.timestamp = timestamp
        self.index = index
        self.fileExtension = fileExtension
    }

    /// The file name, e.g. `MyJob_2024-03-07T09-05-00Z_part0.csv`.
    public var fileName: String {
        "\(jobName.rawValue)_\(timestamp.fileNameForm)_part\(index).\(fileExtension)"
    }

    /// The key under the destination: `<table folder>/<file name>`.
    public func key(in table: ExportTable) -> String { "\(table.folderName)/\(fileName)" }

    public var description: String { fileName }

    /// Parses a file name (not a key) produced by ``fileName``.
    public init(parsing fileName: String) throws(ExportError) {
        func fail(_ why: String) -> ExportError {
            .validation("Not a part name '\(fileName)': \(why); expected <job>_<yyyy-MM-ddTHH-mm-ssZ>_part<N>.<ext>")
        }
        let bytes = Array(fileName.utf8)
        // The job name holds no '.', the timestamp none either: the first '.' starts the extension.
        guard let dot = bytes.firstIndex(of: UInt8(ascii: ".")), dot + 1 < bytes.count else {
            throw fail("no extension")
        }
        let stem = bytes[..<dot]
        let marker = Array("_part".utf8)
        guard let partStart = Self.lastRange(of: marker, in: stem) else { throw fail("no _part<N>") }
        let digits = stem[(partStart + marker.count)...]
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            digits.count == 1 || digits.first != 0x30
        else { throw fail("part number is not a decimal without padding") }
        let index = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        // `<job>_` + 20 characters of timestamp.
        guard partStart >= 22, stem[partStart - 21] == UInt8(ascii: "_") else { throw fail("no timestamp") }
        let timestampText = String(decoding: stem[(partStart - 20)..<partStart], as: UTF8.self)
        let jobText = String(decoding: stem[..<(partStart - 21)], as: UTF8.self)
        guard timestampText.utf8.count == 20, Array(timestampText.utf8)[13] == UInt8(ascii: "-") else {
            throw fail("timestamp is not yyyy-MM-ddTHH-mm-ssZ")
        }
        let timestamp: ExportTimestamp
        do { timestamp = try ExportTimestamp(parsing: timestampText) } catch { throw fail("timestamp is not valid") }
        let job = try JobName(jobText)
        self.init(
            jobName: job,
            timestamp: timestamp,
            index: index,
            fileExtension: String(decoding: bytes[(dot + 1)...], as: UTF8.self)
        )
    }

    /// The extensions of the parts the engine's formats write (SPEC §10).
    public static let standardFileExtensions: Set<String> = ["csv", "csv.gz", "parquet"]

    /// `fileName` as a part name when it parses as one and its extension is in `fileExtensions`;
    /// otherwise nil.
    ///
    /// For deciding what is a part in a listing (a re-run or `--if-exists overwrite` removes
    /// parts): a file next to them that only starts like one (`J_2024-03-07T09-05-00Z_part0.csv.sha256`,
    /// `…_part0.xlsx`) is someone else's and must stay.
    public static func part(named fileName: String, fileExtensions: Set<String>) -> PartName? {
        guard let name = try? PartName(parsing: fileName), fileExtensions.contains(name.fileExtension) else {
            return nil
        }
        return name
    }

    private static func lastRange(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var start = haystack.endIndex - needle.count
        while start >= haystack.startIndex {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
            start -= 1
        }
        return nil
    }
}
