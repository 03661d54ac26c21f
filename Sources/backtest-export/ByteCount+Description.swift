import ArgumentParser

extension ByteCount: CustomStringConvertible {
    /// The largest binary unit that divides the count exactly: `128MiB`, `64KiB`, `1GiB`, `1000`.
    var description: String {
        for (suffix, factor) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= factor && bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return "\(bytes)"
    }

    /// How `--help` shows a default: `128MiB`, not the structure.
    var defaultValueDescription: String { description }
}
