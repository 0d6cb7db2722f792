import Foundation

/// The `dataset` built with this test bundle, for what only a separate process shows (exit
/// code, stdout and stderr as a scheduler sees them, a pid to signal): `swift test` builds
/// every product into the folder the test runner runs from (.build/debug, or
/// .build-test/release under make test). DATASET_BIN overrides; `fallback` when none is found.
public enum BuiltBinary {
  public static func dataset(orElse fallback: String) -> String {
    let fm = FileManager.default
    if let env = ProcessInfo.processInfo.environment["DATASET_BIN"], fm.isExecutableFile(atPath: env) { return env }
    let runner = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var dir = URL(fileURLWithPath: runner).deletingLastPathComponent()
    for _ in 0..<3 {
      let candidate = dir.appendingPathComponent("dataset").path
      if fm.isExecutableFile(atPath: candidate) { return candidate }
      dir.deleteLastPathComponent()
    }
    return fallback
  }
}
