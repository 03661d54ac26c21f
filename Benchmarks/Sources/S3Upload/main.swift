// Uploads one file through `S3Sink` the way the exporter hands over a part (1 MiB chunks into
// `withPart`), and prints the throughput. The S3 side of Benchmarks/peers/s3-throughput.
//
//   S3Upload FILE KEY      (env: BACKTEST_EXPORT_S3_TEST_ENDPOINT, _ACCESS_KEY, _SECRET_KEY, _BUCKET;
//                           optional PART_MIB (default 8), IN_FLIGHT (default 4))
import ExportS3
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

nonisolated func upload(_ sink: S3Sink, fd: Int32, key: String) async throws -> Int {
    try await sink.withPart(named: key) { writer in
        var chunk = ByteBuffer()
        while true {
            chunk.clear(minimumCapacity: 1 << 20)
            let n = chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: 1 << 20) {
                read(fd, $0.baseAddress, $0.count)
            }
            if n <= 0 { break }
            try await writer.write(chunk)
        }
        return writer.bytesWritten
    }
}

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    print("usage: S3Upload FILE KEY")
    exit(2)
}
let env = S3Configuration.processEnvironment()
guard let endpoint = env["BACKTEST_EXPORT_S3_TEST_ENDPOINT"], let access = env["BACKTEST_EXPORT_S3_TEST_ACCESS_KEY"],
    let secret = env["BACKTEST_EXPORT_S3_TEST_SECRET_KEY"], let bucket = env["BACKTEST_EXPORT_S3_TEST_BUCKET"]
else {
    print("set BACKTEST_EXPORT_S3_TEST_* (eval \"$(scripts/s3-server.sh start)\")")
    exit(2)
}
let configuration = S3Configuration(
    region: env["BACKTEST_EXPORT_S3_TEST_REGION"] ?? "us-east-1",
    endpoint: try S3Endpoint(parsing: endpoint),
    credentials: S3Credentials(accessKeyId: access, secretAccessKey: secret),
    partSize: (Int(env["PART_MIB"] ?? "8") ?? 8) << 20,
    maxPartsInFlight: Int(env["IN_FLIGHT"] ?? "4") ?? 4
)
let sink = try S3Sink(location: S3Location(bucket: bucket, prefix: "bench"), configuration: configuration)
let fd = open(arguments[1], O_RDONLY)
guard fd >= 0 else {
    print("cannot open \(arguments[1])")
    exit(2)
}
let clock = ContinuousClock()
let start = clock.now
let total = try await upload(sink, fd: fd, key: arguments[2])
let elapsed = clock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(
    "S3Sink: \(total) bytes in \((seconds * 100).rounded() / 100) s = \((Double(total) / seconds / 1e5).rounded() / 10) MB/s "
        + "(\(configuration.partSize >> 20) MiB parts, \(configuration.maxPartsInFlight) in flight)"
)
