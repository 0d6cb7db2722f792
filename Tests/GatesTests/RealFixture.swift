// Builds a source database from the real NBA.com 2022-23 box scores in ../shared/realdata, the
// way the importer does (source-tables.md mapping, usage_rate from summed team totals), plus a
// PCF table derived point-in-time from earlier games. Damaged copies of it are the failing
// fixtures: each test copies the database and breaks it with SQL the way real exports break.
import Columnar
import Foundation
import SQLiteSource
import Testing

enum FixtureError: Error, CustomStringConvertible {
  case missing(String)
  case badRow(line: Int, detail: String)
  var description: String {
    switch self {
    case .missing(let p): return "real data not found at \(p)"
    case .badRow(let line, let detail): return "player_logs_2022-23.csv line \(line): \(detail)"
    }
  }
}

enum RealFixture {
  static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let csvPath = repoRoot.deletingLastPathComponent().appendingPathComponent(
    "shared/realdata/raw/antbap23_player_logs/player_logs_2022-23.csv"
  ).path
  static let scratch: String = {
    let dir = NSTemporaryDirectory() + "gates-tests-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }()

  /// The undamaged database, built once per test process.
  static let base: Result<String, Error> = Result { try build(to: scratch + "/base.sqlite") }

  /// A private copy of the undamaged database, with `damage` SQL applied.
  static func copy(_ name: String, damage: String? = nil) throws -> String {
    let src = try base.get()
    let dst = scratch + "/\(name).sqlite"
    try? FileManager.default.removeItem(atPath: dst)
    try FileManager.default.copyItem(atPath: src, toPath: dst)
    if let damage {
      let c = try Connection(path: dst, mode: .readWriteCreate)
      try c.execute(damage)
    }
    return dst
  }

  /// Runs a query returning one number: the naive reference the gate figures are checked against.
  static func scalar(_ path: String, _ sql: String) throws -> Double {
    let c = try Connection(path: path, mode: .readOnly)
    let st = try c.prepare(sql)
    guard try st.step() else { return .nan }
    return st.double(0)
  }

  static func strings(_ path: String, _ sql: String) throws -> [String] {
    let c = try Connection(path: path, mode: .readOnly)
    let st = try c.prepare(sql)
    var out: [String] = []
    while try st.step() { out.append(st.text(0) ?? "NULL") }
    return out
  }

  /// source-tables.md: NFKD, diacritics dropped, lower case, everything but [a-z0-9] removed.
  static func lookup(_ name: String) -> String {
    String(
      String.UnicodeScalarView(
        name.decomposedStringWithCompatibilityMapping.lowercased().unicodeScalars.filter {
          ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9")
        }))
  }

  struct Row {
    var name: String
    var playerId: String
    var team: String
    var gameId: String
    var date: Date32
    var matchup: String
    var stats: [Int]  // MIN PTS FGM FGA FG3M FG3A FTM FTA OREB DREB AST STL BLK TOV PF PLUS_MINUS
    var opponent = ""
    var usage: Double?
  }

  static func build(to path: String) throws -> String {
    guard let text = try? String(contentsOfFile: csvPath, encoding: .utf8) else { throw FixtureError.missing(csvPath) }
    var rows: [Row] = []
    let statColumns = [10, 11, 12, 13, 15, 16, 18, 19, 21, 22, 24, 25, 26, 27, 28, 29]
    for (n, line) in text.split(separator: "\n").enumerated() where n > 0 {
      let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      guard f.count == 31, let date = Date32(iso: f[7]) else { throw FixtureError.badRow(line: n + 1, detail: "\(f.count) fields") }
      var stats: [Int] = []
      for k in statColumns {
        guard let v = Int(f[k]) else { throw FixtureError.badRow(line: n + 1, detail: "column \(k) = '\(f[k])'") }
        stats.append(v)
      }
      rows.append(Row(name: f[2], playerId: f[1], team: f[4], gameId: f[6], date: date, matchup: f[8], stats: stats))
    }
    // Opponent: the other team with the same game id (MATCHUP can be wrong for neutral sites).
    var teamsOfGame: [String: Set<String>] = [:]
    struct Totals {
      var fga = 0, fta = 0, tov = 0, minutes = 0
    }
    var totals: [String: Totals] = [:]
    for r in rows {
      teamsOfGame[r.gameId, default: []].insert(r.team)
      var t = totals[r.gameId + r.team] ?? Totals()
      t.minutes += r.stats[0]
      t.fga += r.stats[3]
      t.fta += r.stats[7]
      t.tov += r.stats[13]
      totals[r.gameId + r.team] = t
    }
    for i in rows.indices {
      rows[i].opponent = teamsOfGame[rows[i].gameId]?.first { $0 != rows[i].team } ?? ""
      let t = totals[rows[i].gameId + rows[i].team]!
      let minutes = Double(rows[i].stats[0])
      let teamPoss = Double(t.fga) + 0.44 * Double(t.fta) + Double(t.tov)
      let overtimes = max(0, Int((Double(t.minutes - 240) / 25).rounded()))
      let teamMinutes = Double(240 + 25 * overtimes)
      if minutes > 0 && teamPoss > 0 {
        let poss = Double(rows[i].stats[3]) + 0.44 * Double(rows[i].stats[7]) + Double(rows[i].stats[13])
        rows[i].usage = 100 * poss * (teamMinutes / 5) / (minutes * teamPoss)
      }
    }
    try? FileManager.default.removeItem(atPath: path)
    let c = try Connection(path: path, mode: .readWriteCreate)
    try c.execute(String(contentsOfFile: repoRoot.appendingPathComponent("Schemas/source.sql").path, encoding: .utf8))
    try c.execute("BEGIN")
    let insert = try c.prepare(
      """
      INSERT INTO player_game_summary (player_lookup, player_full_name, universal_player_id, game_id, game_date,
        season_year, team_abbr, opponent_team_abbr, is_home, minutes_played, points, fg_makes, fg_attempts,
        three_pt_makes, three_pt_attempts, ft_makes, ft_attempts, offensive_rebounds, defensive_rebounds, assists,
        steals, blocks, turnovers, personal_fouls, plus_minus, usage_rate, is_dnp, processed_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
        ?23, ?24, ?25, ?26, ?27, ?28)
      """)
    for r in rows {
      try insert.bind(1, lookup(r.name))
      try insert.bind(2, r.name)
      try insert.bind(3, r.playerId)
      try insert.bind(4, r.gameId)
      try insert.bind(5, CivilDate(r.date).description)
      try insert.bind(6, Season.startYear(of: r.date))
      try insert.bind(7, r.team)
      try insert.bind(8, r.opponent)
      try insert.bind(9, r.matchup.contains("vs.") ? 1 : 0)
      try insert.bind(10, Double(r.stats[0]))
      for k in 1..<16 { try insert.bind(Int32(10 + k), r.stats[k]) }
      try insert.bind(26, r.usage)
      try insert.bind(27, r.stats[0] == 0 ? 1 : 0)
      // Phase 3 writes a game's rows the morning after it.
      try insert.bind(28, CivilDate(r.date.adding(days: 1)).description + "T09:00:00Z")
      try insert.run()
    }
    try writeFactors(c, rows)
    try c.execute("COMMIT")
    return path
  }

  /// PCF as upstream computes it: one row per player per game date after the bootstrap days,
  /// from that player's games strictly before the date, written at noon UTC of the date.
  static func writeFactors(_ c: Connection, _ rows: [Row]) throws {
    guard let opening = rows.map(\.date).min() else { return }
    let byPlayer = Dictionary(grouping: rows.indices, by: { lookup(rows[$0].name) })
    let insert = try c.prepare(
      """
      INSERT INTO player_composite_factors (player_lookup, game_date, game_id, fatigue_score, shot_zone_mismatch_score,
        pace_score, usage_spike_score, total_composite_adjustment, calculation_version, processed_at)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'fixture-1', ?9)
      """)
    for (player, indices) in byPlayer.sorted(by: { $0.key < $1.key }) {
      let games = indices.sorted { rows[$0].date < rows[$1].date }
      for (k, i) in games.enumerated() {
        let r = rows[i]
        guard r.date.days(since: opening) >= SeasonCalendar.bootstrapDays else { continue }
        let prior = games[max(0, k - 10)..<k].map { rows[$0] }
        let rest = k > 0 ? r.date.days(since: rows[games[k - 1]].date) : 7
        let fatigue = min(100, 40 + 20 * min(rest, 3))
        let fga = prior.reduce(0) { $0 + $1.stats[3] }
        let fg3a = prior.reduce(0) { $0 + $1.stats[5] }
        let shotZone = fga > 0 ? max(-10, min(10, (Double(fg3a) / Double(fga) - 0.35) * 20)) : 0
        let avgMinutes = prior.isEmpty ? 20 : Double(prior.reduce(0) { $0 + $1.stats[0] }) / Double(prior.count)
        let pace = max(-3, min(3, (avgMinutes - 20) / 8))
        let usages = prior.compactMap(\.usage)
        var spike = 0.0
        if let last = usages.last, usages.count > 1 {
          spike = max(-3, min(3, (last - usages.reduce(0, +) / Double(usages.count)) / 5))
        }
        try insert.bind(1, player)
        try insert.bind(2, CivilDate(r.date).description)
        try insert.bind(3, r.gameId)
        try insert.bind(4, fatigue)
        try insert.bind(5, shotZone)
        try insert.bind(6, pace)
        try insert.bind(7, spike)
        try insert.bind(8, shotZone + pace + spike)
        try insert.bind(9, CivilDate(r.date).description + "T12:00:00Z")
        try insert.run()
      }
    }
  }
}
