import ArgumentParser
import Foundation
import Pipeline
import Snapshots

/// `dataset list`: every dataset and version with its date, rows, gate status and overrides.
struct ListCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "List datasets and their versions (date, rows, gates, overrides).")

  @Option(help: ArgumentHelp("Root folder of the snapshots.", valueName: "dir"))
  var out: String = "Datasets"

  @Flag(name: .long, help: "Print the list as JSON.")
  var json = false

  struct Entry: Encodable {
    var dataset: String
    var version: String
    var createdAt: String?
    var rows: Int?
    var files: Int?
    /// The seasons of its files: a version holds exactly the seasons its build was given.
    var seasons: [String]?
    var gates: String?
    /// The same counts as numbers, for a script: {"pass": 9, "warn": 1, "fail": 0, "overridden": 0}.
    var gateCounts: [String: Int]?
    var overrides: [Manifest.OverrideRecord]
    /// What CI needs to pick a baseline without opening manifests (a review): the version it
    /// was built after, its content digest (equal digests, equal content) and its feature set.
    var parentVersion: String?
    var contentSHA256: String?
    var featureSet: Manifest.FeatureSetRef?
    var error: String?
    enum CodingKeys: String, CodingKey {
      case dataset, version, rows, files, seasons, gates, overrides, error
      case createdAt = "created_at"
      case gateCounts = "gate_counts"
      case parentVersion = "parent_version"
      case contentSHA256 = "content_sha256"
      case featureSet = "feature_set"
    }
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(dataset, forKey: .dataset)
      try c.encode(version, forKey: .version)
      try c.encode(createdAt, forKey: .createdAt)
      try c.encode(rows, forKey: .rows)
      try c.encode(files, forKey: .files)
      try c.encode(seasons, forKey: .seasons)
      try c.encode(gates, forKey: .gates)
      try c.encode(gateCounts, forKey: .gateCounts)
      try c.encode(overrides, forKey: .overrides)
      try c.encode(parentVersion, forKey: .parentVersion)
      try c.encode(contentSHA256, forKey: .contentSHA256)
      try c.encode(featureSet, forKey: .featureSet)
      try c.encode(error, forKey: .error)
    }
  }

  func run() throws {
    // A mistyped --out must not read as "no snapshots": an existing empty folder does.
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: out, isDirectory: &isFolder), isFolder.boolValue else {
      if let why = SnapshotStore.whyUnusable(out) {
        throw CommandFailure(.unusableInput, "error: --out \(out): \(why)")
      }
      let what = FileManager.default.fileExists(atPath: out) ? "is a file, not a folder" : "no such folder"
      throw CommandFailure(
        .unusableInput, "error: --out \(out): \(what) (the root of the snapshots, Datasets by default)")
    }
    let store = SnapshotStore(root: out)
    let unreadable = store.unreadableFolders()
    if let root = unreadable.first, root.path == out {
      throw CommandFailure(.unusableInput, "error: --out \(out): \(root.why)")
    }
    for folder in unreadable {
      FileHandleOutput.standardError.write("note: \(folder.path): \(folder.why); versions in it are not listed\n")
    }
    var entries: [Entry] = []
    for d in store.datasets() {
      for v in store.versions(d) {
        do {
          let m = try store.manifest(d, v)
          entries.append(
            Entry(
              dataset: d, version: v, createdAt: m.createdAt, rows: m.rowCount, files: m.files.count,
              seasons: m.files.map(\.season), gates: BuildSummary.gateCounts(m.gates),
              gateCounts: BuildSummary.gateTally(m.gates),
              overrides: m.config.overrides, parentVersion: m.parentVersion, contentSHA256: m.contentSHA256,
              featureSet: m.featureSet, error: nil))
        } catch {
          entries.append(Entry(dataset: d, version: v, overrides: [], error: "\(error)"))
        }
      }
    }
    if json {
      FileHandleOutput.standardOutput.write(jsonText(entries))
      return
    }
    guard !entries.isEmpty else {
      let readable = unreadable.isEmpty ? "" : " that this user may read"
      FileHandleOutput.standardOutput.write("no snapshots\(readable) under \(out)\n")
      return
    }
    let header = ["dataset", "version", "created (UTC)", "rows", "files", "seasons", "gates", "overrides"]
    let rows = entries.map { e -> [String] in
      // The reason goes under the table: in a cell it widened the column of every other row.
      if e.error != nil { return [e.dataset, e.version, "unreadable manifest", "", "", "", "", ""] }
      return [
        e.dataset, e.version, e.createdAt ?? "", e.rows.map(String.init) ?? "", e.files.map(String.init) ?? "",
        seasonList(e.seasons ?? []), e.gates ?? "",
        e.overrides.isEmpty ? "none" : e.overrides.map { "\($0.gate): \($0.reason)" }.joined(separator: "; "),
      ]
    }
    let reasons = entries.compactMap { e in e.error.map { "\(e.dataset)/\(e.version): \($0)\n" } }
    FileHandleOutput.standardOutput.write(
      renderTable(header: header, rows: rows, rightAligned: [3, 4]) + (reasons.isEmpty ? "" : "\n" + reasons.joined()))
  }
}

/// Seasons as a table cell or a line: "2021-22, 2022-23", or past three
/// "2015-16 … 2089-90 (75)".
func seasonList(_ s: [String]) -> String {
  s.count > 3 ? "\(s[0]) … \(s[s.count - 1]) (\(s.count))" : s.joined(separator: ", ")
}

/// Columns padded to their widest cell, two spaces apart, no trailing spaces.
func renderTable(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
  var widths = header.map(\.count)
  for r in rows { for (k, cell) in r.enumerated() { widths[k] = max(widths[k], cell.count) } }
  func line(_ cells: [String]) -> String {
    var parts: [String] = []
    for (k, cell) in cells.enumerated() {
      let pad = String(repeating: " ", count: widths[k] - cell.count)
      parts.append(rightAligned.contains(k) ? pad + cell : cell + pad)
    }
    var text = parts.joined(separator: "  ")
    while text.hasSuffix(" ") { text.removeLast() }
    return text + "\n"
  }
  return line(header) + rows.map(line).joined()
}
