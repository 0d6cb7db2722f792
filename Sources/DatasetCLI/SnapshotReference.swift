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
    // A file: a manifest, or a link to one by any name (`latest.json`); the version is the
    // folder of the file it resolves to. A review got "no published version of dataset
    // mlink.json" for such a link.
    if FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDir), !isDir.boolValue {
      let real = PathNames.canonical(trimmed)
      if real.hasSuffix("/manifest.json") || trimmed.hasSuffix("/manifest.json") {
        let folder =
          real.hasSuffix("/manifest.json")
          ? PathNames.parent(of: real) : String(trimmed.dropLast("/manifest.json".count))
        return SnapshotReference(folder: folder, label: label(folder))
      }
      throw CommandFailure(
        .unusableInput,
        "error: \(text): a file that is not a manifest.json; expected a version folder, its manifest.json, dataset/version or dataset name"
      )
    }
    if FileManager.default.fileExists(atPath: "\(trimmed)/manifest.json", isDirectory: &isDir) {
      return SnapshotReference(folder: trimmed, label: label(trimmed))
    }
    // A dataset folder given as a path (`Datasets/props_v1`): its latest version. A review
    // got "Datasets/Datasets/props_v1: no such snapshot version".
    if FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDir), isDir.boolValue {
      let parent = PathNames.parent(of: trimmed), name = (PathNames.canonical(trimmed) as NSString).lastPathComponent
      let store = SnapshotStore(root: parent.isEmpty ? "." : parent)
      if let latest = latestPublished(store, (trimmed as NSString).lastPathComponent) {
        let folder = "\(trimmed)/\(latest)"
        return SnapshotReference(folder: folder, label: "\(name)/\(latest)")
      }
    }
    // A path (absolute, or ./ ../) names a folder, never dataset/version under --out:
    // "/nonexistent" was looked up as "<out>//nonexistent".
    if trimmed.hasPrefix("/") || trimmed.hasPrefix("./") || trimmed.hasPrefix("../") || trimmed == "."
      || trimmed == ".."
    {
      if let why = SnapshotStore.whyUnusable(trimmed) {
        throw CommandFailure(.unusableInput, "error: \(trimmed): \(why)")
      }
      if let why = SnapshotStore.whyUnusable("\(trimmed)/manifest.json") {
        throw CommandFailure(.unusableInput, "error: \(trimmed)/manifest.json: \(why)")
      }
      throw CommandFailure(
        .unusableInput,
        "error: \(text): no manifest.json there; expected a version folder, its manifest.json, dataset/version or dataset name"
      )
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
      guard let latest = latestPublished(store, parts[0]) else {
        try refuseUnusable([out, store.datasetPath(parts[0])])
        throw CommandFailure(
          .unusableInput, "error: \(out)/\(parts[0]): no published version of dataset \(parts[0])\(available(store))")
      }
      return SnapshotReference(folder: store.versionPath(parts[0], latest), label: "\(parts[0])/\(latest)")
    case 2:
      let folder = store.versionPath(parts[0], parts[1])
      guard FileManager.default.fileExists(atPath: folder) else {
        try refuseUnusable([out, store.datasetPath(parts[0]), folder])
        let versions = store.versions(parts[0])
        let have = versions.isEmpty ? available(store) : " (versions: \(versions.joined(separator: ", ")))"
        throw CommandFailure(.unusableInput, "error: \(folder): no such snapshot version\(have)")
      }
      return SnapshotReference(folder: folder, label: trimmed)
    default:
      // Three parts or more can only be a relative path (Datasets/props_v1/v1): one without a
      // manifest is input that cannot be used, as an absolute one is.
      try refuseUnusable([trimmed, "\(trimmed)/manifest.json"])
      throw CommandFailure(
        .unusableInput,
        "error: \(text): no manifest.json there; expected a version folder, its manifest.json, dataset/version or dataset name"
      )
    }
  }

  /// `dataset/version` of the folder a path leads to, links followed: a link `latest` to
  /// `props_v1/v2` is `props_v1/v2`, not `…/latest`.
  static func label(_ folder: String) -> String {
    let url = URL(fileURLWithPath: PathNames.canonical(folder))
    return "\(url.deletingLastPathComponent().lastPathComponent)/\(url.lastPathComponent)"
  }

  /// The newest version that holds a manifest: a folder `v17` made by hand (no manifest) is
  /// not a version to compare with, as it is not one that `build` continues from.
  static func latestPublished(_ store: SnapshotStore, _ dataset: String) -> String? {
    store.versions(dataset).last {
      FileManager.default.fileExists(atPath: "\(store.versionPath(dataset, $0))/manifest.json")
    }
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
