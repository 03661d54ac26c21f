import ExportCSV
import Testing

@Suite("RFC 4180 quoting")
struct EncodingFieldQuotingTests {
    private func quoted(_ s: String) -> String {
        var bytes: [UInt8] = []
        CSVFieldQuoting.append(s, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("only , \" CR and LF cause quoting; quotes are doubled")
    func quoting() {
        #expect(quoted("item_000123") == "item_000123")
        #expect(quoted("") == "")
        #expect(quoted("a,b") == "\"a,b\"")
        #expect(quoted("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(quoted("\"") == "\"\"\"\"")
        #expect(quoted("line\nbreak") == "\"line\nbreak\"")
        #expect(quoted("cr\rhere") == "\"cr\rhere\"")
        #expect(quoted("crlf\r\n") == "\"crlf\r\n\"")
        #expect(quoted(" spaced \t") == " spaced \t")
        #expect(quoted("naïve 東京 🙂") == "naïve 東京 🙂")
        #expect(quoted("東京,大阪") == "\"東京,大阪\"")
        #expect(quoted("'single'") == "'single'")
    }

    @Test("a header line")
    func line() {
        let bytes = CSVFieldQuoting.line(["item_id", "a,b", "wQL[0.1]", "Average wQL"])
        #expect(String(decoding: bytes, as: UTF8.self) == "item_id,\"a,b\",wQL[0.1],Average wQL")
    }
}
