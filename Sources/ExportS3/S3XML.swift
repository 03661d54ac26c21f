/// The little XML that S3 answers with: element text by tag name, entities decoded.
///
/// S3's response documents are flat and machine-written (`<Error><Code>…</Code>…</Error>`,
/// `<UploadId>`, `<ETag>`), so a scan for `<Tag>…</Tag>` is exact for them; no general parser.
enum S3XML {
    /// The text of the first `<tag>…</tag>` in `xml`.
    static func firstValue(of tag: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: "<\(tag)>"),
            let close = xml[open.upperBound...].firstRange(of: "</\(tag)>")
        else { return nil }
        return decodeEntities(String(xml[open.upperBound..<close.lowerBound]))
    }

    /// The text of every `<tag>…</tag>` in `xml`, in order.
    static func allValues(of tag: String, in xml: String) -> [String] {
        var values: [String] = []
        var rest = xml[...]
        while let open = rest.firstRange(of: "<\(tag)>"),
            let close = rest[open.upperBound...].firstRange(of: "</\(tag)>")
        {
            values.append(decodeEntities(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return values
    }

    /// The `<Code>` and `<Message>` of an `<Error>` document, if `xml` is one.
    static func error(in xml: String) -> (code: String, message: String?)? {
        guard xml.contains("<Error>"), let code = firstValue(of: "Code", in: xml) else { return nil }
        return (code, firstValue(of: "Message", in: xml))
    }

    /// Escapes element text (`&`, `<`, `>`); quotes stay as they are (ETags keep their `"`).
    static func escapeText(_ text: String) -> String {
        guard text.contains(where: { $0 == "&" || $0 == "<" || $0 == ">" }) else { return text }
        return text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacing("&quot;", with: "\"").replacing("&apos;", with: "'").replacing("&lt;", with: "<")
            .replacing("&gt;", with: ">").replacing("&#34;", with: "\"").replacing("&amp;", with: "&")
    }
}
