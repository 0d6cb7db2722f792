import ArgumentParser
import Columnar
import Foundation
import Gates
import Pipeline
import Snapshots

/// `dataset build`: gates → features → point-in-time check → Arrow files → manifest → publish.
struct BuildCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "build",
    abstract: "Build a versioned snapshot: gates, features, point-in-time check, then publish.",
    discussion: """
      Writes Datasets/<dataset>/v<N>/ (one LZ4-compressed Arrow IPC file per season and \
      manifest.json) with one atomic rename, or nothing when the content equals the latest \
      version. Exit codes: 0 built or unchanged, 1 usage, 2 a gate or the point-in-time check \
      failed (nothing written), 3 unusable input or another build held the dataset's lock too long.
      """)

  @OptionGroup var source: SourceOptions

  @Option(help: ArgumentHelp("Dataset name (folder under --out); default: the feature set's name.", valueName: "name"))
  var dataset: String?

  @Option(help: ArgumentHelp("Root folder of the snapshots.", valueName: "dir"))
  var out: String = "Datasets"

  @Option(
    name: .customLong("feature-set"),
    help: ArgumentHelp("Feature set: a name under Schemas/features/ or a path to a .json spec.", valueName: "name"))
  var featureSet: String = "props_v1"

  @Flag(name: .customLong("include-bootstrap"), help: "Keep rows from each season's first 14 days.")
  var includeBootstrap = false

  @Option(
    name: .customLong("batch-rows"), parsing: .unconditional,
    help: ArgumentHelp("Rows per Arrow record batch.", valueName: "n"))
  var batchRows: Int = 8192

  @Option(
    name: .customLong("point-in-time-seed"), parsing: .unconditional,
    help: ArgumentHelp("Seed of the point-in-time sample.", valueName: "n"))
  var pointInTimeSeed: UInt64 = 20_231_024

  @Option(
    name: .customLong("lock-timeout"), parsing: .unconditional,
    help: ArgumentHelp("Seconds to wait for another build of the same dataset before giving up.", valueName: "s"))
  var lockTimeout: Double = 600

  @Flag(
    name: .customLong("rehash-source"),
    help: "Hash the database file even when its SHA-256 is remembered from an earlier build of the unchanged file.")
  var rehashSource = false

  @Flag(name: .long, help: "Print the result (and a refusal's gate report) as JSON.")
  var json = false

  @Flag(name: .long, help: "No progress on stderr (the result and errors are still printed).")
  var quiet = false

  func validate() throws {
    // The same checks BuildPipeline.run makes of a library caller's request, asked before the
    // source is resolved so that the command line's own mistakes come first.
    if let problem = BuildRequest.optionProblem(out: out, batchRows: batchRows, lockTimeout: lockTimeout) {
      throw ValidationError(problem)
    }
    if let dataset {
      do { try SnapshotStore.checkDatasetName(dataset) } catch { throw ValidationError("--dataset: \(error)") }
    }
    if let problem = BuildRequest.outFolderProblem(out: out) { throw ValidationError(problem) }
  }

  func run() throws {
    // "mkdir failed: Not a directory" named the file but not the mistake.
    var outIsFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: out, isDirectory: &outIsFolder), !outIsFolder.boolValue {
      throw CommandFailure(
        .unusableInput, "error: --out \(out): is a file, not a folder (the root of the snapshots, Datasets by default)")
    }
    let interrupts = InterruptWatch()
    defer { withExtendedLifetime(interrupts) {} }
    var timer = PhaseTimer()
    var resolved = try source.resolve()
    let spec = try FeatureSetLocation.load(featureSet) { resolved.note($0) }
    let name = dataset ?? spec.name
    do { try SnapshotStore.checkDatasetName(name) } catch {
      let origin = dataset == nil ? " (the feature set's name, from \(spec.path); pass --dataset)" : ""
      throw CommandFailure(.usage, "error: \(error)\(origin)")
    }
    var request = BuildRequest(source: resolved, featureSet: spec, dataset: name, out: out)
    request.includeBootstrap = includeBootstrap
    request.batchRows = batchRows
    request.pointInTimeSeed = pointInTimeSeed
    request.lockTimeout = lockTimeout
    request.rehashSource = rehashSource
    request.noteUnindexedScans = !quiet

    // Steps, not rows: the read, each season (computed, checked and written), the publish.
    let progress = ProgressReporter.standard(label: "build \(name)", unit: "steps", total: request.steps, quiet: quiet)
    var finished = false
    defer { if !finished { progress.finish(completed: false) } }
    timer.mark("options, feature set")
    let notice = WaitNotice(dataset: name, timeout: Self.seconds(lockTimeout))
    var events = BuildEvents()
    events.progress = { progress.update(done: $0) }
    events.waitingForLock = { notice.say($0) }
    let json = json
    events.refused = { Self.emitReport($0, json: json) }
    let built = try BuildPipeline.run(request, events: events, timer: timer)
    // Should its report on stdout be lost (a full disk under `> build.json`), exit 3 must not
    // hide what the build did.
    switch built.result.outcome {
    case .published(let version, let path):
      FileHandleOutput.whatHappenedBeforeOutputLoss(
        "the build itself succeeded and published \(name)/\(version) (\(path))")
    case .unchanged(let latest, _):
      FileHandleOutput.whatHappenedBeforeOutputLoss(
        "the build itself succeeded: nothing changed since \(name)/\(latest)")
    }
    progress.finish()
    finished = true
    FileHandleOutput.standardOutput.write(
      json
        ? BuildSummary.json(built.result, report: built.report, notes: built.notes)
        : BuildSummary.text(built.result, report: built.report))
  }

  /// `600`, `0.5`: never `Int(_:)` on the option, which traps for `--lock-timeout 1e300`.
  static func seconds(_ value: Double) -> String {
    if value == value.rounded(), let whole = Int(exactly: value) { return String(whole) }
    return String(value)
  }

  static func emitReport(_ report: GateReport, json: Bool) {
    if json {
      FileHandleOutput.standardOutput.write(report.json())
    } else {
      FileHandleOutput.standardOutput.write(
        GateTable.render(report, colour: FileHandleOutput.standardOutput.isTerminal))
    }
  }
}

enum BuildSummary {
  static func text(_ r: BuildResult, report: GateReport) -> String {
    let m = r.manifest
    var out = ""
    switch r.outcome {
    case .published(let version, let path):
      out +=
        "built \(m.dataset)/\(version): \(m.rowCount) rows in \(m.files.count) file\(m.files.count == 1 ? "" : "s")\n"
      for f in m.files { out += "  \(f.path)  \(f.rows) rows  \(f.bytes) bytes  sha256 \(f.sha256.prefix(12))…\n" }
      out += "gates: \(gateCounts(m.gates))\(m.builtWithOverrides ? " (built with overrides)" : "")\n"
      out += "snapshot: \(path)\n"
    case .unchanged(let latest, let path):
      out += "nothing changed: the content equals \(m.dataset)/\(latest) (\(m.rowCount) rows); no new version written\n"
      if let note = windowNote(r, report: report) { out += "  (\(note))\n" }
      out += "gates: \(gateCounts(report.gates.map(Manifest.GateRecord.init)))\n"
      out += "snapshot: \(path)\n"
    }
    return out
  }

  /// "9 pass, 1 warn" (a count left out when 0), from `gateTally`.
  static func gateCounts(_ gates: [Manifest.GateRecord]) -> String {
    let tally = gateTally(gates)
    return ["pass", "warn", "fail", "overridden"].compactMap { s in tally[s].flatMap { $0 > 0 ? "\($0) \(s)" : nil } }
      .joined(separator: ", ")
  }

  /// Gates per status (pass, warn, fail; each present, 0 included) and how many were overridden.
  static func gateTally(_ gates: [Manifest.GateRecord]) -> [String: Int] {
    var tally = ["pass": 0, "warn": 0, "fail": 0, "overridden": 0]
    for gate in gates {
      if tally[gate.status] != nil { tally[gate.status, default: 0] += 1 }
      if gate.override != nil { tally["overridden", default: 0] += 1 }
    }
    return tally
  }

  /// When the latest version's content equals this build's but its manifest records another
  /// date window: "props_v1/v1 was built from the start to 2026-11-27; this build, from the start
  /// to 2026-11-28, selects the same rows".
  static func windowNote(_ r: BuildResult, report: GateReport) -> String? {
    guard case .unchanged(let latest, _) = r.outcome else { return nil }
    let m = r.manifest
    func window(_ start: String?, _ end: String?) -> String {
      start == nil && end == nil ? "with no date window" : "from \(start ?? "the start") to \(end ?? "the end")"
    }
    let theirs = window(m.config.dates.startResolved, m.config.dates.endResolved)
    let ours = window(report.startDate?.date, report.endDate?.date)
    guard theirs != ours else { return nil }
    return "\(m.dataset)/\(latest) was built \(theirs); this build, \(ours), selects the same rows"
  }

  static func json(_ r: BuildResult, report: GateReport, notes: [String]) -> String {
    struct Out: Encodable {
      var outcome: String
      var dataset: String
      var version: String
      var path: String
      var rowCount: Int
      var files: [Manifest.FileEntry]
      var gates: [Manifest.GateRecord]
      /// The `note:` lines of the run, and for an unchanged build the window its version was
      /// built with when it differs from this one's.
      var notes: [String]
      enum CodingKeys: String, CodingKey {
        case outcome, dataset, version, path, files, gates, notes
        case rowCount = "row_count"
      }
    }
    let (outcome, version, path): (String, String, String) =
      switch r.outcome {
      case .published(let v, let p): ("published", v, p)
      case .unchanged(let v, let p): ("unchanged", v, p)
      }
    let value = Out(
      outcome: outcome, dataset: r.manifest.dataset, version: version, path: path, rowCount: r.manifest.rowCount,
      files: r.manifest.files, gates: r.manifest.gates, notes: notes + [windowNote(r, report: report)].compactMap { $0 }
    )
    return jsonText(value)
  }
}

/// Sorted keys, pretty-printed, final newline: every `--json` output of the snapshot commands.
func jsonText(_ value: some Encodable) -> String {
  guard let bytes = try? PrettyJSONEncoder.encode(value) else { return "{}\n" }
  return String(decoding: bytes, as: UTF8.self) + "\n"
}

/// "another build of X is running…", said once per build however often the lock is waited for
/// (the temporary folder and the publish each take it briefly).
final class WaitNotice: @unchecked Sendable {
  // `said` is guarded by `mutex`; the writer thread and the main thread may both wait.
  private let mutex = NSLock()
  private var said = false
  let dataset: String
  let timeout: String

  init(dataset: String, timeout: String) {
    self.dataset = dataset
    self.timeout = timeout
  }

  func say(_ pid: Int32?) {
    mutex.lock()
    defer { mutex.unlock() }
    // --lock-timeout 0 does not wait: the error that follows says it all.
    guard !said, timeout != "0" else { return }
    said = true
    let who = pid.map { " (pid \($0))" } ?? ""
    FileHandleOutput.standardError.write("another build of \(dataset) is running\(who); waiting up to \(timeout) s…\n")
  }
}
