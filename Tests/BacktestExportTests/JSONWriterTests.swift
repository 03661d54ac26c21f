import BacktestExport
import ExportCore
import Testing

@Suite struct JSONWriterTests {
    static let document = JSONValue.object([
        ("name", .string("a \"quoted\"\n\u{1}name, Zürich")),
        ("count", .integer(42)),
        ("ratio", .finite(0.1)),
        ("undefined", .finite(nil)),
        ("infinite", .finite(.infinity)),
        ("flags", .array([.bool(true), .bool(false), .null])),
        ("empty", .array([])),
        ("nested", .object([("list", .array([.object([("k", .integer(-7))])]))])),
    ])

    @Test func compactTextIsOneLineAndReadsBack() throws {
        let text = Self.document.text
        #expect(
            text
                == #"{"name": "a \"quoted\"\n\u0001name, Zürich", "count": 42, "ratio": 0.1, "undefined": null, "infinite": null, "flags": [true, false, null], "empty": [], "nested": {"list": [{"k": -7}]}}"#
        )
        #expect(try JSONValue(parsing: text, what: "test") == Self.document)
    }

    /// Indentation is by depth, two spaces a level, whether or not the parents are expanded.
    @Test func expandedMembersGoOneALineAndTheRestStaysCompact() throws {
        let text = Self.document.text(expanding: { path in path.isEmpty || path == ["nested", "list"] })
        let expected = """
            {
              "name": "a \\"quoted\\"\\n\\u0001name, Zürich",
              "count": 42,
              "ratio": 0.1,
              "undefined": null,
              "infinite": null,
              "flags": [true, false, null],
              "empty": [],
              "nested": {"list": [
                  {"k": -7}
                ]}
            }
            """
        #expect(text == expected)
        #expect(try JSONValue(parsing: text, what: "test") == Self.document)
        // An array item's path ends in "[]".
        var seen: [[String]] = []
        _ = Self.document.text(expanding: { path in
            seen.append(path)
            return false
        })
        #expect(seen.contains(["nested", "list", "[]"]))
        #expect(seen.contains(["flags"]))
    }
}
