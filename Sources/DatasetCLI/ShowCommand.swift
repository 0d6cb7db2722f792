import ArgumentParser
import Columnar
import Foundation
import Gates
import Snapshots

/// `dataset show`: one manifest in readable form (or as stored, with --json).
struct ShowCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "Show a snapshot's manifest: source, config, gates, files, schema and statistics.")

  @Argument(help: ArgumentHelp("dataset, dataset/version, or a version folder.", valueName: "snapshot"))
  var snapshot: String

  @Option(help: ArgumentHelp("Root folder of the snapshots.", valueName: "dir"))
  var out: String = "Datasets"

  @Flag(name: .long, help: "Print the manifest exactly as stored.")
  var json = false

  /// Every season's figure up to eight seasons (as `validate` prints them). Past that, a
  /// manifest has no per-season verdicts, but a gate's evidence lines, worst first, start with
  /// the season they are about: the first eight seasons named there, then one line for the rest
  /// (837 lines for a 75-season snapshot before).
  static func figureLines(_ g: Manifest.GateRecord, seasons: [String]) -> [String] {
    let all = GateResult.figureLines(g.figure, seasons: seasons)
    guard seasons.count > GateTable.foldAbove, all.count == seasons.count else { return all }
    // In evidence order (worst first), each season once, at most eight.
    var named: [String] = []
    for line in g.evidence {
      if let season = seasons.first(where: { line.hasPrefix($0 + " ") || line.hasPrefix($0 + ":") }),
        !named.contains(season)
      {
        named.append(season)
      }
    }
    let shown = named.prefix(GateTable.foldAbove).compactMap { season in all.first { $0.hasPrefix(season + ": ") } }
    let rest = seasons.count - shown.count
    return shown + [
      shown.isEmpty
        ? "\(rest) seasons: `show --json` has each figure" : "\(rest) other seasons: `show --json` has each figure"
    ]
  }

  func run() throws {
    let ref = try SnapshotReference.resolve(snapshot, out: out)
    let m = try ref.manifest()
    if json {
      FileHandleOutput.standardOutput.write(String(decoding: (try? m.encoded()) ?? [], as: UTF8.self))
      return
    }
    FileHandleOutput.standardOutput.write(Self.render(m, folder: ref.folder))
  }

  static func number(_ v: Double?) -> String {
    guard let v else { return "-" }
    if v == v.rounded(), abs(v) < 1e12 { return String(Int64(v)) }
    return abs(v) >= 1000 ? String(format: "%.1f", v) : String(format: "%.4g", v)
  }

  static func render(_ m: Manifest, folder: String) -> String {
    var out = "\(m.dataset)/\(m.version)  (\(folder))\n"
    out += "created     \(m.createdAt) by \(m.tool.name) \(m.tool.version)\n"
    out += "parent      \(m.parentVersion ?? "none")\n"
    out +=
      "feature set \(m.featureSet.name) v\(m.featureSet.version) (spec sha256 \(m.featureSet.sha256.prefix(12))…)\n"
    out +=
      "rows        \(m.rowCount) in \(m.files.count) file\(m.files.count == 1 ? "" : "s"); content sha256 \(m.contentSHA256.prefix(12))…\n"
    out +=
      "overrides   \(m.builtWithOverrides ? m.config.overrides.map { "\($0.gate) (\($0.reason))" }.joined(separator: "; ") : "none")\n"
    let d = m.config.dates
    out +=
      "config      seasons \(m.config.seasons.joined(separator: ", ")); bootstrap \(m.config.includeBootstrap ? "included" : "excluded"); batch \(m.config.batchRows) rows; point-in-time seed \(m.config.pointInTimeSeed)\n"
    if d.startGiven != nil || d.endGiven != nil {
      func show(_ given: String?, _ resolved: String?) -> String {
        guard let given else { return "open" }
        return given == resolved ? given : "\(given) = \(resolved ?? "?")"
      }
      out +=
        "dates       \(show(d.startGiven, d.startResolved)) to \(show(d.endGiven, d.endResolved)) (\(d.timeZone))\n"
    }
    out += "source      \(m.source.file) (sha256 \(m.source.sha256.prefix(12))…)\n"
    for (name, t) in m.source.tables.sorted(by: { $0.key < $1.key }) {
      out +=
        "  \(name): \(t.rowCount) rows, content \(t.contentSHA256.prefix(12))…, newest processed_at \(t.newestProcessedAt ?? "none")\n"
    }
    out += "\ngates\n"
    out += renderTable(
      header: ["status", "gate", "figure", "threshold"],
      rows: m.gates.flatMap { g in
        let figures = Self.figureLines(g, seasons: m.config.seasons)
        return [[g.status.uppercased() + (g.override != nil ? " (overridden)" : ""), g.name, figures[0], g.threshold]]
          + figures.dropFirst().map { ["", "", $0, ""] }
      }
    ).split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  \($0)" }.joined(
      separator: "\n")
    // Reasons after the table: in the status column one long reason widened all its rows.
    for g in m.gates { if let reason = g.override { out += "  overridden: \(g.name): \(reason)\n" } }
    out += "\nfiles\n"
    out += renderTable(
      header: ["path", "season", "rows", "bytes", "sha256"],
      rows: m.files.map {
        [$0.path, $0.season, String($0.rows), String($0.bytes), String($0.sha256.prefix(12)) + "…"]
      },
      rightAligned: [2, 3]
    ).split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  \($0)" }.joined(
      separator: "\n")
    out += "\ncolumns\n"
    out += renderTable(
      header: ["name", "type", "null", "nulls", "min", "max", "mean", "std", "meaning"],
      rows: m.schema.map { c in
        let s = m.stats[c.name]
        return [
          // Statistics hold date32 as days since 1970-01-01: shown as dates (the mean as the
          // day it falls in, as the report shows it) and the spread in days.
          c.name, c.type, c.nullable ? "yes" : "no", s.map { String($0.nullCount) } ?? "-",
          c.type == "date32" ? day(s?.min) : number(s?.min), c.type == "date32" ? day(s?.max) : number(s?.max),
          c.type == "date32" ? day(s?.mean.map { $0.rounded(.down) }) : number(s?.mean),
          c.type == "date32" ? s?.std.map { "\(number($0)) days" } ?? "-" : number(s?.std), c.meaning,
        ]
      }, rightAligned: [3, 4, 5, 6, 7]
    ).split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  \($0)" }.joined(
      separator: "\n")
    return out
  }

  /// A whole number of days since 1970-01-01 as its date; anything else as a number.
  static func day(_ value: Double?) -> String {
    guard let v = value, v == v.rounded(), abs(v) < 1e7 else { return number(value) }
    return CivilDate(Date32(daysSinceEpoch: Int32(v))).description
  }
}
