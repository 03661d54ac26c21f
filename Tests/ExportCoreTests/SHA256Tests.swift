import ExportCore
import Testing

@Suite struct SHA256Tests {
    private func hex(_ text: String) -> String { Hex.encode(SHA256.hash(data: text.utf8)) }

    @Test func fipsVectors() {
        #expect(hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        )
        var million = SHA256()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(data: chunk) }
        #expect(Hex.encode(million.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The SHA-extension path and the portable path agree on every length around the block
    /// boundaries and on every way of splitting the input into updates.
    @Test func hardwareAndPortableAgree() {
        var random = SplitMix64(seed: 7)
        for length in Array(0..<300) + [1000, 4096, 65_537] {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var whole = SHA256.portable()
            whole.update(data: bytes)
            let expected = whole.finalize()
            var split = SHA256()
            var start = 0
            while start < length {
                let end = min(length, start + Int(random.next() % 130))
                split.update(data: bytes[start..<end])
                start = end
            }
            #expect(split.finalize() == expected, "length \(length)")
        }
    }

    @Test func finalizeDoesNotConsumeTheState() {
        var hasher = SHA256()
        hasher.update(data: "ab".utf8)
        let early = hasher.finalize()
        hasher.update(data: "c".utf8)
        #expect(Hex.encode(early) == hex("ab"))
        #expect(Hex.encode(hasher.finalize()) == hex("abc"))
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
    @Test func hmacRFC4231() {
        func mac(_ key: [UInt8], _ message: String) -> String {
            Hex.encode(HMACSHA256.authenticationCode(for: message.utf8, key: key))
        }
        #expect(
            mac([UInt8](repeating: 0x0b, count: 20), "Hi There")
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        )
        #expect(
            mac(Array("Jefe".utf8), "what do ya want for nothing?")
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )
        #expect(
            mac([UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First")
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        )
    }
}
