import ArgumentParser
import Clocks
import Columnar
import Gates
import Pipeline
import SQLiteSource

/// `dataset validate`: runs the gates of gates.md alone and reports them.
struct ValidateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "validate",
    abstract: "Run every gate on the source tables and report; exit 2 when a gate fails.",
    discussion: """
      Prints a table (status, gate, figure, threshold, first evidence) and a verdict line, or with \
      --json the full report (Schemas/gate-report.schema.json). Exit codes: 0 passed (warnings are \
      printed), 1 usage error, 2 a gate failed, 3 the database could not be used.
      """)

  @OptionGroup var source: SourceOptions

  @Flag(name: .long, help: "Print the full report as JSON (Schemas/gate-report.schema.json).")
  var json = false

  @Flag(name: .long, help: "Print read and gate times to standard error.")
  var timings = false

  func run() throws {
    var resolved = try source.resolve()
    let t0 = Clocks.monotonicMicros()
    let reader = SourceReader(path: resolved.database)
    let data = try resolved.readSeasons(from: reader) { seasons throws(SourceError) in try reader.read(seasons: seasons)
    }
    resolved.noteSeasonsWithoutRows(try resolved.requireRowsInWindow(data))
    let t1 = Clocks.monotonicMicros()
    var report = GateRunner.run(
      source: data, config: resolved.thresholds, window: resolved.window, startDate: resolved.startDate,
      endDate: resolved.endDate, overrides: resolved.overrides)
    let t2 = Clocks.monotonicMicros()
    noteSeasonsBuildWouldNotBuild(data: data, resolved: &resolved)
    report.notes = resolved.notes
    if json {
      FileHandleOutput.standardOutput.write(report.json())
    } else {
      let table = GateTable.render(report, colour: FileHandleOutput.standardOutput.isTerminal)
      FileHandleOutput.standardOutput.write(table.hasSuffix("\n") ? table : table + "\n")
    }
    if timings {
      FileHandleOutput.standardError.write(
        "read \(data.pgs.count) PGS + \(data.pcf.count) PCF rows in \(Double(t1 - t0) / 1000) ms; gates in \(Double(t2 - t1) / 1000) ms\n"
      )
    }
    if !report.passed {
      throw CommandFailure(.gateFailed, "validate: \(report.verdict)")
    }
  }

  /// The gates pass over a window whose rows are all bootstrap days (a review: "OK to build",
  /// then `build` exited 3 on the first 14 days of every season). Said as `build` would say it;
  /// the gates' verdict and the exit code stay the gates'.
  func noteSeasonsBuildWouldNotBuild(data: SourceData, resolved: inout ResolvedSource) {
    let (seasons, anyBuilt) = BuildPipeline.seasonsWithoutFeatureRows(data: data, resolved: resolved)
    guard !seasons.isEmpty else { return }
    // As `build` decides: a season given with --season must have rows; of the seasons the
    // dates span, those without are left out unless none has any.
    let leftOut = resolved.seasons.contains(where: \.isFromDates) && anyBuilt
    for season in seasons {
      let (_, why) = BuildPipeline.whyNoFeatureRows(
        seasons: [season], data: data, resolved: resolved, includeBootstrap: false)
      let outcome = leftOut ? "`dataset build` leaves it out" : "`dataset build` refuses it (exit 3)"
      resolved.note(
        "season \(Season.label(season))\(resolved.windowText) has no row to compute features for: \(why); \(outcome)")
    }
  }
}

/// The table a person reads at a glance (gates.md): one row per gate, then the verdict.
public enum GateTable {
  /// Up to `foldAbove` seasons, every season's figure one to a line. Past that (a 75-season
  /// backfill printed 755 lines, and a failed gate's first line showed a season that passed):
  /// the seasons that failed, then those that warned, seasons with the same figure on one
  /// line, at most `foldAbove` lines of each, and one line for the seasons that passed.
  static let foldAbove = 8

  static func figureLines(_ g: GateResult, seasons: [String]) -> [String] {
    // A gate whose verdict no season carries (none today) is shown whole rather than as passing.
    guard g.seasons.count > foldAbove, g.status == .pass || g.seasons.contains(where: { $0.status == g.status }) else {
      return GateResult.figureLines(g.figure, seasons: seasons)
    }
    var lines: [String] = []
    for status in [GateStatus.fail, .warn] {
      var groups: [(figure: String, seasons: [String])] = []
      for v in g.seasons where v.status == status {
        if let k = groups.firstIndex(where: { $0.figure == v.figure }) {
          groups[k].seasons.append(v.season)
        } else {
          groups.append((v.figure, [v.season]))
        }
      }
      for group in groups.prefix(foldAbove) {
        let named =
          group.seasons.count <= 3
          ? group.seasons.joined(separator: ", ")
          : "\(group.seasons.count) seasons (\(group.seasons.prefix(3).joined(separator: ", ")), …)"
        lines.append("\(named): \(group.figure)")
      }
      let rest = groups.dropFirst(foldAbove).reduce(0) { $0 + $1.seasons.count }
      if rest > 0 {
        lines.append(
          "… \(rest) more season\(rest == 1 ? "" : "s") \(status == .fail ? "failing" : "warning"): --json lists each")
      }
    }
    let passing = g.seasons.filter { $0.status == .pass }.count
    if lines.isEmpty {
      lines.append("all \(passing) seasons pass (each season's figure: --json)")
    } else if passing > 0 {
      lines.append(passing == 1 ? "1 other season passes" : "\(passing) other seasons pass")
    }
    return lines
  }

  public static func render(_ report: GateReport, colour: Bool) -> String {
    var out = "database \(report.database)\n"
    for s in report.seasons {
      let source = s.dateSource == "schedule" ? "schedule table" : "PGS game dates"
      var line = "season \(s.season): \(s.gameDates) game dates (\(source))"
      if let opening = s.openingNight, let boot = s.bootstrapEnds {
        line += ", opening night \(opening), bootstrap through \(boot)"
      }
      line += "; \(s.expectedDates) expected PCF dates"
      out += line + "\n"
    }
    if report.startDate != nil || report.endDate != nil {
      func show(_ d: ResolvedDate?) -> String {
        guard let d else { return "open" }
        return d.keyword.map { "\(d.date) (\($0), \(d.timeZone))" } ?? d.date
      }
      out +=
        "window \(show(report.startDate)) to \(show(report.endDate)); player_game_summary is measured up to its end,"
        + " with the season's rows before it, which its features read\n"
    }
    out += "\n"
    let header = ["status", "gate", "figure", "threshold", "evidence"]
    let seasons = report.seasons.map(\.season)
    // Several seasons' figures go one to a line under the gate, so the table stays readable
    // at eight seasons; status, threshold and evidence stay on the gate's first line.
    let rows: [[[String]]] = report.gates.map { g in
      let status = g.status.rawValue.uppercased() + (g.overridden ? " (overridden)" : "")
      let figures = Self.figureLines(g, seasons: seasons)
      return [[status, g.name, figures[0], g.threshold, g.summary]] + figures.dropFirst().map { ["", "", $0, "", ""] }
    }
    var widths = header.map(\.count)
    for r in rows.joined() { for (k, cell) in r.enumerated() where k < 4 { widths[k] = max(widths[k], cell.count) } }
    func line(_ cells: [String], statusColour: String?) -> String {
      var parts: [String] = []
      for (k, cell) in cells.enumerated() {
        let padded = k < 4 ? cell + String(repeating: " ", count: widths[k] - cell.count) : cell
        if k == 0, let c = statusColour { parts.append("\u{1B}[\(c)m\(padded)\u{1B}[0m") } else { parts.append(padded) }
      }
      var text = parts.joined(separator: "  ")
      while text.hasSuffix(" ") { text.removeLast() }
      return text + "\n"
    }
    out += line(header, statusColour: nil)
    for (g, r) in zip(report.gates, rows) {
      let c: String? =
        colour ? (g.status == .pass ? "32" : g.status == .warn ? "33" : g.overridden ? "35" : "31") : nil
      out += line(r[0], statusColour: c)
      for more in r.dropFirst() { out += line(more, statusColour: nil) }
    }
    out += "\n" + report.verdict + "\n"
    return out
  }
}
