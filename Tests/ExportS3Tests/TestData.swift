import ExportS3
import NIOCore

/// Deterministic pseudo-random bytes (xorshift), so a test's content is reproducible.
func testBytes(count: Int, seed: UInt64) -> [UInt8] {
    var x = seed | 1
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
        var v = x
        for _ in 0..<8 where i < count {
            out[i] = UInt8(truncatingIfNeeded: v)
            v >>= 8
            i += 1
        }
    }
    return out
}

extension S3Sink.Writer {
    /// Writes `bytes` in chunks of `chunkSize`.
    mutating func write(_ bytes: [UInt8], chunkSize: Int = 64 * 1024) async throws {
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunkSize, bytes.count)
            try await write(ByteBuffer(bytes: bytes[offset..<end]))
            offset = end
        }
    }
}

struct InjectedBodyFailure: Error {}
