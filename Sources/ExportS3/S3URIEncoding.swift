/// S3's `UriEncode` (SigV4, S3 flavour), applied once.
///
/// Every byte of the UTF-8 form except the unreserved set `A-Z a-z 0-9 - _ . ~` becomes `%XX`
/// with upper-case hex; space is `%20`, never `+`. `/` is kept in object key paths and encoded
/// (`%2F`) in query names and values. So `+ = & * ' ( ) ! @ $ : , ;` and non-ASCII are all
/// percent-encoded. The same string is signed and sent, so the two can never disagree.
///
/// Cost: one pass over the bytes, one `String` allocation.
public enum S3URIEncoding {
    /// Encodes an object key (or any path) for the canonical URI: `/` is kept.
    public static func encodePath(_ path: String) -> String { encode(path, keepSlash: true) }

    /// Encodes a query parameter name or value: `/` becomes `%2F`.
    public static func encodeQueryComponent(_ text: String) -> String { encode(text, keepSlash: false) }

    static func encode(_ text: String, keepSlash: Bool) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
