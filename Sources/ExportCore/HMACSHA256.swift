/// HMAC-SHA256 (RFC 2104), the MAC of SigV4's signing-key chain and signatures.
///
/// Costs two SHA-256 passes over the message plus two blocks; a key longer than 64 bytes is
/// hashed first, as the RFC says.
public enum HMACSHA256 {
    public static func authenticationCode(for message: some Sequence<UInt8>, key: some Sequence<UInt8>) -> [UInt8] {
        var block = Array(key)
        if block.count > 64 { block = SHA256.hash(data: block) }
        block += repeatElement(0, count: 64 - block.count)
        var inner = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        inner.update(data: message)
        var outer = SHA256()
        outer.update(data: block.map { $0 ^ 0x5c })
        outer.update(data: inner.finalize())
        return outer.finalize()
    }
}
