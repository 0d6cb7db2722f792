import Columnar
import Report
import Snapshots
import Testing

/// A manifest carrying only what the report reads: schema, stats, rows, parent.
func manifest(version: String, parent: String?, rows: Int, columns: [(String, AnyColumn)]) -> Manifest {
  var stats: [String: ColumnStats] = [:]
  for (name, column) in columns { stats[name] = ColumnStats.compute([column]) }
  return Manifest(
    dataset: "props_v1", version: version, parentVersion: parent, createdAt: "2026-11-26T21:00:00Z",
    tool: .init(name: "dataset", version: "test"), featureSet: .init(name: "props_v1", version: "1", sha256: "00"),
    config: .init(
      seasons: ["2022-23"], dates: .init(), thresholds: [:], overrides: [], includeBootstrap: false, batchRows: 8192,
      pointInTimeSeed: 1),
    source: .init(file: "league.sqlite", sha256: "00", tables: [:]), gates: [], files: [],
    schema: columns.map { .init(name: $0.0, type: $0.1.type.rawValue, nullable: true, meaning: "") }, stats: stats,
    rowCount: rows, contentSHA256: "00", builtWithOverrides: false)
}

@Suite struct SnapshotSectionTests {
  /// 100 rows; usage NULL on every `nullEvery`-th row, values 10…19 shifted by `shift`.
  func columns(nullEvery: Int, shift: Double) -> [(String, AnyColumn)] {
    let usage = Column<Double>(optionals: (0..<100).map { $0 % nullEvery == 0 ? nil : Double($0 % 10) + 10 + shift })
    let player = StringColumn((0..<100).map { "p\($0 % 7)" })
    return [("player_lookup", .utf8(player)), ("usage_rate_avg_last_5", .float64(usage))]
  }

  @Test func flagsAreDiffsFlagsInWordsAndNullSharesComeFromTheManifests() throws {
    let v1 = manifest(version: "v1", parent: nil, rows: 100, columns: columns(nullEvery: 20, shift: 0))
    let v2 = manifest(version: "v2", parent: "v1", rows: 100, columns: columns(nullEvery: 4, shift: 5))
    let section = ReportBuilder.snapshot(v2, name: "props_v1/v2", parent: (v1, "props_v1/v1"))
    let diff = Differ().diff(v1, v2, nameA: "props_v1/v1", nameB: "props_v1/v2")
    let usage = try #require(section.columns.first { $0.name == "usage_rate_avg_last_5" })
    let drift = try #require(diff.columns.first { $0.name == "usage_rate_avg_last_5" })
    #expect(drift.flags == ["psi", "mean_shift", "null_share"])
    #expect(usage.nullShare == 0.25 && usage.parentNullShare == 0.05)
    #expect(
      usage.flags == [
        "PSI \(format2(try #require(drift.psi)))", "mean shift +\(format2(try #require(drift.meanShiftSD))) sd",
        "NULL share +20.0 pp",
      ])
    #expect(usage.histogram?.counts.reduce(0, +) == 75)
    #expect(usage.parentHistogram?.counts.reduce(0, +) == 95)
    let player = try #require(section.columns.first { $0.name == "player_lookup" })
    #expect(player.distinctCount == 7 && player.histogram == nil && player.flags.isEmpty)
    #expect(section.parentRowCount == 100 && section.schemaChanges.isEmpty)
  }

  @Test func aFirstVersionHasNoParentAndNoFlags() {
    let v1 = manifest(version: "v1", parent: nil, rows: 100, columns: columns(nullEvery: 20, shift: 0))
    let section = ReportBuilder.snapshot(v1, name: "props_v1/v1", parent: nil)
    #expect(section.parentName == nil && section.columns.allSatisfy { $0.flags.isEmpty && $0.parentNullShare == nil })
    let html = ReportRenderer.render(
      ReportInput(title: "t", facts: [], seasons: [], gates: [], snapshot: section))
    #expect(html.contains("100 rows, 2 columns; no parent version to compare with. Drift flags: none."))
  }

  @Test func schemaChangesAreNamed() {
    let v1 = manifest(version: "v1", parent: nil, rows: 100, columns: columns(nullEvery: 20, shift: 0))
    var cols = columns(nullEvery: 20, shift: 0)
    cols[0] = ("player_id", cols[0].1)
    let v2 = manifest(version: "v2", parent: "v1", rows: 100, columns: cols)
    let section = ReportBuilder.snapshot(v2, name: "props_v1/v2", parent: (v1, "props_v1/v1"))
    #expect(section.schemaChanges == ["added player_id", "removed player_lookup"])
  }
}

func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
/// Two decimals, half away from zero.
func format2(_ x: Double) -> String {
  let n = Int((x.magnitude * 100).rounded())
  return "\(n / 100).\(pad2(n % 100))"
}
