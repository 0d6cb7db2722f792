import ArgumentParser
import Foundation
import Pipeline
import Snapshots

/// `dataset verify`: what CI runs over every snapshot.
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check snapshots against their manifests: sizes, SHA-256, Arrow files, rows, schema.",
    discussion: """
      PATH is a version folder, its manifest.json, a dataset folder or a Datasets root (every \
      version of every dataset); a PATH that does not exist is read as dataset/version or \
      dataset (its latest version) under --out, as diff and show read them. Exit 0 when \
      everything matches, 2 with one line per problem.
      """)

  @Argument(help: ArgumentHelp("Version folders, manifests or Datasets roots.", valueName: "path"))
  var paths: [String]

  @Option(
    help: ArgumentHelp(
      "Root folder of the snapshots, for a PATH given as dataset/version or dataset.", valueName: "dir"))
  var out: String = "Datasets"

  @Flag(name: .long, help: "Print {ok, checked, failed, problems, notes} as JSON.")
  var json = false

  func validate() throws {
    guard !paths.isEmpty else {
      throw ValidationError("verify needs at least one PATH (a version folder, manifest.json or Datasets root)")
    }
  }

  func run() throws {
    // CI verifies the versions it diffs by the same names (a review: `verify props_v1/v2` was
    // "does not exist"). Only a PATH that is not there is read as a name; one that cannot be
    // resolved either stays a path, which the verifier reports as missing.
    let targets = paths.map { path -> String in
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
        // A link to a manifest by another name (`latest.json`), as show and diff take it;
        // every other path as given.
        guard !isDir.boolValue, !path.hasSuffix("manifest.json"),
          let folder = SnapshotReference.versionFolder(ofManifestFile: path)
        else { return path }
        return folder
      }
      guard !path.hasPrefix("/"), !path.hasPrefix("."), let reference = try? SnapshotReference.resolve(path, out: out)
      else { return path }
      return reference.folder
    }
    let report = Verifier(format: ArrowDataFileFormat()).verify(paths: targets)
    let checked = report.checked
    let problems = report.problems
    for note in report.notes { printError("note: \(Self.oneLine(note))") }
    if json {
      struct Out: Encodable {
        var ok: Bool
        var checked: [String]
        /// The checked versions with a problem: the rest passed.
        var failed: [String]
        var problems: [String]
        var notes: [String]
      }
      FileHandleOutput.standardOutput.write(
        jsonText(
          Out(ok: problems.isEmpty, checked: checked, failed: report.failed, problems: problems, notes: report.notes)))
    } else if problems.isEmpty {
      FileHandleOutput.standardOutput.write("ok: \(checked.count) version\(checked.count == 1 ? "" : "s") verified\n")
    } else {
      FileHandleOutput.standardOutput.write(problems.map { Self.oneLine($0) + "\n" }.joined())
    }
    if !problems.isEmpty {
      let failed = report.failed.count, passed = checked.count - report.failed.count
      let outside = problems.count - report.problemsInVersions
      func versions(_ n: Int) -> String { "\(n) version\(n == 1 ? "" : "s")" }
      // Problems outside any version (a path that does not exist, a folder that cannot be
      // read) are counted apart: "3 problems in 1 version" for two in it and one beside it
      // misled a review.
      let inVersions =
        "in " + (failed == checked.count ? versions(failed) : "\(failed) of \(versions(checked.count))")
      let placed =
        outside == 0
        ? " \(inVersions)"
        : report.problemsInVersions == 0
          ? " outside any version"
          : ": \(report.problemsInVersions) \(inVersions), \(outside) outside any version"
      let tally =
        placed
        + (checked.isEmpty
          ? "; no version checked"
          : passed == 0 ? "" : failed > 0 ? "; \(passed) verified ok" : "; \(versions(passed)) verified ok")
      throw CommandFailure(.gateFailed, "verify: \(problems.count) problem\(problems.count == 1 ? "" : "s")\(tally)")
    }
  }

  /// A problem on one line: a manifest's own text (a version name, a column's meaning) is
  /// quoted in problems, and a newline in it printed a second line that a log reader took for a
  /// verdict of its own (a review forged `…/v2: all good`). Control characters are written as
  /// `\u{…}` escapes.
  static func oneLine(_ text: String) -> String {
    // C0 and DEL, C1 (U+0085 NEL is a line break to Python's splitlines), and the Unicode line
    // and paragraph separators.
    func breaks(_ v: UInt32) -> Bool { v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029 }
    guard text.unicodeScalars.contains(where: { breaks($0.value) }) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if breaks(scalar.value) {
        out += "\\u{\(String(scalar.value, radix: 16))}"
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
