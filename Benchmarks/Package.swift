// swift-tools-version: 6.1
import PackageDescription

// Benchmarks of backtest-export (issue #6), a package of its own so that the main package does not
// depend on the benchmark framework.
//
//   swift package --disable-sandbox benchmark --target ExportBenchmarks            all suites
//   swift package --disable-sandbox benchmark --target ExportBenchmarks --filter 'naming.*'
//   peers/compare                                                                   peers table
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "backtest-export", path: "../"),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // The package-benchmark suites. Its folder's parent must be named Benchmarks (the plugin's rule).
        .executableTarget(
            name: "ExportBenchmarks",
            dependencies: [
                .product(name: "BacktestSample", package: "backtest-export"),
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
                .product(name: "BacktestExport", package: "backtest-export"),
                .product(name: "ExportCore", package: "backtest-export"),
                .product(name: "ExportCSV", package: "backtest-export"),
                .product(name: "ExportParquet", package: "backtest-export"),
                .product(name: "ExportSinks", package: "backtest-export"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "ExportBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The writer timed against polars, DuckDB and pyarrow by peers/compare.
        .executableTarget(
            name: "PeerWriter",
            dependencies: [
                .product(name: "BacktestExport", package: "backtest-export"),
                .product(name: "ExportCore", package: "backtest-export"),
                .product(name: "ExportCSV", package: "backtest-export"),
                .product(name: "ExportParquet", package: "backtest-export"),
                .product(name: "ExportSinks", package: "backtest-export"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/PeerWriter",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "S3Upload",
            dependencies: [
                .product(name: "ExportS3", package: "backtest-export"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/S3Upload",
            swiftSettings: swiftSettings
        ),
    ]
)
