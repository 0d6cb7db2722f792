// The fast read path against two references: a naive read of the same file through the plain
// `Statement` API (every row, converted value by value, filtered and ordered in Swift), and the
// checked path it falls back to. Randomized files hold what real exports do: NULLs, whole
// REALs in INTEGER columns, integers in REAL columns, non-ASCII text, seasons whose rows
// interleave in rowid order, with and without the season_year index and a schedule table.
import Columnar
import Foundation
import Testing

@testable import SQLiteSource
import TestSupport

private typealias Rng = SeededRandom

/// A value as bound into the file.
private enum Value {
  case null, int(Int64), real(Double), text(String)
}

/// The column kinds the contract gives (source-tables.md), written out here independently.
private enum Kind { case textRequired, textOptional, intRequired, intOptional, real, flag, date, timestamp }

private let pgsSchema: [(String, Kind)] = {
  var s: [(String, Kind)] = [
    ("player_lookup", .textRequired), ("player_full_name", .textOptional), ("universal_player_id", .textOptional),
    ("game_id", .textRequired), ("game_date", .date), ("season_year", .intRequired), ("team_abbr", .textRequired),
    ("opponent_team_abbr", .textRequired), ("is_home", .flag), ("minutes_played", .real),
  ]
  let counts: [String] = [
    "points", "fg_makes", "fg_attempts", "three_pt_makes", "three_pt_attempts", "ft_makes", "ft_attempts",
    "offensive_rebounds", "defensive_rebounds", "assists", "steals", "blocks", "turnovers", "personal_fouls",
    "plus_minus",
  ]
  for name in counts { s.append((name, .intOptional)) }
  s += [("usage_rate", .real), ("is_dnp", .flag), ("processed_at", .timestamp)]
  return s
}()

private let pcfSchema: [(String, Kind)] = [
  ("player_lookup", .textRequired), ("game_date", .date), ("game_id", .textRequired), ("fatigue_score", .intOptional),
  ("shot_zone_mismatch_score", .real), ("pace_score", .real), ("usage_spike_score", .real),
  ("total_composite_adjustment", .real), ("calculation_version", .textOptional), ("processed_at", .timestamp),
]

private let scheduleSchema: [(String, Kind)] = [
  ("game_id", .textRequired), ("game_date", .date), ("season_year", .intRequired), ("home_team_abbr", .textRequired),
  ("away_team_abbr", .textRequired),
]

private let names = [
  "Nikola Jokić", "Luka Dončić", "Bojan Bogdanović", "Dāvis Bertāns", "Ömer Yurtseven", "LeBron James", "",
  "名前", "🏀 emoji", "O'Neal", "Robert'); DROP TABLE player_game_summary; --", String(repeating: "long", count: 40),
]

private struct TempDir {
  let dir = NSTemporaryDirectory() + "fast-read-tests-" + UUID().uuidString
  init() { try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
  func path(_ name: String) -> String { dir + "/" + name }
  func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

private func iso(_ d: Date32) -> String { CivilDate(d).description }

/// A valid value of `kind`, sometimes in a storage class SQLite keeps only without column
/// affinity (the tables are declared without types, so every value keeps its class).
private func value(_ kind: Kind, _ g: inout Rng, date: Date32, season: Int) -> Value {
  switch kind {
  case .textRequired: return .text(g.pick(names))
  case .textOptional: return g.chance(20) ? .null : .text(g.pick(names))
  case .intRequired: return .int(Int64(season))
  case .intOptional:
    switch g.below(10) {
    case 0: return .null
    case 1: return .real(Double(g.below(60)))  // a whole REAL, as some exports write counts
    case 2: return .int(g.chance(50) ? Int64(Int32.max) : Int64(Int32.min))
    default: return .int(Int64(g.below(80)) - 20)
    }
  case .real:
    switch g.below(6) {
    case 0: return .null
    case 1: return .int(Int64(g.below(50)))  // an integer in a REAL column
    case 2: return .real(-0.0)
    default: return .real(Double(g.below(1_000_000)) / 997)
    }
  case .flag:
    // A whole REAL 0.0 or 1.0, as a dataframe's REAL column writes a flag.
    return g.chance(15) ? .null : g.chance(15) ? .real(Double(g.below(2))) : .int(Int64(g.below(2)))
  case .date: return .text(iso(date))
  case .timestamp:
    switch g.below(4) {
    case 0: return .null
    case 1: return .text("\(iso(date)) 12:34:56.123456+02:00")
    default: return .text("\(iso(date))T0\(g.below(10)):00:00Z")
    }
  }
}

private func createTable(_ c: Connection, _ table: String, _ schema: [(String, Kind)]) throws {
  try c.execute("CREATE TABLE \(table) (\(schema.map(\.0).joined(separator: ", ")))")
}

private func insert(_ c: Connection, _ table: String, _ schema: [(String, Kind)], rows: [[Value]], rowids: [Int64])
  throws
{
  let st = try c.prepare(
    "INSERT INTO \(table) (rowid, \(schema.map(\.0).joined(separator: ", "))) VALUES (\((0...schema.count).map { "?\($0 + 1)" }.joined(separator: ", ")))"
  )
  for (row, rowid) in zip(rows, rowids) {
    st.reset()
    try st.bind(1, rowid)
    for (k, v) in row.enumerated() {
      let i = Int32(k + 2)
      switch v {
      case .null: try st.bind(i, nil as Int64?)
      case .int(let x): try st.bind(i, x)
      case .real(let x): try st.bind(i, x)
      case .text(let x): try st.bind(i, x)
      }
    }
    _ = try st.step()
  }
}

/// Writes a randomized league: `seasons` each with some days of PGS and PCF rows, rowids
/// shuffled across seasons when `interleave`.
private func makeLeague(
  _ path: String, seed: UInt64, seasons: [Int], interleave: Bool, seasonIndex: Bool, schedule: Bool
) throws {
  var g = Rng(state: seed)
  let c = try Connection(path: path, mode: .readWriteCreate)
  try createTable(c, "player_game_summary", pgsSchema)
  try createTable(c, "player_composite_factors", pcfSchema)
  if seasonIndex { try c.execute("CREATE INDEX player_game_summary_season_year ON player_game_summary(season_year)") }
  var pgs: [[Value]] = [], pcf: [[Value]] = [], sched: [[Value]] = []
  for season in seasons {
    let range = Season.dateRange(season)
    for _ in 0..<(40 + g.below(60)) {
      let date = range.lowerBound.adding(days: g.below(range.upperBound.days(since: range.lowerBound) + 1))
      pgs.append(pgsSchema.map { value($0.1, &g, date: date, season: season) })
    }
    for _ in 0..<(30 + g.below(50)) {
      let date = range.lowerBound.adding(days: g.below(range.upperBound.days(since: range.lowerBound) + 1))
      pcf.append(pcfSchema.map { value($0.1, &g, date: date, season: season) })
    }
    for _ in 0..<5 {
      let date = range.lowerBound.adding(days: g.below(200))
      sched.append(scheduleSchema.map { value($0.1, &g, date: date, season: season) })
    }
  }
  func rowids(_ n: Int) -> [Int64] {
    var ids = (1...Int64(n)).map { $0 * 3 }  // gaps, as after deletes
    if interleave { for i in stride(from: n - 1, to: 0, by: -1) { ids.swapAt(i, g.below(i + 1)) } }
    return ids
  }
  try c.execute("BEGIN")
  try insert(c, "player_game_summary", pgsSchema, rows: pgs, rowids: rowids(pgs.count))
  try insert(c, "player_composite_factors", pcfSchema, rows: pcf, rowids: rowids(pcf.count))
  if schedule {
    try createTable(c, "schedule", scheduleSchema)
    try insert(c, "schedule", scheduleSchema, rows: sched, rowids: rowids(sched.count))
  }
  try c.execute("COMMIT")
}

/// One naively read table: every column's values as Swift optionals, in the order kept.
private struct NaiveTable {
  var rowid: [Int64] = []
  var columns: [[Any?]]
}

/// `SELECT rowid, * … ORDER BY rowid`, each value converted by the contract's rule for its kind.
private func naiveRead(_ c: Connection, _ table: String, _ schema: [(String, Kind)], keep: (Int64, [Any?]) -> Bool)
  throws
  -> NaiveTable
{
  var out = NaiveTable(columns: Array(repeating: [], count: schema.count))
  let st = try c.prepare("SELECT rowid, \(schema.map(\.0).joined(separator: ", ")) FROM \(table) ORDER BY rowid")
  while try st.step() {
    var row: [Any?] = []
    for (k, (_, kind)) in schema.enumerated() {
      let i = Int32(k + 1)
      let v: Any?
      switch (kind, st.storageClass(i)) {
      case (_, .null): v = nil
      case (.textRequired, _), (.textOptional, _): v = st.text(i)
      case (.intRequired, .real), (.intOptional, .real): v = Int32(st.double(i))
      case (.intRequired, _), (.intOptional, _): v = Int32(st.int64(i))
      case (.real, .integer): v = Double(st.int64(i))
      case (.real, _): v = st.double(i)
      case (.flag, _): v = st.int64(i) == 1
      case (.date, _): v = Date32(iso: st.text(i)!)
      case (.timestamp, _): v = Timestamp.parseMicros(st.text(i)!)
      }
      row.append(v)
    }
    if keep(st.int64(0), row) {
      out.rowid.append(st.int64(0))
      for k in row.indices { out.columns[k].append(row[k]) }
    }
  }
  return out
}

private func values(_ c: StringColumn) -> [Any?] { (0..<c.count).map { c[$0] } }
private func values<E>(_ c: Column<E>) -> [Any?] { (0..<c.count).map { c[$0] } }

private func same(_ a: [Any?], _ b: [Any?]) -> Bool {
  guard a.count == b.count else { return false }
  for (x, y) in zip(a, b) {
    switch (x, y) {
    case (nil, nil): continue
    case (let x as String, let y as String): if x != y { return false }
    case (let x as Int32, let y as Int32): if x != y { return false }
    case (let x as Int64, let y as Int64): if x != y { return false }
    case (let x as Double, let y as Double): if x.bitPattern != y.bitPattern { return false }
    case (let x as Bool, let y as Bool): if x != y { return false }
    case (let x as Date32, let y as Date32): if x != y { return false }
    default: return false
    }
  }
  return true
}

private func pgsColumns(_ p: PlayerGameSummary) -> [[Any?]] {
  var out: [[Any?]] = [
    values(p.playerLookup), values(p.playerFullName), values(p.universalPlayerId), values(p.gameId), values(p.gameDate),
  ]
  out += [
    values(p.seasonYear), values(p.teamAbbr), values(p.opponentTeamAbbr), values(p.isHome), values(p.minutesPlayed),
  ]
  for c in p.integerStatColumns { out.append(values(c.column)) }
  out += [values(p.usageRate), values(p.isDnp), values(p.processedAt)]
  return out
}

private func pcfColumns(_ p: PlayerCompositeFactors) -> [[Any?]] {
  [
    values(p.playerLookup), values(p.gameDate), values(p.gameId), values(p.fatigueScore),
    values(p.shotZoneMismatchScore), values(p.paceScore), values(p.usageSpikeScore),
    values(p.totalCompositeAdjustment), values(p.calculationVersion), values(p.processedAt),
  ]
}

private struct LeagueCase: CustomTestStringConvertible, Sendable {
  var seed: UInt64
  var interleave: Bool
  var seasonIndex: Bool
  var schedule: Bool
  var testDescription: String {
    "seed \(seed)\(interleave ? ", interleaved rowids" : "")\(seasonIndex ? ", season index" : "")\(schedule ? ", schedule" : "")"
  }
}

private let leagueCases: [LeagueCase] = (0..<8).map { (i: Int) -> LeagueCase in
  LeagueCase(seed: 20_231_024 + UInt64(i), interleave: i % 2 == 1, seasonIndex: i % 4 < 2, schedule: i % 3 == 0)
}

@Suite struct FastReadTests {
  /// Every requested subset of seasons reads exactly what a naive SELECT reads, value by value,
  /// and exactly what the checked path reads, struct for struct.
  @Test(arguments: leagueCases)
  fileprivate func readsWhatANaiveSelectReads(_ c: LeagueCase) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    let seasons = [2015, 2016, 2017, 2019, 2020]
    try makeLeague(
      db, seed: c.seed, seasons: seasons, interleave: c.interleave, seasonIndex: c.seasonIndex, schedule: c.schedule)
    let reader = SourceReader(path: db)
    let naive = try Connection(path: db)
    for requested in [seasons, [2017], [2020, 2015], [2016, 2017, 2020], [2019, 2016, 2015, 2020]] {
      let data = try reader.read(seasons: requested)
      let wanted = Set(requested)
      #expect(data.seasons == requested.sorted())

      let pgs = try naiveRead(naive, "player_game_summary", pgsSchema) { _, row in
        wanted.contains(Int(row[5] as! Int32))
      }
      #expect(data.pgs.rowid == pgs.rowid, "\(c) \(requested)")
      for (k, column) in pgsColumns(data.pgs).enumerated() {
        #expect(same(column, pgs.columns[k]), "\(c) \(requested): player_game_summary.\(pgsSchema[k].0)")
      }

      // PCF: season by season, each season in rowid order.
      var pcfRowid: [Int64] = []
      var pcfExpected: [[Any?]] = Array(repeating: [], count: pcfSchema.count)
      for season in requested.sorted() {
        let part = try naiveRead(naive, "player_composite_factors", pcfSchema) { _, row in
          Season.dateRange(season).contains(row[1] as! Date32)
        }
        pcfRowid += part.rowid
        for k in pcfExpected.indices { pcfExpected[k] += part.columns[k] }
      }
      #expect(data.pcf.rowid == pcfRowid, "\(c) \(requested)")
      for (k, column) in pcfColumns(data.pcf).enumerated() {
        #expect(same(column, pcfExpected[k]), "\(c) \(requested): player_composite_factors.\(pcfSchema[k].0)")
      }

      if c.schedule {
        let s = try naiveRead(naive, "schedule", scheduleSchema) { _, row in wanted.contains(Int(row[2] as! Int32)) }
        let sc = try #require(data.schedule)
        let got = [
          values(sc.gameId), values(sc.gameDate), values(sc.seasonYear), values(sc.homeTeamAbbr),
          values(sc.awayTeamAbbr),
        ]
        for k in got.indices {
          #expect(same(got[k], s.columns[k]), "\(c) \(requested): schedule.\(scheduleSchema[k].0)")
        }
      } else {
        #expect(data.schedule == nil)
      }

      // The fast path itself answered (nothing here is a value it declines).
      #expect(try reader.readFast(try reader.open(), seasons: requested.sorted()) != nil)
      let checked = try reader.readChecked(try reader.open(), seasons: requested.sorted())
      #expect(data.pgs == checked.pgs, "\(c) \(requested)")
      #expect(data.pcf == checked.pcf, "\(c) \(requested)")
      #expect(data.schedule == checked.schedule, "\(c) \(requested)")
    }
  }

  /// Seasons written in reverse order, so season index order is not rowid order.
  @Test func seasonsWrittenOutOfOrderFastEqualsChecked() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    let c = try Connection(path: db, mode: .readWriteCreate)
    try createTable(c, "player_game_summary", pgsSchema)
    try createTable(c, "player_composite_factors", pcfSchema)
    try makeLeagueRows(c, seed: 7)
    let reader = SourceReader(path: db)
    let fast = try #require(try reader.readFast(try reader.open(), seasons: [2021, 2022]))
    let checked = try reader.readChecked(try reader.open(), seasons: [2021, 2022])
    #expect(fast.pgs == checked.pgs)
    #expect(fast.pcf == checked.pcf)
    #expect(fast.pgs.count > 0 && fast.pcf.count > 0)
  }

  private func makeLeagueRows(_ c: Connection, seed: UInt64) throws {
    var g = Rng(state: seed)
    try c.execute("CREATE INDEX player_game_summary_season_year ON player_game_summary(season_year)")
    for season in [2022, 2021] {
      let d = Season.dateRange(season).lowerBound.adding(days: 20)
      try insert(
        c, "player_game_summary", pgsSchema,
        rows: (0..<50).map { _ in pgsSchema.map { value($0.1, &g, date: d, season: season) } },
        rowids: (0..<50).map { Int64(season == 2022 ? $0 + 1 : 1000 + $0) })
      try insert(
        c, "player_composite_factors", pcfSchema,
        rows: (0..<50).map { _ in pcfSchema.map { value($0.1, &g, date: d, season: season) } },
        rowids: (0..<50).map { Int64(season == 2022 ? $0 + 1 : 1000 + $0) })
    }
  }
}

/// One bad value in the middle of a good league, and the exact message the reader gives.
private struct BadValueCase: CustomTestStringConvertible, Sendable {
  var table: String
  var column: String
  /// SQL literal stored at rowid `badRowid`.
  var literal: String
  var message: String
  var testDescription: String { "\(table).\(column) = \(literal)" }
}

private let badRowid: Int64 = 3 * 37

private let badValueCases: [BadValueCase] = [
  .init(
    table: "player_game_summary", column: "player_lookup", literal: "NULL",
    message: "player_game_summary.player_lookup at rowid 111 is NULL, but the column is NOT NULL"),
  .init(
    table: "player_game_summary", column: "player_full_name", literal: "x'00ff'",
    message: "player_game_summary.player_full_name at rowid 111 holds a BLOB, expected TEXT"),
  .init(
    table: "player_game_summary", column: "team_abbr", literal: "12",
    message: "player_game_summary.team_abbr at rowid 111 holds 12, expected TEXT"),
  .init(
    table: "player_game_summary", column: "player_full_name", literal: "CAST(x'4C75C3A86B61FF' AS TEXT)",
    message:
      "player_game_summary.player_full_name at rowid 111 holds 'Lu\\xC3\\xA8ka\\xFF', bytes that are not valid UTF-8, expected UTF-8 text"
  ),
  .init(
    table: "player_game_summary", column: "points", literal: "'twelve'",
    message: "player_game_summary.points at rowid 111 holds 'twelve', expected an INTEGER"),
  .init(
    table: "player_game_summary", column: "points", literal: "12.5",
    message: "player_game_summary.points at rowid 111 holds 12.5, expected an INTEGER"),
  .init(
    table: "player_game_summary", column: "points", literal: "2147483648",
    message: "player_game_summary.points at rowid 111 holds 2147483648, expected an INTEGER within ±2147483647"),
  .init(
    table: "player_game_summary", column: "points", literal: "9e999",
    message: "player_game_summary.points at rowid 111 holds inf, expected an INTEGER"),
  .init(
    table: "player_game_summary", column: "minutes_played", literal: "'31:20'",
    message: "player_game_summary.minutes_played at rowid 111 holds '31:20', expected a REAL"),
  .init(
    table: "player_game_summary", column: "usage_rate", literal: "-9e999",
    message: "player_game_summary.usage_rate at rowid 111 holds -inf, expected a finite REAL"),
  .init(
    table: "player_game_summary", column: "is_home", literal: "2",
    message: "player_game_summary.is_home at rowid 111 holds 2, expected 0, 1 or NULL"),
  .init(
    table: "player_game_summary", column: "is_dnp", literal: "0.5",
    message: "player_game_summary.is_dnp at rowid 111 holds 0.5, expected 0, 1 or NULL"),
  .init(
    table: "player_game_summary", column: "game_date", literal: "'2016-02-30'",
    message: "player_game_summary.game_date at rowid 111 holds '2016-02-30', expected a real calendar date YYYY-MM-DD"),
  .init(
    table: "player_game_summary", column: "game_date", literal: "20160201",
    message: "player_game_summary.game_date at rowid 111 holds 20160201, expected a date as TEXT YYYY-MM-DD"),
  .init(
    table: "player_game_summary", column: "game_date", literal: "NULL",
    message: "player_game_summary.game_date at rowid 111 is NULL, but the column is NOT NULL"),
  .init(
    table: "player_game_summary", column: "processed_at", literal: "'yesterday'",
    message:
      "player_game_summary.processed_at at rowid 111 holds 'yesterday', expected an ISO 8601 UTC time like 2023-01-05T12:34:56Z"
  ),
  .init(
    table: "player_game_summary", column: "processed_at", literal: "1700000000",
    message: "player_game_summary.processed_at at rowid 111 holds 1700000000, expected an ISO 8601 UTC time as TEXT"),
  .init(
    table: "player_game_summary", column: "season_year", literal: "'2015'",
    message: "player_game_summary.season_year at rowid 111 holds '2015', expected an INTEGER"),
  .init(
    table: "player_composite_factors", column: "game_id", literal: "NULL",
    message: "player_composite_factors.game_id at rowid 111 is NULL, but the column is NOT NULL"),
  .init(
    table: "player_composite_factors", column: "fatigue_score", literal: "50.5",
    message: "player_composite_factors.fatigue_score at rowid 111 holds 50.5, expected an INTEGER"),
  .init(
    table: "player_composite_factors", column: "pace_score", literal: "'fast'",
    message: "player_composite_factors.pace_score at rowid 111 holds 'fast', expected a REAL"),
  .init(
    table: "player_composite_factors", column: "calculation_version", literal: "x'01'",
    message: "player_composite_factors.calculation_version at rowid 111 holds a BLOB, expected TEXT"),
  .init(
    table: "player_composite_factors", column: "processed_at", literal: "'2024-01-01T25:00:00Z'",
    message:
      "player_composite_factors.processed_at at rowid 111 holds '2024-01-01T25:00:00Z', expected an ISO 8601 UTC time like 2023-01-05T12:34:56Z"
  ),
  .init(
    table: "player_composite_factors", column: "game_date", literal: "'2016-13-01'",
    message:
      "player_composite_factors.game_date at rowid 111 holds '2016-13-01', expected a real calendar date YYYY-MM-DD"),
  .init(
    table: "player_composite_factors", column: "game_date", literal: "'2016-01-01 '",
    message:
      "player_composite_factors.game_date at rowid 111 holds '2016-01-01 ', expected a real calendar date YYYY-MM-DD"),
]

@Suite struct FastReadErrorTests {
  @Test(arguments: badValueCases)
  fileprivate func badValueInTheMiddleIsNamed(_ c: BadValueCase) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, seed: 99, seasons: [2015, 2016], interleave: false, seasonIndex: true, schedule: false)
    try Connection(path: db, mode: .readWriteCreate).execute(
      "UPDATE \(c.table) SET \(c.column) = \(c.literal) WHERE rowid = \(badRowid)")
    #expect(throws: SourceError.self) { try SourceReader(path: db).read(seasons: [2015, 2016]) }
    do {
      _ = try SourceReader(path: db).read(seasons: [2015, 2016])
    } catch {
      #expect(error.description == "\(db): \(c.message)")
    }
  }

  /// With two bad rows in different seasons the checked path's order decides which is named:
  /// PGS in rowid order over all seasons, PCF season by season.
  @Test func firstBadRowIsTheCheckedPathsFirst() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, seed: 5, seasons: [2015, 2016], interleave: true, seasonIndex: true, schedule: false)
    let c = try Connection(path: db, mode: .readWriteCreate)
    // The lowest-rowid 2016 row and the highest-rowid 2015 row.
    func rowid(_ sql: String) throws -> Int64 {
      let st = try c.prepare(sql)
      _ = try st.step()
      return st.int64(0)
    }
    let pgs2016 = try rowid("SELECT min(rowid) FROM player_game_summary WHERE season_year = 2016")
    let pgs2015 = try rowid("SELECT max(rowid) FROM player_game_summary WHERE season_year = 2015")
    try c.execute("UPDATE player_game_summary SET points = 'x' WHERE rowid IN (\(pgs2016), \(pgs2015))")
    let first = min(pgs2016, pgs2015)
    #expect(
      (try? SourceReader(path: db).read(seasons: [2015, 2016])).map { _ in "" } == nil)
    do {
      _ = try SourceReader(path: db).read(seasons: [2015, 2016])
    } catch {
      #expect(error.description == "\(db): player_game_summary.points at rowid \(first) holds 'x', expected an INTEGER")
    }
    try c.execute("UPDATE player_game_summary SET points = 1")

    let pcf2016 = try rowid("SELECT min(rowid) FROM player_composite_factors WHERE game_date >= '2016-10-01'")
    let pcf2015 = try rowid("SELECT max(rowid) FROM player_composite_factors WHERE game_date < '2016-10-01'")
    #expect(pcf2016 < pcf2015)
    try c.execute("UPDATE player_composite_factors SET pace_score = 'x' WHERE rowid IN (\(pcf2016), \(pcf2015))")
    do {
      _ = try SourceReader(path: db).read(seasons: [2015, 2016])
      Issue.record("read a PCF pace_score 'x'")
    } catch {
      #expect(
        error.description == "\(db): player_composite_factors.pace_score at rowid \(pcf2015) holds 'x', expected a REAL"
      )
    }
  }

  /// A bad PCF date in a season nobody asked for still stops the read, naming its row.
  @Test func badDateOutsideTheRequestedSeasonsIsNamed() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, seed: 6, seasons: [2015, 2016], interleave: false, seasonIndex: true, schedule: false)
    try Connection(path: db, mode: .readWriteCreate).execute(
      "UPDATE player_composite_factors SET game_date = '18/10/2016' WHERE rowid = (SELECT max(rowid) FROM player_composite_factors)"
    )
    let last = try { () throws -> Int64 in
      let st = try Connection(path: db).prepare("SELECT max(rowid) FROM player_composite_factors")
      _ = try st.step()
      return st.int64(0)
    }()
    do {
      _ = try SourceReader(path: db).read(seasons: [2015])
      Issue.record("read a PCF date 18/10/2016")
    } catch {
      #expect(
        error.description
          == "\(db): player_composite_factors.game_date at rowid \(last) holds '18/10/2016', expected a real calendar date YYYY-MM-DD"
      )
    }
  }
}
