import ArgumentParser
import Snapshots

/// `dataset verify`: what CI runs over every snapshot.
struct VerifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "verify",
    abstract: "Check snapshots against their manifests: sizes, SHA-256, Arrow files, rows, schema.",
    discussion: """
      PATH is a version folder, its manifest.json, a dataset folder or a Datasets root (every \
      version of every dataset). Exit 0 when everything matches, 2 with one line per problem.
      """)

  @Argument(help: ArgumentHelp("Version folders, manifests or Datasets roots.", valueName: "path"))
  var paths: [String]

  @Flag(name: .long, help: "Print {checked, problems, ok} as JSON.")
  var json = false

  func validate() throws {
    guard !paths.isEmpty else {
      throw ValidationError("verify needs at least one PATH (a version folder, manifest.json or Datasets root)")
    }
  }

  func run() throws {
    let verifier = Verifier(format: ArrowDataFileFormat())
    var checked: [String] = []
    var problems: [String] = []
    for p in paths {
      let r = verifier.verify(path: p)
      checked += r.checked
      problems += r.problems
    }
    if json {
      struct Out: Encodable {
        var ok: Bool
        var checked: [String]
        var problems: [String]
      }
      FileHandleOutput.standardOutput.write(jsonText(Out(ok: problems.isEmpty, checked: checked, problems: problems)))
    } else if problems.isEmpty {
      FileHandleOutput.standardOutput.write("ok: \(checked.count) version\(checked.count == 1 ? "" : "s") verified\n")
    } else {
      FileHandleOutput.standardOutput.write(problems.map { $0 + "\n" }.joined())
    }
    if !problems.isEmpty {
      throw CommandFailure(
        .gateFailed,
        "verify: \(problems.count) problem\(problems.count == 1 ? "" : "s") in \(checked.count) version\(checked.count == 1 ? "" : "s")"
      )
    }
  }
}
