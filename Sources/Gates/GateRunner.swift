// The gates of ../shared/spec/gates.md, run over the columns SourceReader read: one pass over
// each table builds the indexes every gate needs, then each gate is a walk over those indexes.
// No SQL runs here, so validating adds milliseconds to the read, not a query per date.
// Decisions the spec leaves open are written down in docs/GATES.md.
import Columnar
import Foundation
import SQLiteSource

/// The dates a run considers; nil bounds are open.
public struct GateWindow: Sendable, Equatable {
  public var start: Date32?
  public var end: Date32?
  public init(start: Date32? = nil, end: Date32? = nil) {
    self.start = start
    self.end = end
  }
  public static let all = GateWindow()
  public func contains(_ d: Date32) -> Bool {
    if let start, d < start { return false }
    if let end, d > end { return false }
    return true
  }

  /// Whether a PGS row dated `d` feeds the window's features: it is inside the window or
  /// before it (its season's history), not after its end. The PGS gates measure these rows:
  /// a window's features are computed from all of them (GATES.md, "Window").
  public func feeds(_ d: Date32) -> Bool {
    if let end, d > end { return false }
    return true
  }
}

public enum GateRunner {
  /// Runs every gate but `point_in_time`, which needs computed features: `build` runs
  /// `PointInTimeSession` (Features) and records it beside these (`Manifest.GateRecord`).
  /// Overrides are applied by gate name.
  public static func run(
    source: SourceData, config: GateConfig = .defaults, window: GateWindow = .all,
    startDate: ResolvedDate? = nil, endDate: ResolvedDate? = nil, overrides: [GateOverride] = []
  ) -> GateReport {
    let ctx = Context(source: source, config: config, window: window)
    var results = [
      ctx.pcfDateCoverage(), ctx.pcfPlayerCoverage(), ctx.usageRateCoverage(), ctx.sourceFieldCoverage(),
      ctx.duplicateKeys(), ctx.gameIntegrity(), ctx.valueRanges(), ctx.pcfStaleness(), ctx.constantFeatures(),
    ]
    for i in results.indices { GateReport.applyOverride(&results[i], overrides) }
    return GateReport(
      database: source.path, seasons: ctx.expectations, startDate: startDate, endDate: endDate, thresholds: config,
      gates: results)
  }
}

// MARK: - Formatting as an operator reads it

enum Show {
  /// 24312 → "24,312".
  static func count(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return n < 0 ? "-" + out : out
  }

  /// A percentage rounded DOWN to `decimals`, so a failing 94.99 never reads as the threshold 95.
  static func pct(_ x: Double, decimals: Int = 1) -> String {
    String(format: "%.\(decimals)f %%", down(x, decimals))
  }

  /// A percentage that a rule fails below: rounded down, with as many more decimals as it
  /// takes for the printed figure to sit on the same side of `threshold` as `x` does. A
  /// passing 94.667 against 94.65 reads 94.66 %, not 94.6 %.
  static func pct(_ x: Double, decimals: Int = 1, failsBelow threshold: Double) -> String {
    pct(x, decimals: decimals) { $0 < threshold }
  }

  /// A percentage that a rule fails (or warns) above: a failing 5.05 against 5 reads 5.05 %,
  /// not the 5.0 % that rounding down to one decimal would print.
  static func pct(_ x: Double, decimals: Int = 1, failsAbove threshold: Double) -> String {
    pct(x, decimals: decimals) { $0 > threshold }
  }

  private static func pct(_ x: Double, decimals: Int, _ breaks: (Double) -> Bool) -> String {
    var d = decimals
    // At most nine decimals: a figure closer than that to its threshold stays the nearest
    // rounding down, and the report's `value` holds the unrounded number.
    while d < 9 && breaks(down(x, d)) != breaks(x) { d += 1 }
    return String(format: "%.\(d)f %%", down(x, d))
  }

  private static func down(_ x: Double, _ decimals: Int) -> Double {
    let scale = pow(10.0, Double(decimals))
    return (x * scale).rounded(.down) / scale
  }

  static func number(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
  }

  /// "missing: a, b, c, … (12 in all)".
  static func list(_ label: String, _ items: [String], shown: Int = 3) -> String {
    if items.count <= shown { return "\(label): " + items.joined(separator: ", ") }
    return "\(label): " + items.prefix(shown).joined(separator: ", ") + ", … (\(count(items.count)) in all)"
  }

  static func ratio(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 100 : 100 * Double(part) / Double(whole) }
}

struct DatePlayer: Hashable {
  var date: Int32
  var player: Int32
}

struct Context {
  let source: SourceData
  let config: GateConfig
  let window: GateWindow
  let seasons: [Int]
  let calendars: [Int: SeasonCalendar]
  let multiSeason: Bool

  /// Player keys interned once, shared by PGS and PCF, so joins compare integers.
  var pgsPlayer: [Int32] = []
  var pcfPlayer: [Int32] = []
  var playerNames: [String] = []
  /// game_id, team_abbr and opponent_team_abbr of each PGS row as dense ids; teams share one
  /// id space (and `teamRank` orders it as the names sort) so a team pair is compared by id.
  var pgsGame: [Int32] = []
  var gameNames: [String] = []
  var pgsTeam: [Int32] = []
  var pgsOpponent: [Int32] = []
  var teamNames: [String] = []
  var teamRank: [Int32] = []
  /// Per PGS row: the index in `seasons` of its season_year, −1 for a season not requested;
  /// and its `RowFlag`s. Per-season figures are then arrays indexed by season, filled in one
  /// pass over the rows, instead of one pass over every row per season.
  var pgsSeason: [Int16] = []
  var pgsFlags: [UInt8] = []
  /// Per PCF row: the index in `seasons` of the season its game_date falls in (the date rule),
  /// −1 for none requested; and its `RowFlag`s.
  var pcfSeason: [Int16] = []
  var pcfFlags: [UInt8] = []
  /// Where the PGS rows read sit against the date rule (`Season.borders`).
  var borders = Season.Borders()
  /// Per requested season: whether it has a PGS row inside the window (always, without one).
  var seasonReachesWindow: [Bool] = []
  /// Both tables' rows grouped by date slot, and who is there on each date.
  var space: DaySpace
  var pgsByDay: ByDay
  var pcfByDay: ByDay
  var dayPlayers: DayPlayers
  var expected: [Int: [Date32]] = [:]
  var expectations: [SeasonExpectation] = []

  init(source: SourceData, config: GateConfig, window: GateWindow) {
    self.source = source
    self.config = config
    self.window = window
    seasons = source.seasons
    calendars = SeasonCalendar.calendars(for: source)
    multiSeason = source.seasons.count > 1
    let pgs = source.pgs
    let pcf = source.pcf
    var players = KeyInterner()
    pgsPlayer = players.ids(of: pgs.playerLookup)
    pcfPlayer = players.ids(of: pcf.playerLookup)
    playerNames = players.names
    var games = KeyInterner()
    pgsGame = games.ids(of: pgs.gameId)
    gameNames = games.names
    var teams = KeyInterner(capacity: 64)
    pgsTeam = teams.ids(of: pgs.teamAbbr)
    pgsOpponent = teams.ids(of: pgs.opponentTeamAbbr)
    teamNames = teams.names
    teamRank = teams.sortRanks

    // Season year → index in `seasons` through a table over the requested years: no search
    // and no hashing per row. Seasons are years, so the table is small.
    let firstYear = seasons.min() ?? 0
    var slotOfYear = [Int16](repeating: -1, count: seasons.max().map { $0 - firstYear + 1 } ?? 0)
    for (k, year) in seasons.enumerated().reversed() { slotOfYear[year - firstYear] = Int16(k) }
    func seasonIndex(_ year: Int) -> Int16 {
      let y = year - firstYear
      return y >= 0 && y < slotOfYear.count ? slotOfYear[y] : -1
    }
    pgsSeason = [Int16](repeating: -1, count: pgs.count)
    pgsFlags = [UInt8](repeating: 0, count: pgs.count)
    // Whether each season has a PGS row inside the window: one without builds nothing (the
    // build leaves it out), so its rows feed nothing and are not measured (an off-season
    // window from 1 September reaches back into the season that ended in June).
    var reachesWindow = [Bool](repeating: window.start == nil && window.end == nil, count: seasons.count)
    for i in 0..<pgs.count {
      let k = seasonIndex(Int(pgs.seasonYear.values[i]))
      pgsSeason[i] = k
      var flags: UInt8 = pgs.isActive(i) ? RowFlag.active : 0
      let date = pgs.gameDate.values[i]
      if k >= 0 && window.feeds(date) {
        flags |= RowFlag.inScope
        if !reachesWindow[Int(k)] && window.contains(date) { reachesWindow[Int(k)] = true }
      }
      pgsFlags[i] = flags
    }
    if reachesWindow.contains(false) {
      for i in 0..<pgs.count where pgsSeason[i] >= 0 && !reachesWindow[Int(pgsSeason[i])] {
        pgsFlags[i] &= ~RowFlag.inScope
      }
    }
    seasonReachesWindow = reachesWindow
    borders = Season.borders(of: pgs)
    space = DaySpace([pgs.gameDate.values, pcf.gameDate.values])
    pgsByDay = ByDay(pgs.gameDate.values, in: space)
    pcfByDay = ByDay(pcf.gameDate.values, in: space)
    // A PCF row's season and window follow from its date alone: decided once per date. The
    // season is that of the PGS rows of the day, by the date rule only on a day without any:
    // the 2020 Finals (October 2020) are 2019-20's games, and the reader adds their PCF rows
    // to a 2019-20 read.
    pcfSeason = [Int16](repeating: -1, count: pcf.count)
    pcfFlags = [UInt8](repeating: 0, count: pcf.count)
    for s in 0..<space.count {
      let range = pcfByDay.range(s)
      guard !range.isEmpty else { continue }
      let date = space.date(at: s)
      var k: Int16 = -1
      for n in pgsByDay.range(s) where pgsSeason[Int(pgsByDay.rows[n])] >= 0 {
        k = pgsSeason[Int(pgsByDay.rows[n])]
        break
      }
      if k < 0 { k = seasonIndex(Season.startYear(of: date)) }
      let flags: UInt8 = k >= 0 && window.contains(date) ? RowFlag.inScope : 0
      for n in range {
        let r = Int(pcfByDay.rows[n])
        pcfSeason[r] = k
        pcfFlags[r] = flags
      }
    }
    dayPlayers = DayPlayers(
      space: space, playerCount: playerNames.count, pgsByDay: pgsByDay, pgsPlayer: pgsPlayer, pgsFlags: pgsFlags,
      pcfByDay: pcfByDay, pcfPlayer: pcfPlayer, pcfFlags: pcfFlags)
    for season in seasons {
      let cal = calendars[season] ?? SeasonCalendar(season: season, gameDates: [], dateSource: .pgs)
      let dates = cal.expectedDates.filter { window.contains($0) }
      expected[season] = dates
      expectations.append(
        SeasonExpectation(
          season: Season.label(season), dateSource: cal.dateSource.rawValue,
          openingNight: cal.openingNight.map { CivilDate($0).description },
          bootstrapEnds: cal.openingNight.map {
            CivilDate($0.adding(days: SeasonCalendar.bootstrapDays - 1)).description
          },
          gameDates: cal.gameDates.count, expectedDates: dates.count))
    }
  }

  @inline(__always) func pgsIn(_ i: Int) -> Bool { pgsFlags[i] & RowFlag.inScope != 0 }
  @inline(__always) func pgsInActive(_ i: Int) -> Bool { pgsFlags[i] & 3 == 3 }
  @inline(__always) func pcfIn(_ i: Int) -> Bool { pcfFlags[i] & RowFlag.inScope != 0 }

  func label(_ season: Int) -> String { Season.label(season) }
  /// Evidence lines carry the season only when several are validated together.
  func tag(_ season: Int) -> String { multiSeason ? "\(label(season)) " : "" }
  func day(_ d: Date32) -> String { CivilDate(d).description }
  func stamp(_ micros: Int64) -> String { Timestamp.format(micros: micros) }

  /// "2021-22: a; 2022-23: b" for several seasons, just "a" for one.
  func perSeason(_ parts: [(Int, String)]) -> String {
    if !multiSeason { return parts.first?.1 ?? "" }
    return parts.map { "\(label($0.0)): \($0.1)" }.joined(separator: "; ")
  }

  /// Each season's figure with its own verdict (`marks`, pass when absent), for tables that
  /// fold passing seasons; empty for one season.
  func verdicts(_ parts: [(Int, String)], _ marks: [Int: GateStatus]) -> [GateResult.SeasonVerdict] {
    guard multiSeason else { return [] }
    return parts.map { GateResult.SeasonVerdict(season: label($0.0), status: marks[$0.0] ?? .pass, figure: $0.1) }
  }

  // MARK: pcf_date_coverage

  func pcfDateCoverage() -> GateResult {
    let threshold = config.pcfDateCoverageFailBelowPercent
    func hasPCF(_ date: Date32) -> Bool {
      guard let s = space.slot(of: date) else { return false }
      return dayPlayers.pcfPlayers[s] > 0
    }
    var figures: [(Int, String)] = []
    var missingAll: [String] = []
    var worst: Double?
    var status = GateStatus.pass
    var marks: [Int: GateStatus] = [:]
    let early = pcfRowsBeforeTheBootstrapEnds()
    for season in seasons {
      let exp = expected[season] ?? []
      if let e = early[season] {
        status = .fail
        marks[season] = .fail
        missingAll.append(e.line)
      }
      if exp.isEmpty {
        figures.append(
          (
            season,
            "no expected PCF date in range (only bootstrap days or no games)"
              + (early[season].map { "; \(Show.count($0.rows)) PCF rows on bootstrap days" } ?? "")
          ))
        continue
      }
      let missing = exp.filter { !hasPCF($0) }
      let covered = exp.count - missing.count
      let p = Show.ratio(covered, exp.count)
      worst = min(worst ?? p, p)
      if p < threshold {
        status = .fail
        marks[season] = .fail
      }
      figures.append(
        (
          season,
          "PCF covers \(Show.count(covered)) of \(Show.count(exp.count)) expected dates (\(Show.pct(p, failsBelow: threshold)))"
            + (early[season].map { "; \(Show.count($0.rows)) PCF rows on bootstrap days" } ?? "")
        ))
      missingAll += missing.map { tag(season) + day($0) }
    }
    let missingCount = missingAll.count - early.count
    return GateResult(
      name: GateName.pcfDateCoverage.rawValue, status: status, figure: perSeason(figures), value: worst,
      threshold: "fail below \(Show.number(threshold)) %; fail on a PCF row on a bootstrap day",
      summary: !early.isEmpty
        ? missingAll[0] : missingCount == 0 ? "no expected date missing" : Show.list("missing", missingAll),
      evidence: missingAll
    ).with(verdicts(figures, marks))
  }

  /// PCF rows of a season dated before its opening night's bootstrap days end (days 0–13, or
  /// before opening night), up to the window's end: upstream writes none there
  /// (source-tables.md), so their presence says the opening night is wrong. A season whose first
  /// weeks are missing from player_game_summary (a truncated export), or from the schedule,
  /// opens late: its early rows are taken for bootstrap days and dropped, and every history
  /// lacks the missing games, with every other gate passing (session 19 review).
  func pcfRowsBeforeTheBootstrapEnds() -> [Int: (rows: Int, line: String)] {
    let pcf = source.pcf
    // Dates of another season's late games (the 2020 Finals, October 2020, read beside a
    // 2020-21 request as rows filed next door): their PCF rows are that season's, dated before
    // this one's opening night by right.
    var lateGames = Set<Date32>()
    for row in source.rowsFiledNextDoor
    where Season.reasonFiledElsewhere(filedUnder: row.seasonYear, date: row.gameDate, playingSpan: playingSpan) == nil {
      lateGames.insert(row.gameDate)
    }
    var rows: [Int: (n: Int, first: Date32, last: Date32)] = [:]
    for i in 0..<pcf.count where pcfSeason[i] >= 0 && seasonReachesWindow[Int(pcfSeason[i])] {
      let date = pcf.gameDate.values[i]
      let season = seasons[Int(pcfSeason[i])]
      guard window.feeds(date), let opening = calendars[season]?.openingNight,
        date.days(since: opening) < SeasonCalendar.bootstrapDays, !lateGames.contains(date)
      else { continue }
      if let r = rows[season] {
        rows[season] = (r.n + 1, min(r.first, date), max(r.last, date))
      } else {
        rows[season] = (1, date, date)
      }
    }
    return rows.reduce(into: [:]) { out, entry in
      let (season, r) = entry
      guard let cal = calendars[season], let opening = cal.openingNight else { return }
      let source = cal.dateSource == .schedule ? "the schedule" : "player_game_summary"
      let dates = r.first == r.last ? day(r.first) : "\(day(r.first)) to \(day(r.last))"
      out[season] = (
        r.n,
        "\(tag(season))\(Show.count(r.n)) PCF row\(r.n == 1 ? "" : "s") on \(dates), before the bootstrap days from opening night "
          + "\(day(opening)) (the first game date in \(source)) end: upstream writes no PCF row there (source-tables.md); "
          + "is that opening night wrong (the season's first games missing from \(source), or a row of another season "
          + "filed under this one: see game_integrity)?"
      )
    }
  }

  // MARK: pcf_player_coverage

  func pcfPlayerCoverage() -> GateResult {
    let warnBelow = config.pcfPlayerCoverageWarnDateBelowPercent
    let failShare = config.pcfPlayerCoverageFailDatesBelowPercent
    var status = GateStatus.pass
    var marks: [Int: GateStatus] = [:]
    var figures: [(Int, String)] = []
    var rows: [(ratio: Double, line: String)] = []
    var worstShare: Double?
    for season in seasons {
      var measured = 0
      var below: [(Double, Date32, Int, Int)] = []
      // A date without any PCF row is at 0 %: gates.md warns on any date below 90 %, and
      // pcf_date_coverage alone can pass with dates missing (146 of 150 is above its 95 %).
      for date in expected[season] ?? [] {
        guard let s = space.slot(of: date), dayPlayers.activePlayers[s] > 0 else { continue }
        measured += 1
        let have = Int(dayPlayers.activeWithPCF[s])
        let act = Int(dayPlayers.activePlayers[s])
        let r = Show.ratio(have, act)
        if r < warnBelow { below.append((r, date, have, act)) }
      }
      if measured == 0 {
        figures.append((season, "no expected date with active PGS rows to measure"))
        continue
      }
      let share = Show.ratio(below.count, measured)
      worstShare = max(worstShare ?? share, share)
      if share > failShare {
        status = .fail
        marks[season] = .fail
      } else if !below.isEmpty {
        marks[season] = .warn
        if status == .pass { status = .warn }
      }
      var f =
        "\(Show.count(below.count)) of \(Show.count(measured)) dates below \(Show.number(warnBelow)) % of active players (\(Show.pct(share, failsAbove: failShare)))"
      if let low = below.min(by: { $0.0 < $1.0 }) {
        f += "; lowest \(Show.pct(low.0, failsBelow: warnBelow)) on \(day(low.1))"
      }
      figures.append((season, f))
      for b in below {
        rows.append(
          (
            b.0,
            "\(tag(season))\(day(b.1)): \(Show.count(b.2)) of \(Show.count(b.3)) active players have a PCF row (\(Show.pct(b.0, failsBelow: warnBelow)))"
          ))
      }
    }
    rows.sort { $0.ratio != $1.ratio ? $0.ratio < $1.ratio : $0.line < $1.line }
    let lines = rows.map(\.line)
    return GateResult(
      name: GateName.pcfPlayerCoverage.rawValue, status: status, figure: perSeason(figures), value: worstShare,
      threshold:
        "warn: a date below \(Show.number(warnBelow)) %; fail: over \(Show.number(failShare)) % of dates below",
      summary: lines.first.map { "lowest: " + $0 } ?? "every measured date at or above \(Show.number(warnBelow)) %",
      evidence: lines
    ).with(verdicts(figures, marks))
  }

  // MARK: usage_rate_coverage

  func usageRateCoverage() -> GateResult {
    let seasonFail = config.usageRateSeasonFailBelowPercent
    let monthWarn = config.usageRateMonthWarnBelowPercent
    let pgs = source.pgs
    var seasonActive = [Int](repeating: 0, count: seasons.count)
    var seasonFilled = [Int](repeating: 0, count: seasons.count)
    // A month belongs to the season of its first active row in row order (a row whose
    // season_year disagrees with its date must not move the month).
    struct MonthTotal {
      var key: Int
      var firstRow: Int32
      var season: Int
      var active = 0
      var filled = 0
    }
    var monthList: [MonthTotal] = []
    var monthOfKey: [Int: Int] = [:]
    var nullRows = 0
    var nullRowsWithInputs = 0
    // Walked by date, so the month is worked out once per date, not per row.
    for slot in 0..<space.count {
      var m = -1
      for n in pgsByDay.range(slot) {
        let r = pgsByDay.rows[n]
        let i = Int(r)
        guard pgsInActive(i) else { continue }
        let k = Int(pgsSeason[i])
        if m < 0 {
          let c = CivilDate(space.date(at: slot))
          let key = c.year * 100 + c.month
          if let known = monthOfKey[key] {
            m = known
          } else {
            m = monthList.count
            monthOfKey[key] = m
            monthList.append(MonthTotal(key: key, firstRow: r, season: seasons[k]))
          }
        }
        if r < monthList[m].firstRow {
          monthList[m].firstRow = r
          monthList[m].season = seasons[k]
        }
        seasonActive[k] += 1
        monthList[m].active += 1
        if pgs.usageRate.validity[i] {
          seasonFilled[k] += 1
          monthList[m].filled += 1
        } else {
          nullRows += 1
          if pgs.fgAttempts.validity[i] && pgs.ftAttempts.validity[i] && pgs.turnovers.validity[i] {
            nullRowsWithInputs += 1
          }
        }
      }
    }
    var status = GateStatus.pass
    var marks: [Int: GateStatus] = [:]
    var figures: [(Int, String)] = []
    var seasonLines: [String] = []
    var monthLines: [(Double, String)] = []
    var worst: Double?
    for (k, season) in seasons.enumerated() {
      let t = (active: seasonActive[k], filled: seasonFilled[k])
      guard t.active > 0 else {
        figures.append((season, "no active rows in range"))
        continue
      }
      let p = Show.ratio(t.filled, t.active)
      worst = min(worst ?? p, p)
      var f = "usage_rate on \(Show.pct(p, failsBelow: seasonFail)) of \(Show.count(t.active)) active rows"
      if p < seasonFail {
        status = .fail
        marks[season] = .fail
        seasonLines.append(
          "\(label(season)): usage_rate on \(Show.count(t.filled)) of \(Show.count(t.active)) active rows (\(Show.pct(p, failsBelow: seasonFail))), below \(Show.number(seasonFail)) %"
        )
      }
      var months: [Int: (active: Int, filled: Int)] = [:]
      for m in monthList where m.season == season { months[m.key] = (m.active, m.filled) }
      // Ties go to the earliest month, so the figure is the same on every run.
      if let low = months.min(by: {
        let (a, b) = (Show.ratio($0.value.filled, $0.value.active), Show.ratio($1.value.filled, $1.value.active))
        return a != b ? a < b : $0.key < $1.key
      }) {
        f +=
          "; lowest month \(monthName(low.key)) \(Show.pct(Show.ratio(low.value.filled, low.value.active), failsBelow: monthWarn))"
      }
      figures.append((season, f))
      for (month, m) in months {
        let mp = Show.ratio(m.filled, m.active)
        if mp < monthWarn {
          if status == .pass { status = .warn }
          marks[season] = max(marks[season] ?? .pass, .warn)
          monthLines.append(
            (
              mp,
              "\(monthName(month)): usage_rate on \(Show.count(m.filled)) of \(Show.count(m.active)) active rows (\(Show.pct(mp, failsBelow: monthWarn)))"
            ))
        }
      }
    }
    monthLines.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    var evidence = seasonLines + monthLines.map(\.1)
    if status != .pass {
      // gates.md: a derived-metric gap must be told apart from an extraction gap.
      let diagnosis =
        nullRowsWithInputs == nullRows
        ? "all \(Show.count(nullRows)) active rows without usage_rate have fg_attempts, ft_attempts and turnovers: a derived-metric gap, not an extraction gap"
        : "\(Show.count(nullRows - nullRowsWithInputs)) of \(Show.count(nullRows)) active rows without usage_rate also lack fg_attempts, ft_attempts or turnovers: an extraction gap"
      evidence.insert(diagnosis, at: 0)
    }
    let summary: String
    if let first = seasonLines.first ?? monthLines.first?.1 {
      summary = first
    } else {
      summary = "every month at or above \(Show.number(monthWarn)) %"
    }
    return GateResult(
      name: GateName.usageRateCoverage.rawValue, status: status, figure: perSeason(figures), value: worst,
      threshold: "fail: season below \(Show.number(seasonFail)) %; warn: month below \(Show.number(monthWarn)) %",
      summary: summary, evidence: evidence
    ).with(verdicts(figures, marks))
  }

  func monthName(_ key: Int) -> String {
    let m = key % 100
    return "\(key / 100)-\(m < 10 ? "0" : "")\(m)"
  }

  // MARK: source_field_coverage

  func sourceFieldCoverage() -> GateResult {
    let threshold = config.sourceFieldFailBelowPercent
    let pgs = source.pgs
    // minutes_played (the first) is measured on played rows below, the others on active rows.
    let fields = Array(
      zip(CoverageBreakdown.sourceFields, CoverageBreakdown.sourceFieldValidity(pgs)).dropFirst())
    var status = GateStatus.pass
    var marks: [Int: GateStatus] = [:]
    var figures: [(Int, String)] = []
    var evidence: [(Double, String)] = []
    var worst: Double?
    // An active row has minutes by definition, so minutes_played is measured on the rows the
    // export does not mark as DNP (is_dnp 0 or NULL): that is where a lost minutes value shows.
    var activeBySeason = [Int](repeating: 0, count: seasons.count)
    var presentBySeason = [Int](repeating: 0, count: seasons.count * fields.count)
    var playedBySeason = [Int](repeating: 0, count: seasons.count)
    var minutesBySeason = [Int](repeating: 0, count: seasons.count)
    // Of the rows without minutes, those whose is_dnp is NULL too: a DNP the export did not mark
    // looks exactly like a played row that lost its minutes, and the evidence says so.
    var unmarkedBySeason = [Int](repeating: 0, count: seasons.count)
    for i in 0..<pgs.count where pgsIn(i) {
      let s = Int(pgsSeason[i])
      if pgs.isNotMarkedDNP(i) {
        playedBySeason[s] += 1
        if pgs.minutesPlayed.validity[i] {
          minutesBySeason[s] += 1
        } else if !pgs.isDnp.validity[i] {
          unmarkedBySeason[s] += 1
        }
      }
      guard pgsFlags[i] & RowFlag.active != 0 else { continue }
      activeBySeason[s] += 1
      for (k, f) in fields.enumerated() where f.1[i] { presentBySeason[s * fields.count + k] += 1 }
    }
    for (s, season) in seasons.enumerated() {
      let active = activeBySeason[s]
      let present = Array(presentBySeason[s * fields.count..<(s + 1) * fields.count])
      let played = playedBySeason[s]
      let minutesPresent = minutesBySeason[s]
      var measured: [(String, Int, Int, String)] = []
      if played > 0 { measured.append(("minutes_played", minutesPresent, played, "rows not marked DNP")) }
      if active > 0 {
        for (k, f) in fields.enumerated() { measured.append((f.0, present[k], active, "active rows")) }
      }
      guard !measured.isEmpty else {
        figures.append((season, "no active rows in range"))
        continue
      }
      let low = measured.min { Show.ratio($0.1, $0.2) < Show.ratio($1.1, $1.2) }!
      let lowPct = Show.ratio(low.1, low.2)
      worst = min(worst ?? lowPct, lowPct)
      figures.append(
        (
          season,
          lowPct >= 100
            ? "all \(CoverageBreakdown.sourceFields.count) fields present on \(Show.count(active)) active rows"
            : "lowest: \(low.0) on \(Show.pct(lowPct, failsBelow: threshold)) of \(Show.count(low.2)) \(low.3)"
        ))
      for m in measured {
        let p = Show.ratio(m.1, m.2)
        if p < threshold {
          status = .fail
          marks[season] = .fail
          evidence.append(
            (
              p,
              "\(tag(season))\(m.0): NULL on \(Show.count(m.2 - m.1)) of \(Show.count(m.2)) \(m.3) (\(Show.pct(p, failsBelow: threshold)) present)"
                + (m.0 == "minutes_played" && unmarkedBySeason[s] > 0
                  ? "; \(Show.count(unmarkedBySeason[s])) of them have is_dnp NULL too: DNPs the export did not mark "
                    + "(is_dnp = 1 says so) or played rows that lost their minutes" : "")
            ))
        }
      }
    }
    evidence.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
    let lines = evidence.map(\.1)
    return GateResult(
      name: GateName.sourceFieldCoverage.rawValue, status: status, figure: perSeason(figures), value: worst,
      threshold: "fail below \(Show.number(threshold)) %",
      summary: lines.first ?? "no field below \(Show.number(threshold)) %", evidence: lines
    ).with(verdicts(figures, marks))
  }

  // MARK: duplicate_keys

  func duplicateKeys() -> GateResult {
    let pgs = source.pgs
    let pcf = source.pcf
    struct GameKey: Hashable {
      var date: Int32
      var first: Int32
      var second: Int32
    }
    // (date, team pair) → the first game id seen, and every id when there are several.
    var gameFirst: [GameKey: Int32] = [:]
    var gameIds: [GameKey: Set<Int32>] = [:]
    // The season of the row that first registered each key, for counting per season.
    var keySeason: [GameKey: Int] = [:]
    // Registering a (key, id) pair twice changes nothing, and a game's rows nearly all repeat
    // its pair: the last key seen per game id skips the hashing for them.
    var lastKey = [GameKey](repeating: GameKey(date: 0, first: -1, second: -1), count: gameNames.count)
    for i in 0..<pgs.count where pgsIn(i) {
      // One game is one team pair on one date, whatever the id text says: `YYYYMMDD_AWAY_HOME`,
      // the reversed `YYYYMMDD_HOME_AWAY` and a 10-digit NBA.com id all land on the same key.
      let a = pgsTeam[i], b = pgsOpponent[i]
      let date = pgs.gameDate.values[i].daysSinceEpoch
      let key =
        teamRank[Int(a)] < teamRank[Int(b)]
        ? GameKey(date: date, first: a, second: b) : GameKey(date: date, first: b, second: a)
      let id = pgsGame[i]
      if lastKey[Int(id)] == key { continue }
      lastKey[Int(id)] = key
      if let seen = gameFirst[key] {
        if seen != id || gameIds[key] != nil { gameIds[key, default: [seen]].insert(id) }
      } else {
        gameFirst[key] = id
        keySeason[key] = seasons[Int(pgsSeason[i])]
      }
    }
    let pgsKeys = dayPlayers.pgsRepeats
    let pcfKeys = dayPlayers.pcfRepeats
    var lines: [String] = []
    // In key order, as the spec orders keys: by date, then the player key's bytes (String `<`
    // would call canonically equivalent keys equal, and leave their order to the sort).
    func inKeyOrder(_ a: DatePlayer, _ b: DatePlayer) -> Bool {
      if a.date != b.date { return a.date < b.date }
      return playerNames[Int(a.player)].utf8.lexicographicallyPrecedes(playerNames[Int(b.player)].utf8)
    }
    let pgsDups = pgsKeys.sorted { inKeyOrder($0.key, $1.key) }
    // Counted per season, as every gate is (GATES.md): a threshold on the pooled count would
    // make a season's verdict depend on the other seasons asked for.
    var countOf: [Int: (pgs: Int, pcf: Int, games: Int)] = [:]
    for (key, rows) in pgsDups {
      let season = seasons[Int(pgsSeason[rows[0]])]
      countOf[season, default: (0, 0, 0)].pgs += 1
      let ids = Set(rows.map { gameNames[Int(pgsGame[$0])] }).sorted().joined(separator: ", ")
      lines.append(
        "\(tag(season))PGS \(day(Date32(daysSinceEpoch: key.date))) \(playerNames[Int(key.player)]): \(rows.count) rows (rowid \(rows.map { String(pgs.rowid[$0]) }.joined(separator: ", ")); game_id \(ids))"
      )
    }
    let pcfDups = pcfKeys.sorted { inKeyOrder($0.key, $1.key) }
    for (key, rows) in pcfDups {
      let season = seasons[Int(pcfSeason[rows[0]])]
      countOf[season, default: (0, 0, 0)].pcf += 1
      lines.append(
        "\(tag(season))PCF \(day(Date32(daysSinceEpoch: key.date))) \(playerNames[Int(key.player)]): \(rows.count) rows (rowid \(rows.map { String(pcf.rowid[$0]) }.joined(separator: ", ")))"
      )
    }
    let splitGames = gameIds.sorted {
      ($0.key.date, teamRank[Int($0.key.first)], teamRank[Int($0.key.second)])
        < ($1.key.date, teamRank[Int($1.key.first)], teamRank[Int($1.key.second)])
    }
    for (key, ids) in splitGames {
      let season = keySeason[key] ?? seasons[0]
      countOf[season, default: (0, 0, 0)].games += 1
      lines.append(
        "\(tag(season))game \(day(Date32(daysSinceEpoch: key.date))) \(teamNames[Int(key.first)])–\(teamNames[Int(key.second)]) stored under \(ids.count) ids: \(ids.map { gameNames[Int($0)] }.sorted().joined(separator: ", "))"
      )
    }
    let figures: [(Int, String)] = seasons.map { season in
      let c = countOf[season] ?? (0, 0, 0)
      return (
        season,
        "\(Show.count(c.pgs)) duplicate keys in PGS, \(Show.count(c.pcf)) in PCF, \(Show.count(c.games)) game\(c.games == 1 ? "" : "s") under two ids"
      )
    }
    let worst = countOf.values.map { $0.pgs + $0.pcf + $0.games }.max() ?? 0
    return GateResult(
      name: GateName.duplicateKeys.rawValue, status: worst > config.duplicateKeysFailAbove ? .fail : .pass,
      figure: perSeason(figures), value: Double(worst),
      threshold: config.duplicateKeysFailAbove == 0 ? "fail on any" : "fail above \(config.duplicateKeysFailAbove)",
      summary: lines.first ?? "no duplicate key, no game under two ids", evidence: lines
    ).with(
      verdicts(
        figures,
        countOf.filter { $0.value.pgs + $0.value.pcf + $0.value.games > config.duplicateKeysFailAbove }.mapValues { _ in
          .fail
        }))
  }

  // MARK: game_integrity

  func gameIntegrity() -> GateResult {
    let pgs = source.pgs
    // A game is (season, game id). An id nearly always lives in one season, so each id heads a
    // short chain of its games (one per season it appears in): a table per id, not per
    // (id, season), which grew with seasons × ids.
    struct Game {
      var season: Int
      var id: Int32
      /// The next game with the same id, in another season; −1 for none.
      var next: Int32
      /// (team id, active players), a game has two.
      var teams: [(Int32, Int)] = []
      var dates: [Date32] = []
      /// (team, opponent named, rows): with two teams, one pair each way.
      var opponents: [(team: Int32, opponent: Int32, rows: Int)] = []
      /// Per entry of `teams`: the is_home values its rows hold (1: 0 seen, 2: 1 seen).
      var sides: [UInt8] = []
    }
    var head = [Int32](repeating: -1, count: gameNames.count)
    var games: [Game] = []
    for i in 0..<pgs.count where pgsIn(i) {
      let id = Int(pgsGame[i])
      let season = seasons[Int(pgsSeason[i])]
      var g = Int(head[id])
      while g >= 0 && games[g].season != season { g = Int(games[g].next) }
      if g < 0 {
        g = games.count
        games.append(Game(season: season, id: pgsGame[i], next: head[id]))
        head[id] = Int32(g)
      }
      let team = pgsTeam[i]
      let add = pgsFlags[i] & RowFlag.active != 0 ? 1 : 0
      let side: UInt8 = pgs.isHome.validity[i] ? (pgs.isHome.values[i] ? 2 : 1) : 0
      if let t = games[g].teams.firstIndex(where: { $0.0 == team }) {
        games[g].teams[t].1 += add
        games[g].sides[t] |= side
      } else {
        games[g].teams.append((team, add))
        games[g].sides.append(side)
      }
      let date = pgs.gameDate.values[i]
      if !games[g].dates.contains(date) { games[g].dates.append(date) }
      let opponent = pgsOpponent[i]
      if let k = games[g].opponents.firstIndex(where: { $0.team == team && $0.opponent == opponent }) {
        games[g].opponents[k].rows += 1
      } else {
        games[g].opponents.append((team, opponent, 1))
      }
    }
    let lo = config.gameIntegrityMinActivePlayersPerTeam
    let hi = config.gameIntegrityMaxActivePlayersPerTeam
    var problems: [(season: Int, date: Date32, text: String)] = []
    for g in games {
      // source-tables.md: opponent_team_abbr is the other team in the same game. Checked when
      // the game has its two teams (else that is the problem named).
      let misnamed =
        g.teams.count == 2
        ? g.opponents.filter { $0.opponent != (g.teams[0].0 == $0.team ? g.teams[1].0 : g.teams[0].0) } : []
      // is_home (a feature column): a team's rows agree, and the two teams are not on one side.
      // NULL is "unknown" (source-tables.md) and is compared with nothing.
      let sidesClash = g.sides.contains(3) || (g.teams.count == 2 && g.sides[0] != 0 && g.sides[0] == g.sides[1])
      let broken =
        g.teams.count != 2 || g.dates.count > 1 || g.teams.contains { $0.1 < lo || $0.1 > hi } || !misnamed.isEmpty
        || sidesClash
      guard broken else { continue }
      let first = g.dates.min() ?? Date32(daysSinceEpoch: 0)
      let name = "\(tag(g.season))game \(gameNames[Int(g.id)]) (\(day(first)))"
      let teams = g.teams.map { (teamNames[Int($0.0)], $0.1) }.sorted { $0.0 < $1.0 }
      if g.teams.count != 2 {
        problems.append(
          (
            g.season, first,
            "\(name): \(g.teams.count) team\(g.teams.count == 1 ? "" : "s") (\(teams.map(\.0).joined(separator: ", "))), expected 2"
          ))
      }
      for (team, n) in teams where n < lo || n > hi {
        problems.append(
          (g.season, first, "\(name) \(team): \(n) active player\(n == 1 ? "" : "s"), expected \(lo) to \(hi)"))
      }
      for m in misnamed.sorted(by: { teamRank[Int($0.team)] < teamRank[Int($1.team)] }) {
        let other = teamNames[Int(g.teams[0].0 == m.team ? g.teams[1].0 : g.teams[0].0)]
        problems.append(
          (
            g.season, first,
            "\(name) \(teamNames[Int(m.team)]): \(m.rows) row\(m.rows == 1 ? "" : "s") name the opponent \(teamNames[Int(m.opponent)]), expected \(other), the other team of the game"
          ))
      }
      if sidesClash {
        let said = zip(g.teams, g.sides).map { team, side in
          "\(teamNames[Int(team.0)]) "
            + (side == 3 ? "both home and away" : side == 2 ? "home" : side == 1 ? "away" : "NULL")
        }.sorted()
        problems.append(
          (
            g.season, first,
            "\(name): is_home says \(said.joined(separator: ", ")), expected one team home (1) and the other away (0)"
          ))
      }
      if g.dates.count > 1 {
        problems.append(
          (
            g.season, first,
            "\(name): on \(g.dates.count) dates (\(g.dates.sorted().map(day).joined(separator: ", "))), expected one"
          ))
      }
    }
    let scheduled = scheduleProblems(pgsGames: games.map { ($0.season, $0.id, $0.dates) })
    problems += scheduled.problems
    // A row filed under the wrong season also leaves its game short of players in both seasons:
    // on one date, the cause is listed before its effects.
    let misfiled = rowsFiledUnderAnotherSeason()
    let causes = Set(misfiled.map(\.text))
    problems += misfiled
    problems.sort {
      if $0.date != $1.date { return $0.date < $1.date }
      let (a, b) = (causes.contains($0.text), causes.contains($1.text))
      return a != b ? a : $0.text < $1.text
    }
    let lines = problems.map(\.text)
    // Counted per season, as every gate is (GATES.md): a count threshold applied to seasons
    // pooled would make a season's verdict depend on the others asked for.
    var gamesOf: [Int: Int] = [:], problemsOf: [Int: Int] = [:]
    for g in games { gamesOf[g.season, default: 0] += 1 }
    for p in problems { problemsOf[p.season, default: 0] += 1 }
    let figures: [(Int, String)] = seasons.map { season in
      let n = gamesOf[season] ?? 0, k = problemsOf[season] ?? 0, planned = scheduled.checked[season] ?? 0
      if n == 0 && k == 0 && planned == 0 { return (season, "no PGS rows in range") }
      var figure =
        k == 0
        ? "\(Show.count(n)) games, each two teams of \(lo) to \(hi) active players on one date"
        : "\(Show.count(k)) problem\(k == 1 ? "" : "s") in \(Show.count(n)) games"
      if planned > 0 { figure += k == 0 ? ", as scheduled" : " (\(Show.count(planned)) scheduled)" }
      return (season, figure)
    }
    let worst = problemsOf.values.max() ?? 0
    return GateResult(
      name: GateName.gameIntegrity.rawValue, status: worst > config.gameIntegrityFailAbove ? .fail : .pass,
      figure: perSeason(figures), value: Double(worst),
      threshold: config.gameIntegrityFailAbove == 0 ? "fail on any" : "fail above \(config.gameIntegrityFailAbove)",
      summary: lines.first ?? "every game whole", evidence: lines
    ).with(verdicts(figures, problemsOf.filter { $0.value > config.gameIntegrityFailAbove }.mapValues { _ in .fail }))
  }

  /// A season's playing span (`Season.Borders`): from the rows read for a requested season,
  /// else as the reader read it from the season's own rows.
  func playingSpan(_ season: Int) -> ClosedRange<Date32>? {
    seasons.contains(season) ? borders.playingSpans[season] : source.playingSpansNotRead[season]
  }

  /// Rows filed under another season than the one their date puts them in (source-tables.md:
  /// season_year is the season's START year, a date from October on belongs to that year's
  /// season), unless they are a late game of their season (`Season.reasonFiledElsewhere`: the
  /// 2020 Finals, October 2020, filed under 2019-20). Rows read and the rows next door the
  /// reader found (`SourceData`) are judged alike, whatever the date window: a row missing from
  /// a season's history changes the features of every later game of that player. One line per
  /// game, date and season filed under, charged to the season the date belongs to when it is
  /// requested (its files lack the row), else to the season the row was read in (its files
  /// hold it).
  func rowsFiledUnderAnotherSeason() -> [(season: Int, date: Date32, text: String)] {
    struct Key: Hashable {
      var game: String
      var date: Date32
      var filedUnder: Int
    }
    var rows: [Key: [(rowid: Int64, player: String)]] = [:]
    let pgs = source.pgs
    let requested = Set(seasons)
    for i in borders.rowsOutsideTheirSeason {
      let key = Key(
        game: gameNames[Int(pgsGame[i])], date: pgs.gameDate.values[i], filedUnder: Int(pgs.seasonYear.values[i]))
      rows[key, default: []].append((pgs.rowid[i], playerNames[Int(pgsPlayer[i])]))
    }
    for row in source.rowsFiledNextDoor {
      rows[Key(game: row.gameId, date: row.gameDate, filedUnder: row.seasonYear), default: []].append(
        (row.rowid, row.playerLookup))
    }
    return rows.compactMap { key, found in
      guard let why = Season.reasonFiledElsewhere(filedUnder: key.filedUnder, date: key.date, playingSpan: playingSpan)
      else {
        return nil
      }
      let belongsTo = Season.startYear(of: key.date)
      let charged = requested.contains(belongsTo) ? belongsTo : key.filedUnder
      let n = found.count
      let shown = found.sorted { $0.rowid < $1.rowid }.prefix(3)
      let players = shown.map(\.player).joined(separator: ", ") + (n > 3 ? ", …" : "")
      let rowids = shown.map { String($0.rowid) }.joined(separator: ", ") + (n > 3 ? ", …" : "")
      return (
        charged, key.date,
        "\(tag(charged))game \(key.game) (\(day(key.date))): \(n) row\(n == 1 ? "" : "s") filed under season_year "
          + "\(key.filedUnder) (\(players); rowid \(rowids)), but \(why): season_year \(belongsTo) expected"
      )
    }
  }

  /// The schedule defines the expected games (source-tables.md): in each season that has
  /// schedule rows, every scheduled game inside the window must have PGS rows on its date, and
  /// every PGS game must be scheduled on its date. A game matches by id and date or, as
  /// exports spell ids differently (duplicate_keys), by date and pair of teams (trimmed, any
  /// letter case). Both sides are looked up over the whole season, so a game the window cuts
  /// from one side is reported as moved, not as missing.
  func scheduleProblems(pgsGames: [(season: Int, id: Int32, dates: [Date32])])
    -> (problems: [(season: Int, date: Date32, text: String)], checked: [Int: Int])
  {
    guard let schedule = source.schedule else { return ([], [:]) }
    let bySchedule = Set(seasons.filter { calendars[$0]?.dateSource == .schedule })
    guard !bySchedule.isEmpty else { return ([], [:]) }
    let pgs = source.pgs
    struct GameKey: Hashable {
      var season: Int
      var id: String
    }
    struct Pairing: Hashable {
      var season: Int
      var date: Date32
      var teams: String
    }
    func pairing(_ season: Int, _ date: Date32, _ a: String, _ b: String) -> Pairing {
      let x = a.trimmingCharacters(in: .whitespaces).uppercased(),
        y = b.trimmingCharacters(in: .whitespaces).uppercased()
      return Pairing(season: season, date: date, teams: x < y ? "\(x)|\(y)" : "\(y)|\(x)")
    }
    func days(_ dates: Set<Date32>) -> String { dates.sorted().map(day).joined(separator: ", ") }

    // PGS rows of the scheduled seasons, in the window or not, reduced to their distinct
    // (game, teams, date) by interned ids before any name is touched.
    struct RowGame: Hashable {
      var season: Int16
      var game: Int32
      var team: Int32
      var opponent: Int32
      var date: Int32
    }
    var rowGames = Set<RowGame>()
    var last: RowGame?
    for i in 0..<pgs.count where pgsSeason[i] >= 0 {
      let k = RowGame(
        season: pgsSeason[i], game: pgsGame[i], team: pgsTeam[i], opponent: pgsOpponent[i],
        date: pgs.gameDate.values[i].daysSinceEpoch)
      if k == last { continue }
      last = k
      rowGames.insert(k)
    }
    var pgsDates: [GameKey: Set<Date32>] = [:]
    var pgsPairings = Set<Pairing>()
    var pairingsOfGame: [GameKey: Set<Pairing>] = [:]
    for k in rowGames {
      let season = seasons[Int(k.season)]
      guard bySchedule.contains(season) else { continue }
      let key = GameKey(season: season, id: gameNames[Int(k.game)])
      let date = Date32(daysSinceEpoch: k.date)
      let p = pairing(season, date, teamNames[Int(k.team)], teamNames[Int(k.opponent)])
      pgsDates[key, default: []].insert(date)
      pgsPairings.insert(p)
      pairingsOfGame[key, default: []].insert(p)
    }

    struct Scheduled: Hashable {
      var key: GameKey
      var date: Date32
      var home: String
      var away: String
    }
    var scheduledDates: [GameKey: Set<Date32>] = [:]
    var scheduledPairings = Set<Pairing>()
    var inWindow: [Scheduled] = []
    var seen = Set<Scheduled>()
    for r in 0..<schedule.count {
      guard let year = schedule.seasonYear[r], bySchedule.contains(Int(year)), let date = schedule.gameDate[r] else {
        continue
      }
      let season = Int(year)
      let game = Scheduled(
        key: GameKey(season: season, id: schedule.gameId[r] ?? "(no id)"), date: date,
        home: schedule.homeTeamAbbr[r] ?? "?", away: schedule.awayTeamAbbr[r] ?? "?")
      scheduledDates[game.key, default: []].insert(date)
      scheduledPairings.insert(pairing(season, date, game.home, game.away))
      if window.feeds(date), seen.insert(game).inserted { inWindow.append(game) }
    }

    var problems: [(season: Int, date: Date32, text: String)] = []
    var reported = Set<GameKey>()
    for game in inWindow {
      let id = game.key.id
      if pgsDates[game.key]?.contains(game.date) == true { continue }
      if pgsPairings.contains(pairing(game.key.season, game.date, game.home, game.away)) { continue }
      let name = "\(tag(game.key.season))game \(id)"
      guard let dates = pgsDates[game.key] else {
        problems.append(
          (
            game.key.season, game.date,
            "\(name) (\(day(game.date)), \(game.away) at \(game.home)): scheduled, but no player_game_summary rows"
          ))
        continue
      }
      reported.insert(game.key)
      let scheduled = scheduledDates[game.key] ?? [game.date]
      if dates.isDisjoint(with: scheduled) {
        problems.append(
          (
            game.key.season, game.date,
            "\(name): scheduled on \(days(scheduled)), but player_game_summary dates it \(days(dates))"
          ))
      } else {
        problems.append(
          (
            game.key.season, game.date,
            "\(name): scheduled on \(days(scheduled)), but player_game_summary has it only on \(days(dates))"
          ))
      }
    }
    for g in pgsGames where bySchedule.contains(g.season) {
      let key = GameKey(season: g.season, id: gameNames[Int(g.id)])
      if reported.contains(key) { continue }
      if let dates = scheduledDates[key], !dates.isDisjoint(with: g.dates) { continue }
      if pairingsOfGame[key]?.contains(where: { scheduledPairings.contains($0) }) == true { continue }
      let first = g.dates.min() ?? Date32(daysSinceEpoch: 0)
      let on = days(Set(g.dates))
      if let dates = scheduledDates[key] {
        problems.append(
          (
            g.season, first,
            "\(tag(g.season))game \(key.id): scheduled on \(days(dates)), but player_game_summary dates it \(on)"
          ))
      } else {
        problems.append(
          (g.season, first, "\(tag(g.season))game \(key.id) (\(on)): in player_game_summary, but not in the schedule"))
      }
    }
    var checked: [Int: Int] = [:]
    for game in inWindow { checked[game.key.season, default: 0] += 1 }
    return (problems, checked)
  }

  // MARK: value_ranges

  struct Rule {
    var name: String
    var table: String
    var count = 0
    var denominator = 0
    var rows: [String] = []
    init(_ name: String, _ table: String) {
      self.name = name
      self.table = table
    }
    mutating func hit(_ line: String) {
      count += 1
      if rows.count < GateResult.evidenceCap { rows.append(line) }
    }
  }

  func valueRanges() -> GateResult {
    let pgs = source.pgs
    let pcf = source.pcf
    let minMinutes = config.valueRangesUsageMinMinutes
    let reportAbove = config.valueRangesUsageReportAbove
    let failPct = config.valueRangesFailAbovePercent
    let usageMax = config.valueRangesUsageRateMax, minutesMax = config.valueRangesMinutesPlayedMax
    let pointsMax = config.valueRangesPointsMax, fatigueMax = config.valueRangesFatigueScoreMax
    let shotZoneMax = config.valueRangesShotZoneMismatchAbsMax, paceMax = config.valueRangesPaceAbsMax
    let spikeMax = config.valueRangesUsageSpikeAbsMax
    func n(_ x: Double) -> String { Show.number(x) }
    func symmetric(_ name: String, _ bound: Double) -> String {
      bound == 0 ? "\(name) = 0" : "\(name) −\(n(bound))…+\(n(bound))"
    }
    var status = GateStatus.pass
    var marks: [Int: GateStatus] = [:]
    var worst = 0.0
    var summaries: [String] = []
    var offending: [[String]] = []
    var offendingTotal = 0
    var figures: [(Int, String)] = []
    var notes: [String] = []
    // Every season's rules filled in one pass per table; each season's hits stay in row order.
    var rules = seasons.map { _ in
      [
        Rule("usage_rate 0–\(n(usageMax)) where minutes_played ≥ \(n(minMinutes))", "PGS"),
        Rule("minutes_played 0–\(n(minutesMax))", "PGS"), Rule("points 0–\(n(pointsMax))", "PGS"),
        Rule("makes ≤ attempts", "PGS"), Rule("points = 2·FGM + 3PM + FTM", "PGS"),
        Rule("fatigue_score 0–\(n(fatigueMax))", "PCF"),
        Rule(symmetric("shot_zone_mismatch_score", shotZoneMax), "PCF"), Rule(symmetric("pace_score", paceMax), "PCF"),
        Rule(symmetric("usage_spike_score", spikeMax), "PCF"),
        // source-tables.md: "a PERCENTAGE (typical 5–35 …), not a 0–1 ratio". An export that
        // wrote the ratio passes 0–100 on every row. A single value in (0, 1) is a real usage
        // (one free-throw attempt in 31 minutes gives 0.7), so the rule counts such rows only
        // when they are most of the season's measured rows: a percentage column whose median
        // is below 1 is a ratio (see the check after the row pass).
        Rule(
          "usage_rate a percentage, not a 0–1 ratio (most rows with minutes_played ≥ \(Show.number(minMinutes)) in 0 < usage_rate < 1)",
          "PGS"),
        // source-tables.md: player_lookup keeps nothing but [a-z0-9]. Any other key (empty,
        // upper case, accents) matches no PCF row of the normalised spelling and splits a
        // player's history in two.
        Rule("player_lookup normalised ([a-z0-9], not empty)", "PGS"),
        Rule("opponent_team_abbr ≠ team_abbr", "PGS"),
        Rule("player_lookup normalised ([a-z0-9], not empty)", "PCF"),
      ]
    }
    let normalised = playerNames.map { name in
      !name.isEmpty && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
    }
    var usageHigh = [Int](repeating: 0, count: seasons.count)
    var usageMeasured = [Int](repeating: 0, count: seasons.count)
    var pgsRows = [Int](repeating: 0, count: seasons.count)
    var pcfRows = [Int](repeating: 0, count: seasons.count)
    for i in 0..<pgs.count where pgsInActive(i) {
      let s = Int(pgsSeason[i])
      pgsRows[s] += 1
      // Built only for offending rows: formatting a line per row would dominate the gate.
      var at: String { "rowid \(pgs.rowid[i]) \(day(pgs.gameDate.values[i])) \(playerNames[Int(pgsPlayer[i])])" }
      let minutes = pgs.minutesPlayed.values[i]
      if let u = pgs.usageRate[i], minutes >= minMinutes {
        usageMeasured[s] += 1
        if u < 0 || u > usageMax {
          rules[s][0].hit("\(at): usage_rate \(u) at \(Show.number(minutes)) minutes")
        } else if u > reportAbove {
          usageHigh[s] += 1
        } else if u > 0 && u < 1 {
          rules[s][9].hit("\(at): usage_rate \(u) at \(Show.number(minutes)) minutes")
        }
      }
      if !normalised[Int(pgsPlayer[i])] {
        rules[s][10].hit("\(at): player_lookup \"\(playerNames[Int(pgsPlayer[i])])\"")
      }
      if pgsTeam[i] == pgsOpponent[i] {
        rules[s][11].hit("\(at): team_abbr and opponent_team_abbr are both \(teamNames[Int(pgsTeam[i])])")
      }
      if minutes > minutesMax { rules[s][1].hit("\(at): minutes_played \(Show.number(minutes))") }
      if let p = pgs.points[i], p < 0 || Double(p) > pointsMax { rules[s][2].hit("\(at): points \(p)") }
      func over(_ m: Int32?, _ a: Int32?) -> Bool { if let m, let a { m > a } else { false } }
      if over(pgs.fgMakes[i], pgs.fgAttempts[i]) || over(pgs.threePtMakes[i], pgs.threePtAttempts[i])
        || over(pgs.ftMakes[i], pgs.ftAttempts[i])
      {
        let pairs: [(String, Int32?, Int32?)] = [
          ("fg", pgs.fgMakes[i], pgs.fgAttempts[i]), ("three_pt", pgs.threePtMakes[i], pgs.threePtAttempts[i]),
          ("ft", pgs.ftMakes[i], pgs.ftAttempts[i]),
        ]
        let broken = pairs.compactMap { p -> String? in
          guard let m = p.1, let a = p.2, m > a else { return nil }
          return "\(p.0)_makes \(m) > \(p.0)_attempts \(a)"
        }
        rules[s][3].hit("\(at): " + broken.joined(separator: ", "))
      }
      if let p = pgs.points[i], let fgm = pgs.fgMakes[i], let tpm = pgs.threePtMakes[i], let ftm = pgs.ftMakes[i],
        Int(p) != 2 * Int(fgm) + Int(tpm) + Int(ftm)
      {
        rules[s][4].hit("\(at): points \(p) ≠ 2·\(fgm) + \(tpm) + \(ftm) = \(2 * Int(fgm) + Int(tpm) + Int(ftm))")
      }
    }
    // A negative minutes_played makes a row inactive (isActive needs minutes > 0), so the
    // active-row loop above can never see it: without this pass a row with -12 minutes
    // silently turned into a DNP row and the rule "minutes_played 0–70" reported nothing.
    for i in 0..<pgs.count where pgsFlags[i] & 3 == RowFlag.inScope {
      let s = Int(pgsSeason[i])
      guard pgs.minutesPlayed.validity[i], pgs.minutesPlayed.values[i] < 0 else { continue }
      let at = "rowid \(pgs.rowid[i]) \(day(pgs.gameDate.values[i])) \(playerNames[Int(pgsPlayer[i])])"
      rules[s][1].hit("\(at): minutes_played \(Show.number(pgs.minutesPlayed.values[i]))")
      pgsRows[s] += 1
    }
    for i in 0..<pcf.count where pcfIn(i) {
      let s = Int(pcfSeason[i])
      pcfRows[s] += 1
      var at: String { "PCF rowid \(pcf.rowid[i]) \(day(pcf.gameDate.values[i])) \(playerNames[Int(pcfPlayer[i])])" }
      if let v = pcf.fatigueScore[i], v < 0 || Double(v) > fatigueMax { rules[s][5].hit("\(at): fatigue_score \(v)") }
      if let v = pcf.shotZoneMismatchScore[i], abs(v) > shotZoneMax {
        rules[s][6].hit("\(at): shot_zone_mismatch_score \(v)")
      }
      if let v = pcf.paceScore[i], abs(v) > paceMax { rules[s][7].hit("\(at): pace_score \(v)") }
      if let v = pcf.usageSpikeScore[i], abs(v) > spikeMax { rules[s][8].hit("\(at): usage_spike_score \(v)") }
      if !normalised[Int(pcfPlayer[i])] {
        rules[s][12].hit("\(at): player_lookup \"\(playerNames[Int(pcfPlayer[i])])\"")
      }
    }
    for s in seasons.indices where rules[s][9].count * 2 <= usageMeasured[s] {
      rules[s][9] = Rule(rules[s][9].name, rules[s][9].table)
    }
    for (s, season) in seasons.enumerated() {
      let (usageHigh, usageMeasured, pgsRows, pcfRows) = (usageHigh[s], usageMeasured[s], pgsRows[s], pcfRows[s])
      var broken = 0
      var seasonWorst: (Double, Rule)?
      for var r in rules[s] {
        r.denominator = r.table == "PGS" ? pgsRows : pcfRows
        guard r.count > 0 else { continue }
        broken += 1
        let p = Show.ratio(r.count, r.denominator)
        worst = max(worst, p)
        if seasonWorst == nil || p > seasonWorst!.0 { seasonWorst = (p, r) }
        let fails = p > failPct
        if fails { status = .fail } else if status == .pass { status = .warn }
        marks[season] = max(marks[season] ?? .pass, fails ? .fail : .warn)
        summaries.append(
          "\(tag(season))\(r.name): \(Show.count(r.count)) of \(Show.count(r.denominator)) \(r.table == "PGS" ? "active PGS" : "PCF") rows (\(Show.pct(p, decimals: 3, failsAbove: failPct)))\(fails ? ", above \(Show.number(failPct)) %" : "")"
        )
        offending.append(r.rows.map { tag(season) + $0 })
        offendingTotal += r.count
      }
      if usageHigh > 0 {
        notes.append(
          "\(tag(season))usage_rate above \(Show.number(reportAbove)) on \(Show.count(usageHigh)) of \(Show.count(usageMeasured)) rows with minutes_played ≥ \(Show.number(minMinutes)) (\(Show.pct(Show.ratio(usageHigh, usageMeasured), decimals: 2))): reported, never failed"
        )
      }
      if let w = seasonWorst {
        figures.append(
          (
            season,
            "\(broken) rule\(broken == 1 ? "" : "s") broken; worst \(w.1.name): \(Show.count(w.1.count)) of \(Show.count(w.1.denominator)) rows (\(Show.pct(w.0, decimals: 3, failsAbove: failPct)))"
          ))
      } else {
        figures.append(
          (
            season,
            "all \(rules[s].count) rules hold on \(Show.count(pgsRows)) active PGS and \(Show.count(pcfRows)) PCF rows"
          ))
      }
    }
    // Rows taken in turn from each broken rule, so the capped list shows every rule's first rows.
    var interleaved: [String] = []
    for k in 0..<(offending.map(\.count).max() ?? 0) {
      for rows in offending where k < rows.count { interleaved.append(rows[k]) }
    }
    let evidence = summaries + notes + interleaved
    return GateResult(
      name: GateName.valueRanges.rawValue, status: status, figure: perSeason(figures), value: worst,
      threshold: "warn on any; fail above \(Show.number(failPct)) % of rows",
      summary: summaries.first ?? notes.first ?? "every rule holds",
      evidence: evidence, evidenceTotal: summaries.count + notes.count + offendingTotal
    ).with(verdicts(figures, marks))
  }

  // MARK: pcf_staleness

  func pcfStaleness() -> GateResult {
    let pgs = source.pgs
    let pcf = source.pcf
    // Per (player, season): PGS rows by date with the row of the running latest processed_at,
    // so each PCF row asks one binary search "latest re-processing of anything dated before me".
    // Rows are dealt into (player, season) groups by a counting sort over the rows already
    // ordered by date, so each group comes out in (date, row) order with no comparison sort.
    let seasonCount = max(seasons.count, 1)
    let keyCount = playerNames.count * seasonCount
    let processedValid = pgs.processedAt.validity
    @inline(__always) func key(_ i: Int) -> Int {
      let s = Int(pgsSeason[i])
      return s < 0 || !processedValid[i] ? -1 : Int(pgsPlayer[i]) * seasonCount + s
    }
    var start = [Int32](repeating: 0, count: keyCount + 1)
    for i in 0..<pgs.count {
      let k = key(i)
      if k >= 0 { start[k + 1] += 1 }
    }
    for k in 0..<keyCount { start[k + 1] += start[k] }
    let grouped = Int(start[keyCount])
    // `latestRow[n]` first holds the n-th grouped row, then (filled in place, each slot read
    // before it is overwritten) the row with the latest processed_at up to it.
    var latestRow = [Int32](repeating: 0, count: grouped)
    var dates = [Int32](repeating: 0, count: grouped)
    do {
      var fill = start
      for r in pgsByDay.rows {
        let k = key(Int(r))
        guard k >= 0 else { continue }
        latestRow[Int(fill[k])] = r
        fill[k] += 1
      }
    }
    let processed = pgs.processedAt.values
    let gameDates = pgs.gameDate.values
    for k in 0..<keyCount where start[k + 1] > start[k] {
      var best = latestRow[Int(start[k])]
      for n in Int(start[k])..<Int(start[k + 1]) {
        let r = latestRow[n]
        if processed[Int(r)] > processed[Int(best)] { best = r }
        dates[n] = gameDates[Int(r)].daysSinceEpoch
        latestRow[n] = best
      }
    }
    var stale: [(Date32, String, String)] = []
    var staleOf = [Int](repeating: 0, count: seasonCount)
    var checkedOf = [Int](repeating: 0, count: seasonCount)
    var unknownOf = [Int](repeating: 0, count: seasonCount)
    for i in 0..<pcf.count where pcfIn(i) {
      let season = Int(pcfSeason[i])
      guard pcf.processedAt.validity[i] else {
        unknownOf[season] += 1
        continue
      }
      checkedOf[season] += 1
      let k = Int(pcfPlayer[i]) * seasonCount + season
      let date = pcf.gameDate.values[i].daysSinceEpoch
      var lo = Int(start[k])
      var hi = Int(start[k + 1])
      while lo < hi {
        let mid = (lo + hi) / 2
        if dates[mid] < date { lo = mid + 1 } else { hi = mid }
      }
      guard lo > Int(start[k]) else { continue }
      let computed = pcf.processedAt.values[i]
      let j = Int(latestRow[lo - 1])
      if processed[j] > computed {
        staleOf[season] += 1
        let name = playerNames[Int(pcfPlayer[i])]
        stale.append(
          (
            pcf.gameDate.values[i], name,
            "\(tag(seasons[season]))PCF \(day(pcf.gameDate.values[i])) \(name) computed \(stamp(computed)), before PGS \(day(pgs.gameDate.values[j])) (rowid \(pgs.rowid[j])) was re-processed at \(stamp(pgs.processedAt.values[j]))"
          ))
      }
    }
    stale.sort { ($0.0, $0.1) < ($1.0, $1.1) }
    let lines = stale.map(\.2)
    // Per season, as every gate is (GATES.md).
    let figures: [(Int, String)] = seasons.indices.map { k in
      if checkedOf[k] == 0 && unknownOf[k] == 0 { return (seasons[k], "no PCF rows in range") }
      var figure =
        "\(Show.count(staleOf[k])) of \(Show.count(checkedOf[k])) PCF rows older than a PGS row they depend on"
      if unknownOf[k] > 0 { figure += "; \(Show.count(unknownOf[k])) PCF rows without processed_at not checked" }
      return (seasons[k], figure)
    }
    let worst = staleOf.max() ?? 0
    return GateResult(
      name: GateName.pcfStaleness.rawValue, status: worst > config.pcfStalenessFailAbove ? .fail : .pass,
      figure: perSeason(figures), value: Double(worst),
      threshold: config.pcfStalenessFailAbove == 0 ? "fail on any" : "fail above \(config.pcfStalenessFailAbove)",
      summary: lines.first ?? "every PCF row computed after the PGS rows it depends on", evidence: lines
    ).with(
      verdicts(
        figures,
        Dictionary(
          uniqueKeysWithValues: seasons.indices.filter { staleOf[$0] > config.pcfStalenessFailAbove }.map {
            (seasons[$0], GateStatus.fail)
          })))
  }

  // MARK: constant_features

  /// The most frequent value (ties: the smallest) and the number of distinct values, +0.0 and
  /// −0.0 counted as one. A NaN (never equal to itself, so every one its own key) takes the
  /// Dictionary path, which defines the answer; otherwise values are counted by bit pattern in
  /// a `ValueCounts` table.
  static func dominantValue(_ values: [Double]) -> (top: (key: Double, value: Int), distinct: Int) {
    if values.contains(where: \.isNaN) {
      var counts: [Double: Int] = [:]
      for v in values { counts[v, default: 0] += 1 }
      let top = counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }!
      return ((top.key, top.value), counts.count)
    }
    var table = ValueCounts()
    values.map { $0 == 0 ? 0 : $0 }.withUnsafeBufferPointer { table.add(contentsOf: $0) }
    return table.result()
  }

  func constantFeatures() -> GateResult {
    let pcf = source.pcf
    let share = config.constantFeaturesWarnDominantSharePercent
    // fatigue_score is an integer column: read as Double per row, not copied into a Double column.
    enum Values {
      case integers([Int32])
      case doubles([Double])
    }
    let factors: [(String, ValidityBitmap, Values)] = [
      ("fatigue_score", pcf.fatigueScore.validity, .integers(pcf.fatigueScore.values)),
      ("shot_zone_mismatch_score", pcf.shotZoneMismatchScore.validity, .doubles(pcf.shotZoneMismatchScore.values)),
      ("pace_score", pcf.paceScore.validity, .doubles(pcf.paceScore.values)),
      ("usage_spike_score", pcf.usageSpikeScore.validity, .doubles(pcf.usageSpikeScore.values)),
      (
        "total_composite_adjustment", pcf.totalCompositeAdjustment.validity,
        .doubles(pcf.totalCompositeAdjustment.values)
      ),
    ]
    // In-scope rows grouped by season (a counting sort), so each season reads only its rows.
    var seasonStart = [Int](repeating: 0, count: seasons.count + 1)
    for i in 0..<pcf.count where pcfIn(i) { seasonStart[Int(pcfSeason[i]) + 1] += 1 }
    for s in 0..<seasons.count { seasonStart[s + 1] += seasonStart[s] }
    var seasonRows = [Int32](repeating: 0, count: seasonStart[seasons.count])
    do {
      var fill = seasonStart
      for i in 0..<pcf.count where pcfIn(i) {
        let s = Int(pcfSeason[i])
        seasonRows[fill[s]] = Int32(i)
        fill[s] += 1
      }
    }
    var table = ValueCounts()
    var values: [Double] = []
    var status = GateStatus.pass
    var marks: [Int: GateStatus] = [:]
    var figures: [(Int, String)] = []
    var findings: [(Double, String)] = []
    var worst: Double?
    for (s, season) in seasons.enumerated() {
      let rows = seasonRows[seasonStart[s]..<seasonStart[s + 1]]
      guard !rows.isEmpty else {
        figures.append((season, "no PCF rows in range"))
        continue
      }
      var seasonFlagged = 0
      for (name, validity, column) in factors {
        table.reset()
        values.removeAll(keepingCapacity: true)
        var sawNaN = false
        // +0.0 and −0.0 are one value to a model.
        switch column {
        case .integers(let column):
          for r in rows where validity[Int(r)] { values.append(Double(column[Int(r)])) }
        case .doubles(let column):
          for r in rows where validity[Int(r)] {
            let v = column[Int(r)]
            if v.isNaN { sawNaN = true }
            values.append(v == 0 ? 0 : v)
          }
        }
        let nonNull = values.count
        if !sawNaN { values.withUnsafeBufferPointer { table.add(contentsOf: $0) } }
        if nonNull == 0 {
          seasonFlagged += 1
          worst = 100
          findings.append((100, "\(tag(season))\(name): NULL on all \(Show.count(rows.count)) rows"))
          continue
        }
        // NULL is one value to a model too: a factor NULL on 95 % of the rows carries as little
        // as one that is 0 there (a spec audit: only a factor NULL on every row was reported).
        let nullShare = Show.ratio(rows.count - nonNull, rows.count)
        if nullShare > share {
          seasonFlagged += 1
          worst = max(worst ?? nullShare, nullShare)
          findings.append(
            (
              nullShare,
              "\(tag(season))\(name): NULL on \(Show.count(rows.count - nonNull)) of \(Show.count(rows.count)) rows (\(Show.pct(nullShare, failsAbove: share)))"
            ))
          continue
        }
        let (top, distinct) =
          sawNaN
          ? Context.dominantValue(values)
          : table.result()
        let p = Show.ratio(top.value, nonNull)
        worst = max(worst ?? p, p)
        if distinct == 1 {
          seasonFlagged += 1
          findings.append(
            (p, "\(tag(season))\(name): constant \(Show.number(top.key)) on all \(Show.count(nonNull)) non-NULL rows"))
        } else if p > share {
          seasonFlagged += 1
          findings.append(
            (
              p,
              "\(tag(season))\(name): \(Show.number(top.key)) on \(Show.count(top.value)) of \(Show.count(nonNull)) non-NULL rows (\(Show.pct(p, failsAbove: share)))"
            ))
        }
      }
      if seasonFlagged > 0 {
        status = .warn
        marks[season] = .warn
      }
      figures.append(
        (
          season,
          seasonFlagged == 0
            ? "no factor constant or above \(Show.number(share)) % one value in \(Show.count(rows.count)) rows"
            : "\(seasonFlagged) of \(factors.count) factors constant or above \(Show.number(share)) % one value"
        ))
    }
    findings.sort { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
    let lines = findings.map(\.1)
    return GateResult(
      name: GateName.constantFeatures.rawValue, status: status, figure: perSeason(figures), value: worst,
      threshold: "warn above \(Show.number(share)) % one value",
      summary: lines.first ?? "every factor varies", evidence: lines
    ).with(verdicts(figures, marks))
  }
}

/// Counts Double values by bit pattern in an open-addressing table, reused across factors and
/// seasons: the mode and the number of distinct values in one pass, no sort and no Dictionary.
/// The table starts small and grows with the distinct values (a 20-value factor stays in L1
/// instead of clearing and scanning a table sized to 24k rows); key and count share a slot.
/// Callers normalise −0.0 to +0.0 and keep NaN out.
struct ValueCounts {
  static let initialSlots = 1024
  /// Slot s is `table[2s]` (the bit pattern) and `table[2s + 1]` (its count, 0 = empty).
  private var table = [UInt64](repeating: 0, count: 2 * ValueCounts.initialSlots)
  private var slots = ValueCounts.initialSlots
  private var shift = UInt64(64 - ValueCounts.initialSlots.trailingZeroBitCount)
  private(set) var distinct = 0

  /// Empties the table.
  mutating func reset() {
    if slots == Self.initialSlots {
      table.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    } else {
      self = ValueCounts()
    }
    distinct = 0
  }

  mutating func add(contentsOf values: UnsafeBufferPointer<Double>) {
    var next = 0
    while next < values.count {
      // Insert until the table is half full, then grow and go on.
      let limit = slots / 2
      let mask = slots - 1
      let shift = shift
      var distinct = self.distinct
      table.withUnsafeMutableBufferPointer { t in
        while next < values.count && distinct < limit {
          let bits = values[next].bitPattern
          next &+= 1
          // Fibonacci hashing: the top bits of the product, so doubles differing only in their
          // high bits (most round values) still spread.
          var slot = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask
          while t[2 &* slot &+ 1] != 0 && t[2 &* slot] != bits { slot = (slot &+ 1) & mask }
          if t[2 &* slot &+ 1] == 0 {
            t[2 &* slot] = bits
            distinct &+= 1
          }
          t[2 &* slot &+ 1] &+= 1
        }
      }
      self.distinct = distinct
      if next < values.count { grow() }
    }
  }

  private mutating func grow() {
    let old = table
    let oldSlots = slots
    slots *= 4
    shift -= 2
    table = [UInt64](repeating: 0, count: 2 * slots)
    let mask = slots - 1
    let shift = shift
    table.withUnsafeMutableBufferPointer { t in
      for s in 0..<oldSlots where old[2 * s + 1] != 0 {
        let bits = old[2 * s]
        var slot = Int(truncatingIfNeeded: (bits &* 0x9E37_79B9_7F4A_7C15) >> shift) & mask
        while t[2 &* slot &+ 1] != 0 { slot = (slot &+ 1) & mask }
        t[2 &* slot] = bits
        t[2 &* slot &+ 1] = old[2 * s + 1]
      }
    }
  }

  /// The most frequent value, ties to the smallest, and the number of distinct values.
  func result() -> (top: (key: Double, value: Int), distinct: Int) {
    var best = (key: Double.infinity, value: 0)
    table.withUnsafeBufferPointer { t in
      for slot in 0..<slots where t[2 * slot + 1] != 0 {
        let n = Int(t[2 * slot + 1])
        let v = Double(bitPattern: t[2 * slot])
        if n > best.value || (n == best.value && v < best.key) { best = (v, n) }
      }
    }
    return (best, distinct)
  }
}
