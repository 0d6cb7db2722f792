import Columnar
import Gates
import SQLiteSource

/// Fills the report's input model from the same computations the gates use.
public enum ReportBuilder {
  /// Thresholds the calendar and bars draw their lines at, as shares.
  public struct Lines: Sendable, Equatable {
    public var dateCoverage: Double
    public var playerCoverage: Double
    public var usageRate: Double
    public var sourceField: Double

    public init(dateCoverage: Double, playerCoverage: Double, usageRate: Double, sourceField: Double) {
      self.dateCoverage = dateCoverage
      self.playerCoverage = playerCoverage
      self.usageRate = usageRate
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
        dateSource: b.calendar.dateSource == .schedule ? "schedule table" : "distinct PGS game dates (no schedule table)",
        openingNight: b.calendar.openingNight, days: days, months: months, dateCoverageThreshold: lines.dateCoverage,
        playerCoverageThreshold: lines.playerCoverage, usageRateThreshold: lines.usageRate,
        sourceFieldThreshold: lines.sourceField)
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
        evidenceTotal: g.evidenceTotal, override: g.overrideReason)
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
