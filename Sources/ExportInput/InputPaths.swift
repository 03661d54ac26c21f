public import ExportCore
internal import ExportSinks

#if canImport(Glibc)
internal import Glibc
#endif

/// Turns `--input` / `--history` arguments into the list of files to read, in order.
///
/// Each argument is `-` (standard input), a file, a folder, or a glob (`'out/part-*.csv.gz'`,
/// expanded here, not by the shell). A folder stands for every `*.csv`, `*.csv.gz` and `*.parquet`
/// file under it, recursively; names starting with `.` or `_` (hidden files, `_SUCCESS`, Spark's
/// `.crc` files, `_temporary` folders) are skipped, and the files are sorted by the bytes of their
/// paths, so that the same folder always gives the same order. A file named explicitly is read
/// whatever its name. Arguments keep their order; a file named twice is an error, as is an
/// argument that matches nothing.
public enum InputPaths {
    /// The files of `arguments`, in reading order. Throws an input error for a path that does not
    /// exist, a folder or glob without input files, `-` given twice, or a file listed twice.
    public static func resolve(_ arguments: [String], option: String = "--input") throws(ExportError) -> [InputFile] {
        guard !arguments.isEmpty else { throw .validation("\(option) is required") }
        var files: [InputFile] = []
        for argument in arguments {
            if argument == "-" {
                files.append(InputFile(path: "-", kind: .standardInput))
                continue
            }
            if let info = status(argument) {
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    let found = try folder(argument)
                    guard !found.isEmpty else {
                        throw .input(
                            "\(option) '\(argument)' is a folder with no input files"
                                + " (*.csv, *.csv.gz or *.parquet; names starting with '.' or '_' are skipped)"
                        )
                    }
                    files += found
                } else {
                    files.append(InputFile(path: argument, kind: kind(ofName: argument)))
                }
                continue
            }
            guard argument.contains(where: { "*?[".contains($0) }) else {
                throw .input("Cannot open input file '\(argument)': No such file or directory")
            }
            let matches = try glob(argument)
            var found: [InputFile] = []
            for match in matches {
                if let info = status(match), (info.st_mode & S_IFMT) == S_IFDIR {
                    found += try folder(match)
                } else if isInputName(match) {
                    found.append(InputFile(path: match, kind: kind(ofName: match)))
                }
            }
            guard !found.isEmpty else {
                throw .input("\(option) '\(argument)' matches no input files (*.csv, *.csv.gz or *.parquet)")
            }
            files += found
        }
        var seen = Set<String>()
        for file in files where !seen.insert(file.path).inserted {
            throw .input(
                file.kind == .standardInput
                    ? "Standard input ('-') can be read only once"
                    : "Input file '\(file.path)' is listed twice (through \(option) arguments that overlap)"
            )
        }
        return files
    }

    /// Whether `path` names a FIFO or a character device (which can be read only once).
    static func isPipe(_ path: String) -> Bool {
        guard let info = status(path) else { return false }
        let type = info.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFCHR
    }

    private static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    private static func kind(ofName path: String) -> InputFile.Kind {
        path.hasSuffix(".parquet") || path.hasSuffix(".parq") || path.hasSuffix(".pq") ? .parquet : .csv
    }

    private static func isInputName(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard !name.hasPrefix(".") && !name.hasPrefix("_") else { return false }
        return name.hasSuffix(".csv") || name.hasSuffix(".csv.gz") || name.hasSuffix(".parquet")
    }

    /// Every input file under `root`, sorted by the bytes of their paths.
    private static func folder(_ root: String) throws(ExportError) -> [InputFile] {
        var paths: [String] = []
        try walk(root, into: &paths, depth: 0)
        paths.sort { a, b in a.utf8.lexicographicallyPrecedes(b.utf8) }
        return paths.map { InputFile(path: $0, kind: kind(ofName: $0)) }
    }

    private static func walk(_ folder: String, into paths: inout [String], depth: Int) throws(ExportError) {
        guard depth < 64 else { throw .input("Input folder '\(folder)' nests more than 64 levels deep") }
        guard let directory = opendir(folder) else {
            let reason = String(cString: strerror(errno))
            throw .input("Cannot read input folder '\(folder)': \(reason)")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = DirectoryEntryName.of(entry)
            if name.hasPrefix(".") || name.hasPrefix("_") { continue }
            names.append(name)
        }
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        for name in names {
            let path = prefix + name
            guard let info = status(path) else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try walk(path, into: &paths, depth: depth + 1)
            } else if isInputName(path) {
                paths.append(path)
            }
        }
    }

    private static func glob(_ pattern: String) throws(ExportError) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        let status = Glibc.glob(pattern, 0, nil, &result)
        if status == GLOB_NOMATCH { return [] }
        guard status == 0 else { throw .input("Cannot expand the pattern '\(pattern)' (glob error \(status))") }
        var matches: [String] = []
        for i in 0..<Int(result.gl_pathc) {
            if let p = result.gl_pathv[i] { matches.append(String(cString: p)) }
        }
        matches.sort { a, b in a.utf8.lexicographicallyPrecedes(b.utf8) }
        return matches
    }
}
