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
  }

  /// The box-score fields `source_field_coverage` measures: the spec's five (minutes_played
  /// first, then in the spec's order), which tell an extraction gap apart from a derived
  /// (usage_rate) gap, then the other fields the prop labels and props_v1's windows are made
  /// of (threes, rebounds, assists). The spec's five alone let an export with assists NULL on
  /// 60 % of its rows build, its label_assists and label_rebounds NULL on those rows, every
  /// gate passing (docs/GATES.md).
  public static let sourceFields = [
    "minutes_played", "points", "fg_attempts", "ft_attempts", "turnovers",
    "three_pt_makes", "three_pt_attempts", "offensive_rebounds", "defensive_rebounds", "assists",
  ]

  /// The validity of each of `sourceFields` in `pgs`, same order.
  public static func sourceFieldValidity(_ pgs: PlayerGameSummary) -> [ValidityBitmap] {
    [
      pgs.minutesPlayed.validity, pgs.points.validity, pgs.fgAttempts.validity, pgs.ftAttempts.validity,
      pgs.turnovers.validity, pgs.threePtMakes.validity, pgs.threePtAttempts.validity,
      pgs.offensiveRebounds.validity, pgs.defensiveRebounds.validity, pgs.assists.validity,
    ]
  }

  public struct Month: Sendable, Equatable {
    public var year: Int
    public var month: Int
    /// ACTIVE PGS rows dated in this month: the denominator of every share below.
    public var activeRows: Int
    /// Of those, rows with a non-NULL usage_rate.
    public var usageRateRows: Int
    /// Rows the export does not mark as DNP (`is_dnp` 0 or NULL), active or not. An active row
    /// has minutes by definition, so a lost minutes_played shows only here.
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

    // Distinct (date, player) pairs, so a duplicated key does not count a player twice: the
    // date-slot walk the gates use (DayPlayers), with this page's own row selection.
    var players = KeyInterner()
    let pgsPlayer = players.ids(of: pgs.playerLookup)
    let pcfPlayer = players.ids(of: pcf.playerLookup)
    var pgsFlags = [UInt8](repeating: 0, count: pgs.count)
    for i in 0..<pgs.count {
      guard let date = pgs.gameDate[i], pgs.seasonYear.validity[i], inWindow(date) else { continue }
      pgsFlags[i] = RowFlag.inScope | (pgs.isActive(i) ? RowFlag.active : 0)
    }
    var pcfFlags = [UInt8](repeating: 0, count: pcf.count)
    for i in 0..<pcf.count {
      guard let date = pcf.gameDate[i], inWindow(date) else { continue }
      pcfFlags[i] = RowFlag.inScope
    }
    let space = DaySpace([pgs.gameDate.values, pcf.gameDate.values])
    let pgsByDay = ByDay(pgs.gameDate.values, in: space)
    let dayPlayers = DayPlayers(
      space: space, playerCount: players.names.count, pgsByDay: pgsByDay, pgsPlayer: pgsPlayer, pgsFlags: pgsFlags,
      pcfByDay: ByDay(pcf.gameDate.values, in: space), pcfPlayer: pcfPlayer, pcfFlags: pcfFlags)

    // Month rows per (season, month), walked by date so the month is worked out once per date
    // and the accumulator looked up only when the season changes.
    struct MonthKey: Hashable {
      var season: Int
      var month: Int
    }
    var monthRows: [MonthKey: Int] = [:]
    var accs: [(active: Int, played: Int, usage: Int, fields: [Int])] = []
    let fieldValidity = sourceFieldValidity(pgs)
    for slot in 0..<space.count {
      var month = -1
      var last: (season: Int32, acc: Int)?
      for n in pgsByDay.range(slot) {
        let i = Int(pgsByDay.rows[n])
        guard pgsFlags[i] != 0 else { continue }
        let active = pgsFlags[i] & RowFlag.active != 0
        let played = pgs.isNotMarkedDNP(i)
        guard active || played else { continue }
        let season = pgs.seasonYear.values[i]
        if month < 0 {
          let civil = CivilDate(space.date(at: slot))
          month = civil.year * 100 + civil.month
        }
        let a: Int
        if let last, last.season == season {
          a = last.acc
        } else {
          let key = MonthKey(season: Int(season), month: month)
          if let known = monthRows[key] {
            a = known
          } else {
            a = accs.count
            monthRows[key] = a
            accs.append((0, 0, 0, [Int](repeating: 0, count: fieldValidity.count)))
          }
          last = (season, a)
        }
        if played {
          accs[a].played += 1
          if fieldValidity[0][i] { accs[a].fields[0] += 1 }
        }
        if active {
          accs[a].active += 1
          if pgs.usageRate.validity[i] { accs[a].usage += 1 }
          for k in fieldValidity.indices.dropFirst() where fieldValidity[k][i] { accs[a].fields[k] += 1 }
        }
      }
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
          let slot = space.slot(of: date)
          let pcfPlayers = slot.map { Int(dayPlayers.pcfPlayers[$0]) } ?? 0
          let activePlayers = slot.map { Int(dayPlayers.activePlayers[$0]) } ?? 0
          let activeWithPCF = slot.map { Int(dayPlayers.activeWithPCF[$0]) } ?? 0
          let kind: DayKind
          if !gameDates.contains(date) {
            kind = .noGames
          } else if !inWindow(date) {
            kind = .outsideWindow
          } else if calendar.isBootstrap(date) {
            kind = .bootstrap
          } else {
            kind = pcfPlayers == 0 ? .missing : .covered
          }
          let offset = date.days(since: first)
          days.append(
            Day(
              date: date, kind: kind, pcfPlayers: pcfPlayers, activePlayers: activePlayers,
              activeWithPCF: activeWithPCF, seasonDay: offset >= 0 ? offset : nil))
          date = date.adding(days: 1)
        }
      }
      let months = monthRows.filter { $0.key.season == season }.sorted { $0.key.month < $1.key.month }.map {
        let row = accs[$0.value]
        return Month(
          year: $0.key.month / 100, month: $0.key.month % 100, activeRows: row.active, playedRows: row.played,
          usageRateRows: row.usage, sourceFieldRows: row.fields)
      }
      out.append(CoverageBreakdown(season: season, calendar: calendar, days: days, months: months))
    }
    return out
  }
}
