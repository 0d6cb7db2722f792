import Columnar
import SQLiteSource

/// Per-day and per-month coverage figures of one season, the numbers behind the gates
/// `pcf_date_coverage`, `pcf_player_coverage`, `usage_rate_coverage` and
/// `source_field_coverage` (spec/gates.md). Computed once here so that the gate table and the
/// HTML report (`dataset report`) show the same figures for the same database.
public struct CoverageBreakdown: Sendable, Equatable {
  /// What a calendar day is for PCF coverage.
  public enum DayKind: String, Sendable, Codable {
    /// A game date past the bootstrap days with at least one PCF row.
    case covered
    /// A game date past the bootstrap days with no PCF row.
    case missing
    /// Days 0…13 from opening night: upstream writes no PCF then (source-tables.md).
    case bootstrap
    /// No game on this day.
    case noGames = "no-games"
    /// A game date outside the run's --start-date/--end-date: not measured.
    case outsideWindow = "outside-window"
  }

  public struct Day: Sendable, Equatable {
    public var date: Date32
    public var kind: DayKind
    /// Distinct players with a PCF row dated this day.
    public var pcfPlayers: Int
    /// Distinct players with an ACTIVE PGS row dated this day (the `pcf_player_coverage`
    /// denominator).
    public var activePlayers: Int
    /// Of those, players with a PCF row dated this day (the `pcf_player_coverage` numerator).
    public var activeWithPCF: Int
    /// Day number counted from opening night (0 = opening night); nil before it.
    public var seasonDay: Int?

    public init(date: Date32, kind: DayKind, pcfPlayers: Int, activePlayers: Int, activeWithPCF: Int, seasonDay: Int?) {
      self.date = date
      self.kind = kind
      self.pcfPlayers = pcfPlayers
      self.activePlayers = activePlayers
      self.activeWithPCF = activeWithPCF
      self.seasonDay = seasonDay
    }

    /// `activeWithPCF / activePlayers`, nil when nobody played.
    public var playerShare: Double? {
      activePlayers > 0 ? Double(activeWithPCF) / Double(activePlayers) : nil
    }
  }

  /// The five box-score fields whose gaps `source_field_coverage` tells apart from a derived
  /// (usage_rate) gap, in the spec's order.
  public static let sourceFields = ["minutes_played", "points", "fg_attempts", "ft_attempts", "turnovers"]

  public struct Month: Sendable, Equatable {
    public var year: Int
    public var month: Int
    /// ACTIVE PGS rows dated in this month: the denominator of every share below.
    public var activeRows: Int
    /// Of those, rows with a non-NULL usage_rate.
    public var usageRateRows: Int
    /// Rows the export marks as played (`is_dnp = 0`), active or not. An active row has
    /// minutes by definition, so a lost minutes_played shows only here.
    public var playedRows: Int
    /// Non-NULL counts of `CoverageBreakdown.sourceFields`, same order; minutes_played counted
    /// over `playedRows`, the others over `activeRows`.
    public var sourceFieldRows: [Int]

    public init(year: Int, month: Int, activeRows: Int, playedRows: Int, usageRateRows: Int, sourceFieldRows: [Int]) {
      precondition(sourceFieldRows.count == CoverageBreakdown.sourceFields.count, "one count per source field")
      self.year = year
      self.month = month
      self.activeRows = activeRows
      self.playedRows = playedRows
      self.usageRateRows = usageRateRows
      self.sourceFieldRows = sourceFieldRows
    }

    /// The denominator of source field `k`.
    public func sourceFieldWhole(_ k: Int) -> Int { k == 0 ? playedRows : activeRows }

    /// "2023-01".
    public var label: String {
      "\(year)-\(month < 10 ? "0" : "")\(month)"
    }
    public var usageRateShare: Double? { activeRows > 0 ? Double(usageRateRows) / Double(activeRows) : nil }
    /// The source field with the lowest non-NULL share: (name, non-NULL rows, of rows).
    /// Fields with no rows to measure are skipped; nil when none has any.
    public var weakestSourceField: (name: String, rows: Int, of: Int)? {
      var best: (name: String, rows: Int, of: Int)?
      for (k, rows) in sourceFieldRows.enumerated() {
        let whole = sourceFieldWhole(k)
        guard whole > 0 else { continue }
        // Compare rows/whole < best.rows/best.of without rounding.
        if let b = best, rows * b.of >= b.rows * whole { continue }
        best = (CoverageBreakdown.sourceFields[k], rows, whole)
      }
      return best
    }
  }

  public var season: Int
  public var calendar: SeasonCalendar
  /// Every calendar day from the first day of opening night's month to the last day of the
  /// last game date's month, ascending; empty when the season has no game dates.
  public var days: [Day]
  /// Months with at least one ACTIVE or played PGS row, ascending.
  public var months: [Month]

  /// Expected dates (game dates past bootstrap) and how many of them have PCF rows.
  public var expectedDates: Int { days.filter { $0.kind == .covered || $0.kind == .missing }.count }
  public var coveredDates: Int { days.filter { $0.kind == .covered }.count }
  public var missingDates: [Date32] { days.filter { $0.kind == .missing }.map(\.date) }
  public var activeRows: Int { months.reduce(0) { $0 + $1.activeRows } }
  public var usageRateRows: Int { months.reduce(0) { $0 + $1.usageRateRows } }

  public init(season: Int, calendar: SeasonCalendar, days: [Day], months: [Month]) {
    self.season = season
    self.calendar = calendar
    self.days = days
    self.months = months
  }

  /// One breakdown per season of `source`, ascending by season. Rows and dates outside
  /// `start…end` (either bound optional) are left out, as the gates leave them out.
  public static func compute(source: SourceData, start: Date32? = nil, end: Date32? = nil) -> [CoverageBreakdown] {
    func inWindow(_ d: Date32) -> Bool {
      if let start, d < start { return false }
      if let end, d > end { return false }
      return true
    }
    let calendars = SeasonCalendar.calendars(for: source)
    let pgs = source.pgs
    let pcf = source.pcf

    // Distinct (date, player) pairs: a duplicated key must not count a player twice.
    var activeByDate: [Date32: Set<String>] = [:]
    var monthRows: [Int: [Int: (active: Int, played: Int, usage: Int, fields: [Int])]] = [:]
    let fieldValidity: [ValidityBitmap] = [
      pgs.minutesPlayed.validity, pgs.points.validity, pgs.fgAttempts.validity, pgs.ftAttempts.validity,
      pgs.turnovers.validity,
    ]
    for i in 0..<pgs.count {
      guard let date = pgs.gameDate[i], let season = pgs.seasonYear[i], inWindow(date) else { continue }
      let active = pgs.isActive(i)
      let played = pgs.isDnp.validity[i] && !pgs.isDnp.values[i]
      guard active || played else { continue }
      let civil = CivilDate(date)
      let key = civil.year * 100 + civil.month
      var row = monthRows[Int(season), default: [:]][key] ?? (0, 0, 0, [Int](repeating: 0, count: fieldValidity.count))
      if played {
        row.played += 1
        if fieldValidity[0][i] { row.fields[0] += 1 }
      }
      if active {
        activeByDate[date, default: []].insert(pgs.playerLookup.string(at: i))
        row.active += 1
        if pgs.usageRate.validity[i] { row.usage += 1 }
        for k in fieldValidity.indices.dropFirst() where fieldValidity[k][i] { row.fields[k] += 1 }
      }
      monthRows[Int(season), default: [:]][key] = row
    }
    var pcfByDate: [Date32: Set<String>] = [:]
    for i in 0..<pcf.count {
      guard let date = pcf.gameDate[i], inWindow(date) else { continue }
      pcfByDate[date, default: []].insert(pcf.playerLookup.string(at: i))
    }

    var out: [CoverageBreakdown] = []
    for season in source.seasons {
      let calendar = calendars[season] ?? SeasonCalendar(season: season, gameDates: [], dateSource: .pgs)
      let gameDates = Set(calendar.gameDates)
      var days: [Day] = []
      if let first = calendar.gameDates.first, let last = calendar.gameDates.last {
        let firstCivil = CivilDate(first), lastCivil = CivilDate(last)
        // Whole months, so the calendar shows complete month grids.
        let start = CivilDate(year: firstCivil.year, month: firstCivil.month, day: 1)?.date32 ?? first
        let endDay = CivilDate.daysInMonth(year: lastCivil.year, month: lastCivil.month)
        let end = CivilDate(year: lastCivil.year, month: lastCivil.month, day: endDay)?.date32 ?? last
        var date = start
        while date <= end {
          let pcfPlayers = pcfByDate[date] ?? []
          let activePlayers = activeByDate[date] ?? []
          let kind: DayKind
          if !gameDates.contains(date) {
            kind = .noGames
          } else if !inWindow(date) {
            kind = .outsideWindow
          } else if calendar.isBootstrap(date) {
            kind = .bootstrap
          } else {
            kind = pcfPlayers.isEmpty ? .missing : .covered
          }
          let offset = date.days(since: first)
          days.append(
            Day(
              date: date, kind: kind, pcfPlayers: pcfPlayers.count, activePlayers: activePlayers.count,
              activeWithPCF: activePlayers.intersection(pcfPlayers).count, seasonDay: offset >= 0 ? offset : nil))
          date = date.adding(days: 1)
        }
      }
      let months = (monthRows[season] ?? [:]).keys.sorted().compactMap { key -> Month? in
        guard let row = monthRows[season]?[key] else { return nil }
        return Month(
          year: key / 100, month: key % 100, activeRows: row.active, playedRows: row.played,
          usageRateRows: row.usage, sourceFieldRows: row.fields)
      }
      out.append(CoverageBreakdown(season: season, calendar: calendar, days: days, months: months))
    }
    return out
  }
}
