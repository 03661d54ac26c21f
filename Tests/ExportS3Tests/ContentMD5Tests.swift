import NIOCore
import Testing

@testable import ExportS3

@Suite struct ContentMD5Tests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The test suite of RFC 1321, appendix A.5.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        (
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "d174ab98d277d9f5a5611c2c9f419d9f"
        ),
        (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func rfc1321Vectors(text: String, expected: String) {
        let digest = Array(text.utf8).withUnsafeBytes { ContentMD5.digest(of: $0) }
        #expect(Self.hex(digest) == expected)
    }

    /// Lengths around the padding's block boundaries (55/56, 63/64/65, 119/120) and a long input,
    /// as base64 header values; expected values from Python's `hashlib.md5` and `base64`.
    @Test(arguments: [
        (0, "1B2M2Y8AsgTpgAmY7PhCfg=="),
        (55, "yeUSYmYYyZgO8hqWWXr5TA=="),
        (56, "7N58qgjp9WV8hj3xB8rGCg=="),
        (63, "LwMBBp4cQK9/bI+EOxsT8g=="),
        (64, "tr+HwksbwzTiVBOHqSuYGw=="),
        (65, "8Wgkbwi2E01mvSoQND+p8Q=="),
        (119, "1dw9gmTeOqJN7hBZEO4n/g=="),
        (120, "vME5s4SJI5BIYNHu/W5ZIw=="),
        (128, "PoW3D/yN9cc17PKo8U8b7g=="),
        (1000, "Kx541XZd6eEElaAUEqHPIg=="),
        (100_003, "k0Of6lOeSrBCQQB++Fq7OQ=="),
    ])
    func headerValuesAtBlockBoundaries(length: Int, expected: String) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(ContentMD5.headerValue(for: ByteBuffer(bytes: bytes)) == expected)
    }

    @Test func base64PadsShortGroups() {
        #expect(ContentMD5.base64([]) == "")
        #expect(ContentMD5.base64(Array("f".utf8)) == "Zg==")
        #expect(ContentMD5.base64(Array("fo".utf8)) == "Zm8=")
        #expect(ContentMD5.base64(Array("foo".utf8)) == "Zm9v")
        #expect(ContentMD5.base64(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(ContentMD5.base64([0xfb, 0xff]) == "+/8=")
    }
}
