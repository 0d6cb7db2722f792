import Columnar
import Gates
import SQLiteSource
import Snapshots

/// Fills the report's input model from the same computations the gates use.
public enum ReportBuilder {
  /// Thresholds the calendar and bars draw their lines at, as shares.
  public struct Lines: Sendable, Equatable {
    public var dateCoverage: Double
    public var playerCoverage: Double
    /// The month rule's line (usage_rate_coverage `month_warn_below_percent`), drawn on the
    /// month table and the calendar.
    public var usageRate: Double
    /// The season rule's (`season_fail_below_percent`): what turns a month warning into a fail.
    public var usageRateSeason: Double
    public var sourceField: Double

    public init(
      dateCoverage: Double, playerCoverage: Double, usageRate: Double, usageRateSeason: Double? = nil,
      sourceField: Double
    ) {
      self.dateCoverage = dateCoverage
      self.playerCoverage = playerCoverage
      self.usageRate = usageRate
      self.usageRateSeason = usageRateSeason ?? usageRate
      self.sourceField = sourceField
    }
  }

  /// One section per breakdown, in the given order.
  public static func seasons(_ breakdowns: [CoverageBreakdown], lines: Lines) -> [SeasonSection] {
    breakdowns.map { b in
      let days = b.days.map { day in
        DayCell(
          date: day.date, status: status(day.kind), pcfPlayers: day.pcfPlayers, activePlayers: day.activePlayers,
          activeWithPCF: day.activeWithPCF, seasonDay: day.seasonDay)
      }
      let months = b.months.map { month in
        let weakest = month.weakestSourceField
        return MonthRow(
          month: month.label, activeRows: month.activeRows, usageRateRows: month.usageRateRows,
          weakestSourceField: weakest?.name, weakestSourceFieldRows: weakest?.rows ?? 0,
          weakestSourceFieldOf: weakest?.of ?? 0)
      }
      return SeasonSection(
        label: Season.label(b.season),
        dateSource: b.calendar.dateSource == .schedule
          ? "schedule table" : "distinct PGS game dates (no schedule table)",
        openingNight: b.calendar.openingNight, days: days, months: months, dateCoverageThreshold: lines.dateCoverage,
        playerCoverageThreshold: lines.playerCoverage, usageRateThreshold: lines.usageRate,
        usageRateSeasonThreshold: lines.usageRateSeason, sourceFieldThreshold: lines.sourceField)
    }
  }

  /// The gate table rows, in the report's order, with the report's own words.
  public static func gateRows(_ report: GateReport) -> [GateRow] {
    report.gates.map { g in
      let status: GateRow.Status =
        switch g.status {
        case .pass: .pass
        case .warn: .warn
        case .fail: .fail
        }
      return GateRow(
        name: g.name, status: status, figure: g.figure, threshold: g.threshold, evidence: g.evidence,
        // Only a gate the override let through says "overridden": validate records the reason
        // of an override that was not needed, beside `overridden: false` (a review found the page
        // printing "overridden: …" under a gate that passed).
        evidenceTotal: g.evidenceTotal, override: g.overridden ? g.overrideReason : nil)
    }
  }

  /// A snapshot's columns from its manifest, compared with its parent's manifest by the same
  /// `Differ` that `dataset diff` runs (default thresholds), so the flags are diff's flags.
  public static func snapshot(
    _ manifest: Manifest, name: String, parent: (manifest: Manifest, name: String)?, parentNote: String? = nil,
    differ: Differ = Differ()
  ) -> SnapshotSection {
    let drift = parent.map { differ.diff($0.manifest, manifest, nameA: $0.name, nameB: name) }
    let driftByName = Dictionary((drift?.columns ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var changes: [String] = []
    if let drift {
      if !drift.addedColumns.isEmpty { changes.append("added \(drift.addedColumns.joined(separator: ", "))") }
      if !drift.removedColumns.isEmpty { changes.append("removed \(drift.removedColumns.joined(separator: ", "))") }
      for t in drift.typeChanges { changes.append("\(t.name) \(t.typeA) → \(t.typeB)") }
    }
    let columns = manifest.schema.map { column -> ColumnRow in
      let stats = manifest.stats[column.name]
      let parentStats = parent?.manifest.stats[column.name]
      let d = driftByName[column.name]
      return ColumnRow(
        name: column.name, type: column.type,
        nullShare: manifest.rowCount > 0 ? Double(stats?.nullCount ?? 0) / Double(manifest.rowCount) : 0,
        parentNullShare: d?.nullShareA, mean: stats?.mean, std: stats?.std, min: stats?.min, max: stats?.max,
        distinctCount: stats?.distinctCount, histogram: stats?.histogram.map(bins),
        parentHistogram: d == nil ? nil : parentStats?.histogram.map(bins),
        flags: d.map(flagWords) ?? [])
    }
    return SnapshotSection(
      name: name, parentName: parent?.name, parentNote: parentNote, rowCount: manifest.rowCount,
      parentRowCount: parent?.manifest.rowCount, schemaChanges: changes, columns: columns)
  }

  /// A manifest histogram (bins of width 2^k on multiples of it) as plain edges.
  static func bins(_ h: ColumnStats.Histogram) -> HistogramBins {
    let width = Double(sign: .plus, exponent: h.widthLog2, significand: 1)
    return HistogramBins(lower: Double(h.firstBin) * width, binWidth: width, counts: h.counts)
  }

  /// diff's flag names in words with the figure that crossed the threshold.
  static func flagWords(_ d: Differ.ColumnDrift) -> [String] {
    d.flags.map { flag in
      switch flag {
      case "psi": "PSI \(d.psi.map { Format.decimal($0, places: 2) } ?? "?")"
      case "mean_shift":
        "mean shift \(d.meanShiftSD.map { ($0 >= 0 ? "+" : "") + Format.decimal($0, places: 2) } ?? "?") sd"
      case "null_share":
        "NULL share \(d.nullShareChangePoints >= 0 ? "+" : "")\(Format.decimal(d.nullShareChangePoints, places: 1)) pp"
      default: flag
      }
    }
  }

  static func status(_ kind: CoverageBreakdown.DayKind) -> DayStatus {
    switch kind {
    case .covered: .covered
    case .missing: .missing
    case .bootstrap: .bootstrap
    case .noGames: .noGames
    case .outsideWindow: .outsideWindow
    }
  }
}
