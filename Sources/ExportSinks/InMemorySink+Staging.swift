import ExportCore
public import NIOCore

extension InMemorySink: StagingSink {
    public func read(named key: String, maxBytes: Int) async throws -> ByteBuffer? {
        guard let bytes = files[key] else { return nil }
        guard bytes.readableBytes <= maxBytes else {
            throw ExportError.sink("memory: '\(key)' is larger than \(maxBytes) bytes")
        }
        return bytes
    }

    public func move(from source: String, to destination: String, byteCount: Int) async throws {
        guard let bytes = files[source] else { throw ExportError.sink("memory: cannot move '\(source)': no such file") }
        try await put(bytes, named: destination)
        try await remove(named: source)
    }

    public func removeAll(under prefix: String) async throws {
        for key in files.keys where key.hasPrefix(prefix) { try await remove(named: key) }
    }
}
