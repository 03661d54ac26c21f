// swift-tools-version: 6.1
// The README's library example, built and run by scripts/test so that it stays true.
import PackageDescription

let package = Package(
    name: "QuickStart",
    dependencies: [
        // In your own package: .package(url: "<your copy of backtest-export>", branch: "main")
        .package(name: "backtest-export", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "QuickStart",
            dependencies: [.product(name: "BacktestExport", package: "backtest-export")]
        )
    ]
)
