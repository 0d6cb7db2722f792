import ArgumentParser
import Gates
import Pipeline
import Report
import SQLiteSource

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write one self-contained HTML page: PCF coverage by day, coverage by month, the gates, snapshot drift.",
    discussion: """
      The page has no scripts and loads nothing from anywhere: open it offline, mail it, print it on A4. \
      Exit 2 when a gate failed, as validate (gates.md: the same exit codes for every command); the page \
      is written first.
      Example: dataset report --db league.sqlite --season 2022-23 --out report.html
      """)

  @OptionGroup var source: SourceOptions

  @Option(name: .long, help: ArgumentHelp("Where to write the HTML page.", valueName: "file"))
  var out: String

  @Option(
    name: .long,
    help: ArgumentHelp(
      "A snapshot to show (version folder, its manifest.json, dataset/version or dataset); compared with its parent version when that exists.",
      valueName: "snapshot"))
  var snapshot: String?

  @Option(name: .long, help: ArgumentHelp("Root folder of the snapshots, for dataset/version.", valueName: "dir"))
  var snapshots: String = "Datasets"

  func run() throws {
    // The same read and refusals as `validate`: a page must not say "OK to build" over a
    // window that validate and build refuse as empty.
    var resolved = try source.resolve()
    try refuseFolder(out)
    let reader = SourceReader(path: resolved.database)
    let data = try resolved.readSeasons(from: reader) { seasons throws(SourceError) in try reader.read(seasons: seasons)
    }
    resolved.noteSeasonsWithoutRows(try resolved.requireRowsInWindow(data))
    let gates = GateRunner.run(
      source: data, config: resolved.thresholds, window: resolved.window, startDate: resolved.startDate,
      endDate: resolved.endDate, overrides: resolved.overrides)
    var input = Self.input(data: data, resolved: resolved, gates: gates)
    if let snapshot {
      input.snapshot = try Self.snapshotSection(snapshot, root: snapshots)
      input.facts.append(("Snapshot", input.snapshot?.name ?? snapshot))
    }
    let html = ReportRenderer.render(input)
    try writeFile(out, html)
    FileHandleOutput.standardOutput.write("wrote \(out) (\(html.utf8.count) bytes)\n")
    // gates.md: "Exit codes, the same for every command: … 2 a gate failed". Until session 18
    // the page's command exited 0 over a failed gate (a spec audit), so a nightly job that
    // publishes the page never told its scheduler what validate would have.
    if !gates.passed {
      let failed = gates.gates.filter(\.blocks).map(\.name)
      throw CommandFailure(
        .gateFailed,
        "report: wrote \(out); \(failed.count == 1 ? "gate" : "gates") \(failed.joined(separator: ", ")) failed (exit 2, as validate), and the page shows why"
      )
    }
  }

  /// The page's content: coverage from `CoverageBreakdown` over the same window and
  /// thresholds the gates used, and the gate report itself.
  static func input(data: SourceData, resolved: ResolvedSource, gates: GateReport) -> ReportInput {
    let t = resolved.thresholds
    let lines = ReportBuilder.Lines(
      dateCoverage: t.pcfDateCoverageFailBelowPercent / 100,
      playerCoverage: t.pcfPlayerCoverageWarnDateBelowPercent / 100,
      usageRate: t.usageRateMonthWarnBelowPercent / 100, usageRateSeason: t.usageRateSeasonFailBelowPercent / 100,
      sourceField: t.sourceFieldFailBelowPercent / 100)
    let breakdowns = CoverageBreakdown.compute(source: data, start: resolved.window.start, end: resolved.window.end)
    var facts: [(label: String, value: String)] = [
      ("Database", resolved.database), ("Seasons", resolved.seasons.map(\.label).joined(separator: ", ")),
      ("Rows read", "\(Format.count(data.pgs.count)) PGS, \(Format.count(data.pcf.count)) PCF"),
    ]
    if resolved.startDate != nil || resolved.endDate != nil {
      func show(_ d: ResolvedDate?) -> String {
        guard let d else { return "open" }
        return d.keyword.map { "\(d.date) (\($0), \(d.timeZone))" } ?? d.date
      }
      facts.append(("Dates", "\(show(resolved.startDate)) to \(show(resolved.endDate))"))
    }
    facts.append(("Verdict", gates.verdict))
    return ReportInput(
      title: baseName(resolved.database), facts: facts, seasons: ReportBuilder.seasons(breakdowns, lines: lines),
      gates: ReportBuilder.gateRows(gates), snapshot: nil)
  }
}

extension ReportCommand {
  /// The snapshot and, when its manifest names a parent version that exists beside it, the
  /// drift against that parent. A missing parent is said on the page, not an error.
  static func snapshotSection(_ text: String, root: String) throws(CommandFailure) -> SnapshotSection {
    let reference = try SnapshotReference.resolve(text, out: root)
    let manifest = try reference.manifest()
    guard let parentVersion = manifest.parentVersion else {
      return ReportBuilder.snapshot(manifest, name: reference.label, parent: nil)
    }
    let datasetFolder = reference.folder.split(separator: "/", omittingEmptySubsequences: false).dropLast()
      .joined(separator: "/")
    let parentFolder = (datasetFolder.isEmpty ? "." : datasetFolder) + "/" + parentVersion
    let parentName = "\(manifest.dataset)/\(parentVersion)"
    guard let parent = try? SnapshotReference(folder: parentFolder, label: parentName).manifest() else {
      return ReportBuilder.snapshot(
        manifest, name: reference.label, parent: nil,
        parentNote:
          "its parent \(parentName) was not found at \(parentFolder)/manifest.json, so there is no drift to show")
    }
    return ReportBuilder.snapshot(manifest, name: reference.label, parent: (parent, parentName))
  }
}

func baseName(_ path: String) -> String {
  path.split(separator: "/").last.map(String.init) ?? path
}

/// A folder given where the page goes, refused before the report is computed.
func refuseFolder(_ path: String) throws {
  var st = stat()
  if stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
    throw CommandFailure(
      .unusableInput, "error: --out \(path) is a folder: give the path of the page to write (e.g. \(path)/report.html)")
  }
}

func writeFile(_ path: String, _ text: String) throws {
  try refuseFolder(path)
  let temporary = path + ".tmp-\(getpid())"
  guard let file = fopen(temporary, "wb") else {
    throw CommandFailure(
      .unusableInput, "error: cannot write \(path): \(String(cString: strerror(errno))) (creating \(temporary))")
  }
  let bytes = Array(text.utf8)
  let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
  let closed = fclose(file)
  guard written == bytes.count, closed == 0 else {
    unlink(temporary)
    throw CommandFailure(.unusableInput, "error: writing \(temporary) failed after \(written) of \(bytes.count) bytes")
  }
  guard rename(temporary, path) == 0 else {
    let reason = String(cString: strerror(errno))
    unlink(temporary)
    throw CommandFailure(.unusableInput, "error: cannot rename \(temporary) to \(path): \(reason)")
  }
}
