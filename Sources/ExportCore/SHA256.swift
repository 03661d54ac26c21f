internal import CSHA256

/// SHA-256 (FIPS 180-4), the digest of the manifest's parts and of SigV4's canonical requests.
///
/// Runs on the x86 SHA extensions where the processor has them (about 2 GB/s a core) and on
/// portable code elsewhere, with the same result. A value type: copy it to fork a running hash.
/// Costs no allocation; ``finalize()`` returns the 32-byte digest.
public struct SHA256: Sendable {
    private var context = csha256_ctx()

    public init() {
        csha256_init(&context)
    }

    /// A hasher that never uses the SHA extensions, so that tests can compare both paths.
    package static func portable() -> SHA256 {
        var hasher = SHA256()
        csha256_init_portable(&hasher.context)
        return hasher
    }

    /// Whether hashers made with ``init()`` use the processor's SHA extensions.
    public static var usesHardware: Bool { csha256_has_hardware() != 0 }

    public mutating func update(bufferPointer bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        csha256_update(&context, base, bytes.count)
    }

    public mutating func update(data bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(bytes).withUnsafeBytes { update(bufferPointer: $0) }
        }
    }

    /// The digest of everything passed to `update` so far.
    public func finalize() -> [UInt8] {
        var finishing = context
        return [UInt8](unsafeUninitializedCapacity: 32) { digest, count in
            csha256_final(&finishing, digest.baseAddress!)
            count = 32
        }
    }

    /// The digest of `bytes`.
    public static func hash(data bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: bytes)
        return hasher.finalize()
    }
}
