// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets, kept in their own package so the main `swift build` / `swift test` never
// sees a target without a `main`: each file exports LLVMFuzzerTestOneInput and libFuzzer
// supplies `main` only when built with `-sanitize=fuzzer`. Run them with `make fuzz`
// (scripts/fuzz.sh), which builds with `-Xswiftc -sanitize=fuzzer,address`.
// SwiftPM links executables with `main` aliased to `<Target>_main` (so tests can import
// them); each target defines that symbol and hands control to libFuzzer's LLVMFuzzerRunDriver.
let library: [Target.Dependency] = [.product(name: "DatasetKit", package: "dataset"), "CFuzzDriver"]
// No top-level code and no @main: the entry point is libFuzzer's.
let settings: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
  name: "dataset-fuzz",
  platforms: [.macOS(.v14)],
  dependencies: [.package(name: "dataset", path: "..")],
  targets: [
    .target(name: "CFuzzDriver"),
    .executableTarget(name: "FuzzArrowReader", dependencies: library, swiftSettings: settings),
    .executableTarget(name: "FuzzManifest", dependencies: library, swiftSettings: settings),
    .executableTarget(name: "FuzzCSVLine", dependencies: library, swiftSettings: settings),
    .executableTarget(name: "FuzzSpecJSON", dependencies: library, swiftSettings: settings),
    .executableTarget(name: "FuzzSQLiteRead", dependencies: library, swiftSettings: settings),
  ],
  swiftLanguageModes: [.v6]
)
