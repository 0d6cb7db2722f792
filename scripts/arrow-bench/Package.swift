// swift-tools-version: 6.1
// Release-mode throughput of the Arrow writer and reader on a feature-like table built from
// the real NBA.com 2022-23 player logs. A separate package (symlinked sources) so that it
// builds without swift-crypto and stays out of the main package. Run: scripts/arrow-bench/run.sh
import PackageDescription
let package = Package(
  name: "arrowbench",
  targets: [
    .systemLibrary(name: "CLZ4", pkgConfig: "liblz4"),
    .target(name: "Columnar"),
    .target(name: "LZ4", dependencies: ["CLZ4"]),
    .target(name: "ArrowIPC", dependencies: ["Columnar", "LZ4"]),
    .executableTarget(name: "bench", dependencies: ["ArrowIPC", "Columnar"]),
  ],
  swiftLanguageModes: [.v6]
)
