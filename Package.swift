// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "backtest-export",
    products: [
        .library(name: "BacktestExport", targets: ["BacktestExport"]),
        .library(name: "ExportCore", targets: ["ExportCore"]),
        .library(name: "ExportCSV", targets: ["ExportCSV"]),
        .library(name: "ExportParquet", targets: ["ExportParquet"]),
        .library(name: "ExportInput", targets: ["ExportInput"]),
        .library(name: "ExportSinks", targets: ["ExportSinks"]),
        .library(name: "ExportS3", targets: ["ExportS3"]),
        .library(name: "ExportServer", targets: ["ExportServer"]),
        .library(name: "BacktestSample", targets: ["BacktestSample"]),
        .executable(name: "backtest-export", targets: ["backtest-export"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    ],
    targets: [
        // Pure core: names, schema, columnar batches, metrics, part rolling, SHA-256/HMAC. No I/O.
        .target(
            name: "ExportCore",
            dependencies: ["CSHA256", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        // SHA-256 in C: the x86 SHA extensions where present, portable code otherwise.
        .target(name: "CSHA256"),
        // A cache prefetch hint (`__builtin_prefetch`), which Swift cannot spell.
        .target(name: "CPrefetch"),
        // CSV: the encoder for both tables and the reader for backtest input.
        .target(
            name: "ExportCSV",
            dependencies: [
                "ExportCore", "ExportZlib", "CZlib", "CPrefetch", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // zlib, from Debian's zlib1g-dev.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The one zlib setup (stream parameters, init and end) for gzip CSV and Parquet GZIP pages.
        .target(name: "ExportZlib", dependencies: ["CZlib", "ExportCore"], swiftSettings: swiftSettings),
        // zstd (the Parquet ZSTD codec), loaded at run time from libzstd.so.1: no header package.
        .target(name: "CZstd", linkerSettings: [.linkedLibrary("dl")]),
        // Parquet: our own encoder (thrift compact footer, dictionary/RLE, snappy, gzip, zstd).
        .target(
            name: "ExportParquet",
            dependencies: [
                "ExportCore", "ExportZlib", "CZlib", "CZstd", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Inputs as pipelines write them: files, folders, globs, standard input; CSV, gzip, Parquet.
        .target(
            name: "ExportInput",
            dependencies: ["ExportCore", "ExportCSV", "ExportParquet", "ExportSinks"],
            swiftSettings: swiftSettings
        ),
        // Where parts go: the PartSink contract, local disk and memory.
        .target(
            name: "ExportSinks",
            dependencies: [
                "ExportCore", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // S3: SigV4 signing, single PUT and multipart upload, credentials from the AWS environment.
        .target(
            name: "ExportS3",
            dependencies: [
                "ExportSinks", "ExportCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        // The whole job: grouping, parts, markers, manifest.
        .target(
            name: "BacktestExport",
            dependencies: [
                "ExportCore", "ExportCSV", "ExportParquet", "ExportInput", "ExportSinks", "CPrefetch",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Synthetic backtests: the `sample` command's CSV and the benchmarks' in-memory data set.
        .target(name: "BacktestSample", dependencies: ["ExportCore"], swiftSettings: swiftSettings),
        // The job API: an Amazon Forecast JSON 1.1 endpoint (Hummingbird), jobs kept in SQLite (GRDB).
        .target(
            name: "ExportServer",
            dependencies: [
                "BacktestExport", "ExportCore", "ExportCSV", "ExportParquet", "ExportSinks", "ExportS3",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The CLI: argument parsing and composition only.
        .executableTarget(
            name: "backtest-export",
            dependencies: [
                "BacktestExport", "BacktestSample", "ExportCore", "ExportSinks", "ExportCSV", "ExportParquet",
                "ExportInput", "ExportS3", "ExportServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test support shared by the test targets: the PartSink conformance checks and row fixtures.
        .target(
            name: "ExportTesting",
            dependencies: ["ExportCore", "ExportSinks", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportCoreTests",
            dependencies: ["ExportCore", "ExportTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportCSVTests",
            dependencies: ["ExportCSV", "ExportCore", .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportParquetTests",
            dependencies: [
                "ExportParquet", "ExportCore", "CZlib", "CZstd", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportInputTests",
            dependencies: [
                "ExportInput", "ExportParquet", "ExportCore", .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportSinksTests",
            dependencies: [
                "ExportSinks", "ExportCore", "ExportTesting", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportS3Tests",
            dependencies: [
                "ExportS3", "ExportSinks", "ExportCore", "ExportTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExportServerTests",
            dependencies: ["ExportServer", "ExportS3", "ExportCore", "ExportSinks"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BacktestExportTests",
            dependencies: [
                "BacktestExport", "ExportCore", "ExportSinks", "ExportCSV", "ExportTesting",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// libFuzzer targets (Tests/Fuzz, built and run by scripts/fuzz): only when BACKTEST_EXPORT_FUZZ is
// set, because the executable links only with -sanitize=fuzzer (libFuzzer provides `main`).
if Context.environment["BACKTEST_EXPORT_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(name: "ExportFuzz", dependencies: ["ExportCSV", "ExportCore"], path: "Tests/Fuzz/Sources")
    )
}
