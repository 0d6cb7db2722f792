// swift-tools-version: 6.1
import PackageDescription

// Dependencies point one way (see docs/ARCHITECTURE.md):
// CSQLite, CLZ4 → Columnar, Clocks, LZ4 → SQLiteSource, ArrowIPC → Importer, Gates, Features
// → Snapshots → Pipeline → DatasetCLI → dataset.
let package = Package(
  name: "dataset",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "dataset", targets: ["dataset"]),
    .library(
      name: "DatasetKit",
      targets: ["Pipeline", "Snapshots", "Importer", "Gates", "Features", "ArrowIPC", "SQLiteSource", "Columnar"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
  ],
  targets: [
    .systemLibrary(
      name: "CSQLite", pkgConfig: "sqlite3",
      providers: [.apt(["libsqlite3-dev"])]),
    .systemLibrary(
      name: "CLZ4", pkgConfig: "liblz4",
      providers: [.apt(["liblz4-dev"])]),
    .target(name: "Clocks"),
    .target(name: "Columnar"),
    .target(name: "LZ4", dependencies: ["CLZ4"]),
    .target(name: "SQLiteSource", dependencies: ["CSQLite", "Columnar"]),
    .target(name: "ArrowIPC", dependencies: ["Columnar", "LZ4"]),
    .target(name: "Importer", dependencies: ["SQLiteSource", "Columnar", "LZ4"]),
    .target(name: "Gates", dependencies: ["SQLiteSource", "Columnar", "Clocks"]),
    .target(name: "Features", dependencies: ["SQLiteSource", "Columnar"]),
    .target(name: "Synth", dependencies: ["Importer", "SQLiteSource", "Columnar"]),
    .target(
      name: "Snapshots",
      dependencies: [
        "ArrowIPC", "Gates", "Features", "SQLiteSource", "Columnar", "Clocks",
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .target(
      name: "Pipeline", dependencies: ["Snapshots", "Gates", "Features", "SQLiteSource", "Columnar", "Clocks"]),
    .target(name: "Report", dependencies: ["Snapshots", "Gates", "SQLiteSource", "Columnar"]),
    .target(
      name: "DatasetCLI",
      dependencies: [
        "Pipeline", "Report", "Snapshots", "Importer", "Gates", "Features", "SQLiteSource", "ArrowIPC", "Columnar",
        "Synth",
        "Clocks", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(name: "dataset", dependencies: ["DatasetCLI"]),
    // Test helpers shared by the test targets: scratch folders, a seeded generator (Tests/TestSupport).
    .target(name: "TestSupport", path: "Tests/TestSupport"),
    .testTarget(name: "ColumnarTests", dependencies: ["Columnar", "TestSupport"]),
    .testTarget(name: "SynthTests", dependencies: ["Synth", "SQLiteSource", "Columnar", "TestSupport"]),
    .testTarget(
      name: "ArrowIPCTests", dependencies: ["ArrowIPC", "Columnar", "LZ4", "TestSupport"],
      // Read by path (#filePath) so that they are the bytes pyarrow and polars wrote, not a bundled copy.
      exclude: ["Fixtures"]),
    .testTarget(
      name: "SnapshotsTests", dependencies: ["Snapshots", "ArrowIPC", "SQLiteSource", "Columnar", "TestSupport"]),
    .testTarget(
      name: "GatesTests",
      dependencies: [
        "Gates", "DatasetCLI", "Pipeline", "Snapshots", "Importer", "SQLiteSource", "Columnar", "TestSupport",
      ]),
    .testTarget(
      name: "ImporterTests", dependencies: ["Importer", "DatasetCLI", "SQLiteSource", "Columnar", "LZ4", "TestSupport"]),
    .testTarget(name: "SQLiteSourceTests", dependencies: ["SQLiteSource", "Importer", "Columnar", "TestSupport"]),
    .testTarget(
      name: "ReliabilityTests",
      dependencies: [
        "DatasetCLI", "Snapshots", "ArrowIPC", "Importer", "SQLiteSource", "Columnar", "LZ4", "TestSupport",
      ]),
    .testTarget(
      name: "ReportTests", dependencies: ["Report", "DatasetCLI", "Snapshots", "Gates", "SQLiteSource", "Columnar"]),
    // Benchmark programs (`make bench`, docs/BENCH.md) and what they share.
    .target(name: "BenchSupport", dependencies: ["Clocks"]),
    .executableTarget(name: "FeaturesBench", dependencies: ["BenchSupport", "Features", "SQLiteSource", "Columnar"]),
    .executableTarget(name: "GatesBench", dependencies: ["BenchSupport", "Gates", "SQLiteSource", "Columnar"]),
    .executableTarget(name: "SourceReadBench", dependencies: ["BenchSupport", "SQLiteSource", "Columnar"]),
    .executableTarget(
      name: "SnapshotsBench",
      dependencies: [
        "BenchSupport", "Snapshots", "Features", "SQLiteSource", "Columnar",
        .product(name: "Crypto", package: "swift-crypto"),
      ]),
    .testTarget(name: "FeaturesTests", dependencies: ["Features", "SQLiteSource", "Columnar"]),
    .testTarget(
      name: "PipelineTests", dependencies: ["Pipeline", "Synth", "Features", "Gates", "Snapshots", "TestSupport"]),
    .testTarget(
      name: "BTreeReadTests", dependencies: ["SQLiteSource", "Importer", "Columnar", "CSQLite", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
