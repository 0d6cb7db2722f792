import Foundation
import Pipeline
import Snapshots

/// What `show`, `diff` and `verify` accept: a version folder (or its manifest.json, or a link
/// to either), a dataset folder meaning its latest version, `dataset/version` under --out, or
/// a bare `dataset` meaning its latest version.
struct SnapshotReference {
  var folder: String
  var label: String

  static func resolve(_ text: String, out: String) throws(CommandFailure) -> SnapshotReference {
    var isDir: ObjCBool = false
    var trimmed = text
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed.removeLast() }
    let expected = "expected a version folder, its manifest.json, dataset/version or dataset name"
    // A file: a manifest, or a link to one by any name (`latest.json`); the version is the
    // folder of the file it resolves to. A review got "no published version of dataset
    // mlink.json" for such a link. Any other file falls through to the names under --out: a
    // stray file named like a dataset (`> props_v1` in a shell) must not hide the dataset.
    let isFile = FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDir) && !isDir.boolValue
    if isFile, let folder = versionFolder(ofManifestFile: trimmed) {
      return SnapshotReference(folder: folder, label: label(folder))
    }
    if FileManager.default.fileExists(atPath: "\(trimmed)/manifest.json", isDirectory: &isDir) {
      return SnapshotReference(folder: trimmed, label: label(trimmed))
    }
    // A path (absolute, or ./ ../) names a folder, never dataset/version under --out:
    // "/nonexistent" was looked up as "<out>//nonexistent".
    if trimmed.hasPrefix("/") || trimmed.hasPrefix("./") || trimmed.hasPrefix("../") || trimmed == "."
      || trimmed == ".."
    {
      if let found = try datasetFolder(trimmed) { return found }
      if let why = SnapshotStore.whyUnusable(trimmed) {
        throw CommandFailure(.unusableInput, "error: \(trimmed): \(why)")
      }
      if let why = SnapshotStore.whyUnusable("\(trimmed)/manifest.json") {
        throw CommandFailure(.unusableInput, "error: \(trimmed)/manifest.json: \(why)")
      }
      throw CommandFailure(
        .unusableInput,
        "error: \(text): \(isFile ? "a file, not a manifest.json" : "no manifest.json there"); \(expected)")
    }
    let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    let store = SnapshotStore(root: out)
    // A folder this user may not enter or list is not a missing one (a review got "no
    // published version" and "no such snapshot version" for folders that were there).
    func refuseUnusable(_ paths: [String]) throws(CommandFailure) {
      for path in paths {
        if let why = SnapshotStore.whyUnusable(path) { throw CommandFailure(.unusableInput, "error: \(path): \(why)") }
      }
    }
    switch parts.count {
    case 1:
      if let latest = store.latestPublished(parts[0]) {
        return SnapshotReference(folder: store.versionPath(parts[0], latest), label: "\(parts[0])/\(latest)")
      }
      // Names under --out first; then a dataset folder of that relative path (a review:
      // `diff Datasets/props_v1` looked for Datasets/Datasets/props_v1).
      if let found = try datasetFolder(trimmed) { return found }
      try refuseUnusable([out, store.datasetPath(parts[0])])
      throw CommandFailure(
        .unusableInput, "error: \(out)/\(parts[0]): no published version of dataset \(parts[0])\(available(store))")
    case 2:
      let folder = store.versionPath(parts[0], parts[1])
      if FileManager.default.fileExists(atPath: folder) { return SnapshotReference(folder: folder, label: trimmed) }
      if let found = try datasetFolder(trimmed) { return found }
      try refuseUnusable([out, store.datasetPath(parts[0]), folder])
      let versions = store.versions(parts[0])
      let have = versions.isEmpty ? available(store) : " (versions: \(versions.joined(separator: ", ")))"
      throw CommandFailure(.unusableInput, "error: \(folder): no such snapshot version\(have)")
    default:
      // Three parts or more can only be a relative path (Datasets/props_v1/v1): a dataset
      // folder, or one without a manifest, which is input that cannot be used.
      if let found = try datasetFolder(trimmed) { return found }
      try refuseUnusable([trimmed, "\(trimmed)/manifest.json"])
      throw CommandFailure(.unusableInput, "error: \(text): no manifest.json there; \(expected)")
    }
  }

  /// The version folder of a file that is a manifest, or a link to one by any name (the
  /// folder of the file it resolves to); nil for any other file.
  static func versionFolder(ofManifestFile path: String) -> String? {
    let real = PathNames.canonical(path)
    if real.hasSuffix("/manifest.json") { return PathNames.parent(of: real) }
    return path.hasSuffix("/manifest.json") ? String(path.dropLast("/manifest.json".count)) : nil
  }

  /// A dataset folder given as a path: its newest version that holds a manifest; nil when the
  /// path is no dataset folder. One whose versions all lack a manifest is said as such, not as
  /// a missing version under --out.
  static func datasetFolder(_ path: String) throws(CommandFailure) -> SnapshotReference? {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return nil }
    let store = SnapshotStore(root: PathNames.folder(holding: path))
    let name = (path as NSString).lastPathComponent
    let versions = store.versions(name)
    guard !versions.isEmpty else { return nil }
    guard let latest = store.latestPublished(name) else {
      throw CommandFailure(
        .unusableInput,
        "error: \(path): a dataset folder, but none of its versions (\(versions.joined(separator: ", "))) holds a manifest.json"
      )
    }
    let folder = "\(path)/\(latest)"
    return SnapshotReference(folder: folder, label: label(folder))
  }

  /// `dataset/version` of the folder a path leads to, links followed: a link `latest` to
  /// `props_v1/v2` is `props_v1/v2`, not `…/latest`.
  static func label(_ folder: String) -> String {
    let url = URL(fileURLWithPath: PathNames.canonical(folder))
    return "\(url.deletingLastPathComponent().lastPathComponent)/\(url.lastPathComponent)"
  }

  static func available(_ store: SnapshotStore) -> String {
    let names = store.datasets()
    return names.isEmpty ? " (no datasets under \(store.root))" : " (datasets: \(names.joined(separator: ", ")))"
  }

  func manifest() throws(CommandFailure) -> Manifest {
    do { return try Manifest.read(path: "\(folder)/manifest.json") } catch {
      throw CommandFailure(.unusableInput, "error: \(error)")
    }
  }
}
