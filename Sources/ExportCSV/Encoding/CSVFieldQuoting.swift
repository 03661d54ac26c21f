/// RFC 4180 quoting as the export uses it: a field that contains `,`, `"`, CR or LF is written
/// between `"` with each `"` doubled; every other field is written as is (UTF-8 passes through).
///
/// Used for the header and the series-key fields, once per series per batch: O(field bytes).
public enum CSVFieldQuoting {
    /// Whether `field` must be quoted.
    public static func needsQuoting(_ field: some Collection<UInt8>) -> Bool {
        field.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0D || $0 == 0x0A }
    }

    /// Appends `field`, quoted when it needs to be, to `bytes`.
    public static func append(_ field: String, to bytes: inout [UInt8]) {
        let utf8 = field.utf8
        guard needsQuoting(utf8) else {
            bytes.append(contentsOf: utf8)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for b in utf8 {
            if b == UInt8(ascii: "\"") { bytes.append(b) }
            bytes.append(b)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `fields` quoted and joined with `,` (no line end).
    public static func line(_ fields: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (i, field) in fields.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            append(field, to: &bytes)
        }
        return bytes
    }
}
