import Features
import Foundation
import Gates
import Pipeline

/// Where `--feature-set` names a spec: `build` and `features-csv` resolve it the same way.
enum FeatureSetLocation {
  case file(String)
  case builtIn(String)

  /// A name resolves to features/<name>.json in the first `Schemas/` folder that has it
  /// (`GateConfig.schemasFolders`: beside the executable, a checkout's, the working
  /// directory's), else to the copy built into the binary; anything ending in .json is a path.
  static func locate(_ value: String) throws(CommandFailure) -> FeatureSetLocation {
    // A path that is not a .json file (a folder, say) is not a name to look up under Schemas/.
    if value.contains("/") && !value.hasSuffix(".json") {
      throw CommandFailure(
        .unusableInput,
        "error: --feature-set \(value): expected a feature-set name (props_v1) or the path of its .json spec")
    }
    if value.hasSuffix(".json") {
      guard FileManager.default.isReadableFile(atPath: value) else {
        throw CommandFailure(.unusableInput, "error: --feature-set \(value): no such readable file")
      }
      return .file(value)
    }
    let candidates = GateConfig.schemasFolders().map { "\($0)/features/\(value).json" }
    if let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return .file(found) }
    if let text = FeatureSetSpec.builtIn[value] { return .builtIn(text) }
    throw CommandFailure(
      .unusableInput,
      "error: --feature-set \(value): no Schemas/features/\(value).json (looked in \(candidates.joined(separator: ", "))) "
        + "and no built-in feature set of that name (built in: \(FeatureSetSpec.builtIn.keys.sorted().joined(separator: ", ")))"
    )
  }

  /// The spec `value` names, parsed; a spec that does not parse is unusable input (exit 3).
  /// `note` gets what the operator must hear about the file found (it differs from the
  /// built-in copy); by default it is written on stderr.
  static func load(
    _ value: String, note: (String) -> Void = { FileHandleOutput.standardError.write("note: \($0)\n") }
  ) throws(CommandFailure) -> FeatureSetSpec {
    let location = try locate(value)
    let spec: FeatureSetSpec
    do {
      switch location {
      case .file(let path): spec = try FeatureSetSpec.load(path: path)
      case .builtIn(let text): spec = try FeatureSetSpec.parse(bytes: Array(text.utf8), path: "built-in \(value)")
      }
    } catch {
      throw CommandFailure(.unusableInput, "error: \(error)")
    }
    // Looked up by name, the file must declare that name: props_v3.json saying "props_v2"
    // would build into props_v2's dataset, and its manifest would name props_v2.
    if !value.hasSuffix(".json"), spec.name != value {
      throw CommandFailure(
        .unusableInput,
        "error: --feature-set \(value) found \(spec.path), which declares the name \"\(spec.name)\": "
          + "a feature set looked up by name must declare that name (or pass the file's path)")
    }
    // As for the gate thresholds: a Schemas/ copy edited, or left in the working directory,
    // changes every feature without an option on the command line saying so.
    if case .file(let path) = location, !value.hasSuffix(".json"), let builtIn = FeatureSetSpec.builtIn[value],
      Array(builtIn.utf8) != spec.rawBytes
    {
      note(
        "feature set \(value) is read from \(path), which differs from the \(value) built into this binary "
          + "(the manifest records the file's SHA-256)")
    }
    return spec
  }
}
