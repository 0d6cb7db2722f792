import Features
import Foundation
import Gates

/// Where `--feature-set` names a spec: `build` and `features-csv` resolve it the same way.
enum FeatureSetLocation {
  case file(String)
  case builtIn(String)

  /// A name resolves to Schemas/features/<name>.json beside the gate defaults (found from the
  /// executable, then the working directory), else to the copy built into the binary; anything
  /// ending in .json is a path.
  static func locate(_ value: String) throws(CommandFailure) -> FeatureSetLocation {
    if value.hasSuffix(".json") {
      guard FileManager.default.isReadableFile(atPath: value) else {
        throw CommandFailure(.usage, "error: --feature-set \(value): no such readable file")
      }
      return .file(value)
    }
    var candidates: [String] = []
    if let defaults = GateConfig.locateDefaultsFile() {
      candidates.append(
        URL(fileURLWithPath: defaults).deletingLastPathComponent().appendingPathComponent("features/\(value).json").path
      )
    }
    candidates.append(FileManager.default.currentDirectoryPath + "/Schemas/features/\(value).json")
    if let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return .file(found) }
    if let text = FeatureSetSpec.builtIn[value] { return .builtIn(text) }
    throw CommandFailure(
      .usage,
      "error: --feature-set \(value): no Schemas/features/\(value).json (looked in \(candidates.joined(separator: ", "))) "
        + "and no built-in feature set of that name (built in: \(FeatureSetSpec.builtIn.keys.sorted().joined(separator: ", ")))"
    )
  }

  /// The spec `value` names, parsed; a spec that does not parse is unusable input (exit 3).
  static func load(_ value: String) throws(CommandFailure) -> FeatureSetSpec {
    let location = try locate(value)
    do {
      switch location {
      case .file(let path): return try FeatureSetSpec.load(path: path)
      case .builtIn(let text): return try FeatureSetSpec.parse(bytes: Array(text.utf8), path: "built-in \(value)")
      }
    } catch {
      throw CommandFailure(.unusableInput, "error: \(error)")
    }
  }
}
