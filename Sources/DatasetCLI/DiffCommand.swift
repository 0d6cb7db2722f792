import ArgumentParser
import Foundation
import Gates
import Pipeline
import SQLiteSource
import Snapshots

/// `dataset diff A B`: drift between two snapshots.
struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Compare two snapshots: schema, rows, and per column null share, mean shift and PSI.",
    discussion: """
      Flags a column when PSI > --psi (0.2), |mean shift| > --mean-shift standard deviations of A \
      (of B when A is constant; 0.5) or the null share moves by more than --null-points percentage points (5). Drift is a \
      flagged column, a changed schema, feature set or column definition, or a season both hold \
      that lost rows. Exit 0 whether or not there is drift (a report), unless --fail-on-drift: \
      then exit 2 when there is.
      """)

  @Argument(help: ArgumentHelp("The baseline: dataset/version, dataset, or a version folder.", valueName: "a"))
  var a: String
  @Argument(help: ArgumentHelp("The snapshot compared with it.", valueName: "b"))
  var b: String

  @Option(help: ArgumentHelp("Root folder of the snapshots.", valueName: "dir"))
  var out: String = "Datasets"

  @Option(parsing: .unconditional, help: ArgumentHelp("PSI above which a column is flagged.", valueName: "x")) var psi:
    Double = 0.2
  @Option(
    name: .customLong("mean-shift"), parsing: .unconditional,
    help: ArgumentHelp(
      "|mean shift| in standard deviations of A (of B when A is constant) above which a column is flagged.",
      valueName: "x"))
  var meanShift: Double = 0.5
  @Option(
    name: .customLong("null-points"), parsing: .unconditional,
    help: ArgumentHelp("Null share change (percentage points) above which a column is flagged.", valueName: "x"))
  var nullPoints: Double = 5

  @Option(
    name: .customLong("season"),
    help: ArgumentHelp(
      "Compare only this season of each snapshot (2019-20, 2019 or current; repeat for several): its files are read and their statistics computed as a build of those seasons alone would.",
      valueName: "season"))
  var seasons: [String] = []

  @Option(
    name: .customLong("ignore"),
    help: ArgumentHelp(
      "Report this column but never flag it (repeat for several), such as game_date and season_year, which move with the calendar.",
      valueName: "column"))
  var ignore: [String] = []

  @Flag(name: .customLong("fail-on-drift"), help: "Exit 2 when there is drift, after printing the report (for CI).")
  var failOnDrift = false

  @Flag(name: .long, help: "Print the report as JSON.")
  var json = false

  func validate() throws {
    for raw in seasons {
      do { _ = try SeasonSelector.parse(raw) } catch { throw ValidationError(error.message) }
    }
    for (name, v) in [("--psi", psi), ("--mean-shift", meanShift), ("--null-points", nullPoints)]
    where !(v >= 0 && v.isFinite) {
      throw ValidationError("\(name) \(v) must be a finite number ≥ 0")
    }
  }

  func run() throws {
    let ra = try SnapshotReference.resolve(a, out: out)
    let rb = try SnapshotReference.resolve(b, out: out)
    let differ = Differ(
      thresholds: .init(psi: psi, meanShiftSD: meanShift, nullSharePoints: nullPoints), ignored: Set(ignore))
    var (ma, mb) = (try ra.manifest(), try rb.manifest())
    // A misspelt --ignore would leave the column flagged and CI red with no hint why.
    let known = Set(ma.schema.map(\.name)).union(mb.schema.map(\.name))
    for name in ignore where !known.contains(name) {
      throw CommandFailure(.usage, "error: --ignore \(name): no such column in \(ra.label) or \(rb.label)")
    }
    if !seasons.isEmpty {
      // Labels in the order given, each once (every one was parsed in validate()).
      var labels: [String] = []
      for raw in seasons {
        guard let selector = try? SeasonSelector.parse(raw) else { continue }
        let label = Season.label(selector.resolve(clock: .system))
        if !labels.contains(label) { labels.append(label) }
      }
      do {
        ma = try SeasonSubset.narrow(ma, folder: ra.folder, to: labels)
        mb = try SeasonSubset.narrow(mb, folder: rb.folder, to: labels)
      } catch {
        throw CommandFailure(.unusableInput, "error: \(error.description)")
      }
    }
    // Two roots can hold the same dataset/version name: then the folders tell them apart.
    let sameName = ra.label == rb.label && PathNames.canonical(ra.folder) != PathNames.canonical(rb.folder)
    let report = differ.diff(ma, mb, nameA: sameName ? ra.folder : ra.label, nameB: sameName ? rb.folder : rb.label)
    FileHandleOutput.standardOutput.write(json ? jsonText(report) : Self.render(report, seasonsOnly: !seasons.isEmpty))
    if failOnDrift, !report.noDrift {
      throw CommandFailure(.gateFailed, "diff: drift between \(report.a) and \(report.b) (--fail-on-drift)")
    }
  }

  static func fixed(_ v: Double?, _ digits: Int) -> String {
    guard let v else { return "-" }
    if v.isInfinite { return v > 0 ? "+inf" : "-inf" }
    let s = String(format: "%+.\(digits)f", v)
    // "-0.000" and "+0.000" both mean no change.
    return Double(s) == 0 ? String(format: "%.\(digits)f", 0.0) : s
  }

  /// `seasonsOnly`: the two sides were narrowed to the seasons `--season` gave.
  static func render(_ r: Differ.Report, seasonsOnly: Bool = false) -> String {
    var out = "diff \(r.a) → \(r.b)"
    if seasonsOnly { out += ", season\(r.seasonsA.count == 1 ? "" : "s") \(r.seasonsA.joined(separator: ", ")) only" }
    out += "\n"
    let delta = r.rowsB - r.rowsA
    out += "rows: \(r.rowsA) → \(r.rowsB) (\(delta >= 0 ? "+" : "")\(delta))\n"
    for f in r.seasonRowsFell {
      let change = Double(f.rowsB - f.rowsA) / Double(max(f.rowsA, 1)) * 100
      out +=
        "rows fell in season \(f.season): \(f.rowsA) → \(f.rowsB) (\(f.rowsB - f.rowsA), \(String(format: "%.1f", change)) %): "
        + (r.rowChoiceChanged
          ? "the two builds choose rows differently (settings below)\n" : "rows a season held are missing\n")
    }
    if r.featureSetChanged {
      func name(_ f: Manifest.FeatureSetRef) -> String {
        "\(f.name) version \(f.version) (sha256 \(f.sha256.prefix(12))…)"
      }
      out +=
        "feature set: \(name(r.featureSetA)) → \(name(r.featureSetB)): another definition file, so a shift below may "
        + "be the definition's, not the data's\n"
    }
    if !r.definitionChanges.isEmpty {
      out += "definitions: \(r.definitionChanges.joined(separator: "; "))\n"
    }
    if !r.configChanges.isEmpty {
      out += "settings: \(r.configChanges.joined(separator: "; "))\n"
    }
    if r.seasonsA != r.seasonsB {
      out += "seasons: \(seasonList(r.seasonsA)) → \(seasonList(r.seasonsB))\n"
    }
    let common = Set(r.seasonsA).intersection(r.seasonsB).count
    if common > 0 {
      let n = r.changedSeasons.count
      if n == 0 {
        out +=
          common == 1
          ? "files: the season both hold is byte-identical\n"
          : "files: the \(common) seasons both hold are byte-identical\n"
      } else {
        let shown =
          n > 8 ? r.changedSeasons.prefix(8).joined(separator: ", ") + ", …" : r.changedSeasons.joined(separator: ", ")
        if common == 1 {
          out += "files: the season both hold differs (\(shown))\n"
        } else {
          out += "files: \(n) of the \(common) seasons both hold \(n == 1 ? "differs" : "differ") (\(shown))"
          out += seasonsOnly ? "\n" : "; compare \(n == 1 ? "it" : "them") alone with --season\n"
        }
      }
    }
    out += "schema: "
    if r.addedColumns.isEmpty && r.removedColumns.isEmpty && r.typeChanges.isEmpty {
      out += "unchanged\n"
    } else {
      var parts: [String] = []
      if !r.addedColumns.isEmpty { parts.append("added \(r.addedColumns.joined(separator: ", "))") }
      if !r.removedColumns.isEmpty { parts.append("removed \(r.removedColumns.joined(separator: ", "))") }
      for t in r.typeChanges { parts.append("\(t.name) \(t.typeA) → \(t.typeB)") }
      out += parts.joined(separator: "; ") + "\n"
    }
    out += "\n"
    out += renderTable(
      header: ["column", "null % a", "null % b", "Δ null pts", "mean shift (sd)", "PSI", "flags"],
      rows: r.columns.map { c in
        [
          c.name, String(format: "%.2f", c.nullShareA * 100), String(format: "%.2f", c.nullShareB * 100),
          fixed(c.nullShareChangePoints, 2), fixed(c.meanShiftSD, 3), c.psi.map { String(format: "%.4f", $0) } ?? "-",
          c.flags.joined(separator: ","),
        ]
      }, rightAligned: [1, 2, 3, 4, 5])
    let t = r.thresholds
    let flagged = r.flaggedColumns.count
    out += "\n"
    if !r.ignoredColumns.isEmpty {
      out += "not flagged (--ignore): \(r.ignoredColumns.joined(separator: ", "))\n"
    }
    if r.noDrift {
      out +=
        "no drift: no column past PSI \(t.psi), |mean shift| \(t.meanShiftSD) sd or null share \(t.nullSharePoints) points\n"
    } else {
      out +=
        "drift: \(flagged) of \(r.columns.count) columns flagged (PSI > \(t.psi), |mean shift| > \(t.meanShiftSD) sd, null share > \(t.nullSharePoints) points)"
      var also: [String] = []
      if r.schemaChanged { also.append("schema changed") }
      if !r.seasonRowsFell.isEmpty {
        also.append(
          "rows fell in \(r.seasonRowsFell.count == 1 ? "a season" : "\(r.seasonRowsFell.count) seasons") both hold")
      }
      if r.featureSetChanged { also.append("feature set changed") }
      if !r.definitionChanges.isEmpty {
        also.append(
          "\(r.definitionChanges.count) column definition\(r.definitionChanges.count == 1 ? "" : "s") changed")
      }
      out += also.map { "; \($0)" }.joined() + "\n"
    }
    return out
  }
}
