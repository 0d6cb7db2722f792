import Columnar
@testable import DatasetCLI
import Foundation
import LZ4
import SQLiteSource
import Testing

@testable import Importer

/// Hand-made game 0000000001 on 2022-10-18: AAA at home against BBB. Team totals of AAA:
/// FGA 80, FTA 20, TOV 10 → team_poss 98.8; BBB the same.
func handMadeGame(matchupAAA: String = "AAA vs. BBB", matchupBBB: String = "BBB @ AAA") -> String {
  [
    logHeader,
    logLine(
      id: 1, name: "Ann Alpha", team: "AAA", game: "0000000001", date: "2022-10-18", matchup: matchupAAA, min: "30",
      fga: 10, fta: 4, tov: 2),
    logLine(
      id: 2, name: "Bo Beta", team: "AAA", game: "0000000001", date: "2022-10-18", matchup: matchupAAA, min: "210",
      fga: 70, fta: 16, tov: 8),
    logLine(
      id: 3, name: "Cy Gamma", team: "BBB", game: "0000000001", date: "2022-10-18", matchup: matchupBBB, min: "120",
      fga: 40, fta: 10, tov: 5),
    logLine(
      id: 4, name: "Di Delta", team: "BBB", game: "0000000001", date: "2022-10-18", matchup: matchupBBB, min: "120",
      fga: 40, fta: 10, tov: 5),
  ].joined(separator: "\n") + "\n"
}

@Suite struct ImportPGSTests {
  @Test func usageRateOnAHandComputedGame() throws {
    let s = Scratch()
    defer { s.remove() }
    let file = s.write("game.csv", handMadeGame())
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [file])
    let usage = try query(db, "SELECT player_lookup, usage_rate FROM player_game_summary ORDER BY rowid")
      .map { $0.split(separator: "|") }
    // Ann: 100 · (10 + 0.44·4 + 2) · (240/5) / (30 · 98.8) = 66048 / 2964 = 22.28340080971660…
    #expect(usage.map { String($0[0]) } == ["annalpha", "bobeta", "cygamma", "didelta"])
    #expect(abs(Double(usage[0][1])! - 22.283400809716599) < 1e-12)
    // Bo: 100 · (70 + 7.04 + 8) · 48 / (210 · 98.8) = 408192 / 20748
    #expect(abs(Double(usage[1][1])! - 408192.0 / 20748.0) < 1e-12)
    // Cy: 100 · 49.4 · 48 / (120 · 98.8) = 20 exactly in real arithmetic.
    #expect(abs(Double(usage[2][1])! - 20) < 1e-12)
  }

  /// source-tables.md: usage_rate is NULL "when … a team total is missing". A blank TOV of a
  /// player who played leaves his team's summed total short: his teammates got figures from it
  /// (a spec audit). The other team's rows are untouched.
  @Test func aBlankCountLeavesTheTeamsUsageNull() throws {
    let s = Scratch()
    defer { s.remove() }
    let text = handMadeGame().replacingOccurrences(of: ",8,2,0,2022-23", with: ",,2,0,2022-23")
    #expect(text != handMadeGame())
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [s.write("blank.csv", text)])
    let usage = try query(
      db,
      "SELECT player_lookup, coalesce(usage_rate, 'NULL'), coalesce(turnovers, 'NULL') FROM player_game_summary ORDER BY rowid"
    )
    #expect(usage[0] == "annalpha|NULL|2")
    #expect(usage[1] == "bobeta|NULL|NULL")
    #expect(usage[2].hasPrefix("cygamma|20.0") && usage[3].hasPrefix("didelta|20.0"))
  }

  @Test func overtimeTeamMinutesRoundToTheNearest240Plus25k() throws {
    let s = Scratch()
    defer { s.remove() }
    // Summed AAA minutes 262 (NBA.com rounds each player) → 265, one overtime.
    let text = handMadeGame().replacingOccurrences(of: ",210,", with: ",232,")
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [s.write("ot.csv", text)])
    let ann = try query(db, "SELECT usage_rate FROM player_game_summary WHERE player_lookup = 'annalpha'")
    // 100 · 13.76 · (265/5) / (30 · 98.8) = 72928 / 2964
    #expect(abs(Double(ann[0])! - 72928.0 / 2964.0) < 1e-12)
  }

  @Test func pgsRowHasEveryColumnAsSpecified() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("g.csv", handMadeGame())
    ])
    #expect(
      try dump(db, "player_game_summary")[0]
        == "'annalpha'|'Ann Alpha'|'1'|'0000000001'|'2022-10-18'|2022|'AAA'|'BBB'|1|30.0|10|4|10|1|3|1|4|1|3|2|1|0|2|2|0|22.2834008097166|0|'2024-01-01T00:00:00Z'"
    )
  }

  @Test func neutralSiteOpponentComesFromTheGameNotTheMatchup() throws {
    let s = Scratch()
    defer { s.remove() }
    // Both teams' rows name BBB first, as NBA.com does for some neutral-site games: the
    // opponent is still the other team of the game, and the rows agree that AAA is at home.
    let db = s.path("l.sqlite")
    let text = handMadeGame(matchupAAA: "BBB @ AAA", matchupBBB: "BBB @ AAA")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [s.write("n.csv", text)])
    #expect(
      try query(
        db, "SELECT player_lookup, team_abbr, opponent_team_abbr, is_home FROM player_game_summary ORDER BY rowid")
        == ["annalpha|AAA|BBB|1", "bobeta|AAA|BBB|1", "cygamma|BBB|AAA|0", "didelta|BBB|AAA|0"])
  }

  @Test func matchupNamingAnotherTeamLeavesIsHomeUnknown() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = s.path("l.sqlite")
    let text = handMadeGame(matchupAAA: "LAL vs. GSW", matchupBBB: "BBB @ AAA")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [s.write("n.csv", text)])
    #expect(
      try query(db, "SELECT opponent_team_abbr, is_home FROM player_game_summary ORDER BY rowid")
        == ["BBB|NULL", "BBB|NULL", "AAA|NULL", "AAA|NULL"])
  }

  @Test func zeroMinuteRowIsDNPWithNullUsageAndKeepsItsStats() throws {
    let s = Scratch()
    defer { s.remove() }
    let extra = logLine(
      id: 5, name: "Ed Zero", team: "AAA", game: "0000000001", date: "2022-10-18", matchup: "AAA vs. BBB", min: "0",
      pts: 0, fgm: 0, fga: 1, fg3m: 0, fg3a: 0, ftm: 0, fta: 0, oreb: 0, dreb: 0, tov: 1)
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("z.csv", handMadeGame() + extra + "\n")
    ])
    #expect(
      try query(
        db,
        "SELECT minutes_played, is_dnp, usage_rate, fg_attempts, turnovers FROM player_game_summary WHERE player_lookup = 'edzero'"
      )
        == ["0.0|1|NULL|1|1"])
  }

  @Test func teamLogsReplaceSummedTeamTotals() throws {
    let s = Scratch()
    defer { s.remove() }
    let teamLogs = s.write(
      "teams.csv",
      "TEAM_ABBREVIATION,GAME_ID,MIN,FGA,FTA,TOV,OREB\nAAA,0000000001,240,80,20,12,9\nBBB,0000000001,48,80,20,10,9\n")
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, teamLogsPath: teamLogs, processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("g.csv", handMadeGame())
    ])
    let usage = try query(db, "SELECT usage_rate FROM player_game_summary ORDER BY rowid").map { Double($0)! }
    // Team turnovers: AAA 12, not the 10 its players sum to → team_poss 100.8.
    #expect(abs(usage[0] - 100 * 13.76 * 48 / (30 * 100.8)) < 1e-12)
    // BBB's log gives game minutes (48), read as 240 team player-minutes.
    #expect(abs(usage[2] - 20) < 1e-12)

    // Ids without their leading zeros match no game: refused, nothing written.
    let excel = s.write(
      "excel.csv", "TEAM_ABBREVIATION,GAME_ID,MIN,FGA,FTA,TOV\nAAA,1,240,80,20,12\nBBB,1,240,80,20,10\n")
    let fresh = s.path("fresh.sqlite")
    let logs = s.write("g2.csv", handMadeGame())
    #expect(
      throws: ImportError(
        "\(excel): none of its team games is in the player logs (its first: game 1, team AAA); the first player row, \(logs): line 2, "
          + "is team AAA in game 0000000001. GAME_ID and TEAM_ABBREVIATION must be spelled as in the player logs")
    ) {
      try Importer(databasePath: fresh, teamLogsPath: excel, processedAt: "2024-01-01T00:00:00Z").run(files: [logs])
    }
  }
}

@Suite struct ImportRealDataTests {
  @Test func realSubsetMatchesANaiveUsageReference() throws {
    let s = Scratch()
    defer { s.remove() }
    let text = try realSubset(games: 40)
    let db = s.path("l.sqlite")
    let summary = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("sub.csv", text)
    ])
    let lines = text.split(separator: "\n").dropFirst().map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    #expect(summary.rowsRead == lines.count)
    #expect(summary.pgsInserted == lines.count)
    // Naive reference: team sums by (game, team), straight from the CSV columns.
    var fga: [String: Double] = [:], fta: [String: Double] = [:], tov: [String: Double] = [:],
      mins: [String: Double] = [:]
    for l in lines {
      let k = l[6] + l[4]
      fga[k, default: 0] += Double(l[13])!
      fta[k, default: 0] += Double(l[19])!
      tov[k, default: 0] += Double(l[27])!
      mins[k, default: 0] += Double(l[10])!
    }
    let stored = try query(
      db,
      "SELECT game_id, team_abbr, universal_player_id, usage_rate, game_id = printf('%010d', CAST(game_id AS INTEGER)) FROM player_game_summary"
    )
    var byKey: [String: String] = [:]
    for row in stored {
      let c = row.split(separator: "|").map(String.init)
      #expect(c[4] == "1", "game_id keeps its leading zeros")
      byKey[c[0] + c[1] + c[2]] = c[3]
    }
    var checked = 0
    for l in lines {
      let k = l[6] + l[4]
      let teamMinutes = 240 + 25 * max(0, ((mins[k]! - 240) / 25).rounded())
      let m = Double(l[10])!
      let expected: Double? =
        m == 0
        ? nil
        : 100 * (Double(l[13])! + 0.44 * Double(l[19])! + Double(l[27])!) * (teamMinutes / 5)
          / (m * (fga[k]! + 0.44 * fta[k]! + tov[k]!))
      let got = byKey[l[6] + l[4] + l[1]]!
      if let expected {
        #expect(abs(Double(got)! - expected) < 1e-9, "\(l[2]) in \(l[6])")
      } else {
        #expect(got == "NULL")
      }
      checked += 1
    }
    #expect(checked == lines.count)
  }

  // The same rows in another order are the same content: PCF must come out bit for bit the
  // same (team possessions used to be summed in table order: up to 2.8e-14 apart).
  @Test func rowOrderDoesNotChangeCompositeFactors() throws {
    let s = Scratch()
    defer { s.remove() }
    let text = String(
      decoding: try LZ4Frame.decompress(
        Array(try Data(contentsOf: URL(fileURLWithPath: repoRoot + "/Datasets/sample/player_logs_2022-23.csv.lz4")))),
      as: UTF8.self)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    let header = lines.removeFirst()
    var rng = SystemRandomNumberGenerator()
    let shuffled = ([header] + lines.shuffled(using: &rng)).joined(separator: "\n") + "\n"
    let a = s.path("a.sqlite"), b = s.path("b.sqlite")
    _ = try Importer(databasePath: a, processedAt: "2024-01-01T00:00:00Z").run(files: [s.write("a.csv", text)])
    _ = try Importer(databasePath: b, processedAt: "2024-01-01T00:00:00Z").run(files: [s.write("b.csv", shuffled)])
    let sql = """
      SELECT player_lookup, game_date, fatigue_score, printf('%!.17g', pace_score), printf('%!.17g', usage_spike_score),
             printf('%!.17g', total_composite_adjustment) FROM player_composite_factors ORDER BY 1, 2
      """
    let left = try query(a, sql), right = try query(b, sql)
    #expect(left.count == 23571)
    #expect(left == right)
  }

  @Test func fullSeasonFromTheLZ4Sample() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = s.path("l.sqlite")
    let summary = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z")
      .run(files: [repoRoot + "/Datasets/sample/player_logs_2022-23.csv.lz4"])
    // Figures of SOURCE.md for 2022-23: 25,895 rows, 1230 games, 164 dates, 2022-10-18..2023-04-09.
    #expect(summary.rowsRead == 25895)
    #expect(summary.pgsInserted == 25895)
    #expect(summary.gameDates == 164)
    #expect(summary.seasons == [2022])
    // The real season meets none of the conflict rules: no refusal, and no name change to warn of.
    #expect(summary.warnings.isEmpty)
    #expect(
      try query(
        db,
        "SELECT COUNT(DISTINCT game_id), MIN(game_date), MAX(game_date), SUM(is_dnp), COUNT(DISTINCT season_year) FROM player_game_summary"
      )
        == ["1230|2022-10-18|2023-04-09|77|1"])
    // PCF: one row per active player row on dates from 2022-11-01 (opening night + 14) on.
    #expect(
      try query(
        db,
        "SELECT (SELECT COUNT(*) FROM player_composite_factors), COUNT(*) FROM player_game_summary WHERE is_dnp = 0 AND minutes_played > 0 AND game_date >= '2022-11-01'"
      ) == ["\(summary.pcfInserted)|\(summary.pcfInserted)"])
    #expect(
      try query(
        db,
        "SELECT MIN(game_date), MIN(fatigue_score) >= 0, MAX(fatigue_score) <= 100, MAX(ABS(pace_score)) <= 3, MAX(ABS(usage_spike_score)) <= 3, COUNT(shot_zone_mismatch_score), MIN(calculation_version), MAX(calculation_version) FROM player_composite_factors"
      )
        == ["2022-11-01|1|1|1|1|0|boxscore_v1|boxscore_v1"])
  }
}

@Suite struct ImportIdempotencyTests {
  @Test func importingTwiceChangesNothing() throws {
    let s = Scratch()
    defer { s.remove() }
    let file = s.write("sub.csv", try realSubset(games: 120))
    let db = s.path("l.sqlite")
    let first = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [file])
    let pgs = try dump(db, "player_game_summary"), pcf = try dump(db, "player_composite_factors")
    #expect(first.pcfInserted > 0)
    let second = try Importer(databasePath: db, processedAt: "2024-02-02T00:00:00Z").run(files: [file])
    #expect(try dump(db, "player_game_summary") == pgs)
    #expect(try dump(db, "player_composite_factors") == pcf)
    #expect(([second.pgsInserted, second.pgsUpdated, second.pgsUnchanged] as [Int]) == [0, 0, first.pgsInserted])
    #expect(
      ([second.pcfInserted, second.pcfUpdated, second.pcfUnchanged, second.pcfDeleted] as [Int]) == [
        0, 0, first.pcfInserted, 0,
      ])
  }

  /// source-tables.md: a PCF row is STALE when a PGS row it depends on was processed after it.
  /// A correction no factor reads (assists) leaves the factors' values as they were, but they
  /// were recomputed from the corrected row: their processed_at must move, or the documented
  /// "correct the file, re-import, build" flow is refused by pcf_staleness.
  @Test func correctionRestampsThePCFRecomputedFromIt() throws {
    let s = Scratch()
    defer { s.remove() }
    let text = try realSubset(games: 200)
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00.000000Z").run(files: [s.write("a.csv", text)])
    var lines = text.split(separator: "\n").map(String.init)
    let header = lines[0].split(separator: ",").map(String.init)
    let ast = try #require(header.firstIndex(of: "AST")), date = try #require(header.firstIndex(of: "GAME_DATE"))
    let cells = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let k = try #require((1..<lines.count).min { cells[$0][date] < cells[$1][date] })
    var edited = cells[k]
    edited[ast] = String((Int(edited[ast]) ?? 0) + 1)
    lines[k] = edited.joined(separator: ",")
    let r = try Importer(databasePath: db, processedAt: "2024-02-02T00:00:00.000000Z").run(
      files: [s.write("b.csv", lines.joined(separator: "\n") + "\n")])
    #expect(r.pgsUpdated == 1 && r.pcfUpdated == 0 && r.pcfInserted == 0)
    let changed = try query(
      db, "SELECT player_lookup || '|' || game_date FROM player_game_summary WHERE processed_at LIKE '2024-02-02%'")
    #expect(changed.count == 1)
    let parts = changed[0].split(separator: "|").map(String.init)
    let later = try query(
      db,
      "SELECT count(*) FROM player_composite_factors WHERE player_lookup = '\(parts[0])' AND game_date > '\(parts[1])'")
    #expect(later != ["0"])
    #expect(["\(r.pcfRestamped)"] == later)
    let stale = try query(
      db,
      """
      SELECT count(*) FROM player_composite_factors f WHERE EXISTS (SELECT 1 FROM player_game_summary p
        WHERE p.player_lookup = f.player_lookup AND p.game_date < f.game_date AND p.processed_at > f.processed_at)
      """)
    #expect(stale == ["0"])
    // Only processed_at moved: the factors are the first import's.
    #expect(
      try query(db, "SELECT count(*) FROM player_composite_factors WHERE processed_at LIKE '2024-02-02%'") == later)
  }

  @Test func correctedFileUpdatesOnlyTheChangedRows() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("g.csv", handMadeGame())
    ])
    // Points do not enter usage: one row changes.
    let fixedPoints = handMadeGame().replacingOccurrences(
      of: "Di Delta,1,BBB,BBB Team,0000000001,2022-10-18,BBB @ AAA,W,120,10,",
      with: "Di Delta,1,BBB,BBB Team,0000000001,2022-10-18,BBB @ AAA,W,120,12,")
    let r1 = try Importer(databasePath: db, processedAt: "2024-02-02T00:00:00Z").run(files: [
      s.write("g2.csv", fixedPoints)
    ])
    #expect(([r1.pgsInserted, r1.pgsUpdated, r1.pgsUnchanged] as [Int]) == [0, 1, 3])
    #expect(
      try query(db, "SELECT player_lookup, points, processed_at FROM player_game_summary ORDER BY rowid")
        == [
          "annalpha|10|2024-01-01T00:00:00Z", "bobeta|10|2024-01-01T00:00:00Z", "cygamma|10|2024-01-01T00:00:00Z",
          "didelta|12|2024-02-02T00:00:00Z",
        ])
    // Ann's field-goal attempts change her team's totals, so her teammate's usage changes too.
    let fixedFGA = fixedPoints.replacingOccurrences(
      of: "Ann Alpha,1,AAA,AAA Team,0000000001,2022-10-18,AAA vs. BBB,W,30,10,4,10,",
      with: "Ann Alpha,1,AAA,AAA Team,0000000001,2022-10-18,AAA vs. BBB,W,30,10,4,11,")
    let r2 = try Importer(databasePath: db, processedAt: "2024-03-03T00:00:00Z").run(files: [
      s.write("g3.csv", fixedFGA)
    ])
    #expect(([r2.pgsInserted, r2.pgsUpdated, r2.pgsUnchanged] as [Int]) == [0, 2, 2])
    #expect(
      try query(db, "SELECT player_lookup, fg_attempts, processed_at FROM player_game_summary ORDER BY rowid")
        == [
          "annalpha|11|2024-03-03T00:00:00Z", "bobeta|70|2024-03-03T00:00:00Z", "cygamma|40|2024-01-01T00:00:00Z",
          "didelta|40|2024-02-02T00:00:00Z",
        ])
  }

  @Test func badLineExitsThreeAndWritesNothing() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = s.path("l.sqlite")
    let good = s.write("g.csv", handMadeGame())
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [good])
    let before = try dump(db, "player_game_summary"), pcfBefore = try dump(db, "player_composite_factors")
    // A good file with new rows, then a file whose line 3 has a bad MIN: neither is written.
    let newGame = handMadeGame().replacingOccurrences(of: "0000000001", with: "0000000002").replacingOccurrences(
      of: "2022-10-18", with: "2022-10-20")
    let bad = s.write("bad.csv", handMadeGame().replacingOccurrences(of: "W,210,", with: "W,2x0,"))
    let status = DatasetCommand.run(["import", "--db", db, "--quiet", s.write("new.csv", newGame), bad])
    #expect(status == 3)
    #expect(try dump(db, "player_game_summary") == before)
    #expect(try dump(db, "player_composite_factors") == pcfBefore)
    #expect(
      throws: ImportError(
        "\(bad): line 3, column MIN: not a number of minutes (expected e.g. 34, 34.5 or 34:30): \"2x0\"")
    ) {
      try Importer(databasePath: db).run(files: [bad])
    }
  }
}

@Suite struct BrokenCSVTests {
  func importError(_ s: Scratch, _ name: String, _ text: String) -> (String, ImportError?) {
    let p = s.write(name, text)
    do {
      _ = try Importer(databasePath: s.path("l.sqlite"), processedAt: "2024-01-01T00:00:00Z").run(files: [p])
      return (p, nil)
    } catch {
      return (p, error)
    }
  }

  @Test func emptyFileAndHeaderOnlyAreClearErrors() throws {
    let s = Scratch()
    defer { s.remove() }
    let (empty, e1) = importError(s, "empty.csv", "")
    #expect(e1 == ImportError("\(empty): the file is empty (0 bytes); expected a header line and rows"))
    let (headerOnly, e2) = importError(s, "header.csv", logHeader + "\n")
    #expect(e2 == ImportError("\(headerOnly): the file has a header but no rows"))
    let emptyLZ4 = s.write("empty.csv.lz4", "")
    #expect(throws: ImportError("\(emptyLZ4): the file is empty (0 bytes); expected an LZ4 frame holding CSV")) {
      try Importer(databasePath: s.path("l.sqlite")).run(files: [emptyLZ4])
    }
    let missing = s.path("nope.csv")
    #expect(throws: ImportError("cannot read \(missing): no such file")) {
      try Importer(databasePath: s.path("l.sqlite")).run(files: [missing])
    }
    #expect(
      !FileManager.default.fileExists(atPath: s.path("l.sqlite")),
      "no database is created for input that cannot be read")
  }

  // A MATCHUP in neither form used to leave is_home NULL on every row of the import, which
  // every gate passed; a column read twice took the first silently.
  @Test func unreadableMatchupAndDoubledColumnsAreRefused() {
    let s = Scratch()
    defer { s.remove() }
    let (p1, e1) = importError(s, "vs.csv", handMadeGame(matchupAAA: "AAA vs BBB"))
    #expect(
      e1
        == ImportError(
          #"\#(p1): line 2, column MATCHUP: "AAA vs BBB": expected "TEAM vs. OPP" (a home game) or "TEAM @ OPP" (an away game)"#
        ))
    let (p0, e0) = importError(
      s, "nul.csv", handMadeGame().replacingOccurrences(of: "Ann Alpha", with: "Ann\u{0}Alpha"))
    #expect(
      e0
        == ImportError(
          "\(p0): line 2, column PLAYER_NAME: holds a NUL byte, which no name or number has: \"Ann\\x00Alpha\""))
    let negative = handMadeGame().split(separator: "\n").map(String.init)
    let astColumn = logHeader.split(separator: ",").firstIndex(of: "AST")!
    var fields = negative[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    fields[astColumn] = "-3"
    let (pn, en) = importError(
      s, "negative.csv",
      ([negative[0], fields.joined(separator: ",")] + negative.dropFirst(2)).joined(separator: "\n") + "\n")
    #expect(en == ImportError("\(pn): line 2, column AST: a negative count; expected 0 or more: \"-3\""))
    let (p2, e2) = importError(s, "blank.csv", handMadeGame(matchupBBB: ""))
    #expect(
      e2
        == ImportError(
          #"\#(p2): line 4, column MATCHUP: "": expected "TEAM vs. OPP" (a home game) or "TEAM @ OPP" (an away game)"#))
    let doubled = handMadeGame().split(separator: "\n").enumerated().map {
      $0.offset == 0 ? $0.element + ",PTS" : $0.element + ",999"
    }
    let (p3, e3) = importError(s, "twice.csv", doubled.joined(separator: "\n") + "\n")
    let first = logHeader.split(separator: ",").firstIndex(of: "PTS")! + 1
    #expect(
      e3
        == ImportError(
          "\(p3): line 1: the header names column PTS twice (fields \(first) and \(doubled[0].split(separator: ",").count)); expected each column once"
        ))
  }

  // A corrected name used to insert a second row for the same PLAYER_ID in the game.
  @Test func renamedPlayerIsRefusedNotAddedTwice() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("g.csv", handMadeGame())
    ])
    let renamed = s.write("renamed.csv", handMadeGame().replacingOccurrences(of: "Ann Alpha", with: "Anne Alpha"))
    #expect(
      throws: ImportError(
        "PLAYER_ID 1 in game 0000000001 on 2022-10-18 is Anne Alpha (annealpha) here, but is stored as annalpha (player_game_summary rowid 1): "
          + "one player would be two rows of the game. A renamed player needs the old rows deleted first "
          + "(DELETE FROM player_game_summary WHERE player_lookup = 'annalpha'; PCF is derived again on import); nothing was written"
      )
    ) {
      try Importer(databasePath: db, processedAt: "2024-01-02T00:00:00Z").run(files: [renamed])
    }
    #expect(try query(db, "SELECT count(*) FROM player_game_summary") == ["4"])
  }

  @Test func blankLinesConcatenatedFramesAndCompressedBytesUnderACSVName() throws {
    let s = Scratch()
    defer { s.remove() }
    let (_, blank) = importError(s, "blank-lines.csv", handMadeGame() + "\n\r\n")
    #expect(blank == nil)
    #expect(try query(s.path("l.sqlite"), "SELECT count(*) FROM player_game_summary") == ["4"])

    let text = Array(handMadeGame().utf8)
    let cut = text.firstIndex(of: UInt8(ascii: "\n"))! + 1
    let frames = try LZ4Frame.compress(Array(text[..<cut])) + LZ4Frame.compress(Array(text[cut...]))
    let concatenated = s.write("two-frames.CSV.LZ4", bytes: frames)
    _ = try Importer(databasePath: s.path("frames.sqlite"), processedAt: "2024-01-01T00:00:00Z").run(files: [
      concatenated
    ])
    #expect(try query(s.path("frames.sqlite"), "SELECT count(*) FROM player_game_summary") == ["4"])

    let disguised = s.write("disguised.csv", bytes: frames)
    #expect(
      throws: ImportError(
        "\(disguised): the file is LZ4 data, not CSV text; only LZ4 frames are read, from a name ending in .lz4")
    ) {
      try Importer(databasePath: s.path("x.sqlite")).run(files: [disguised])
    }
    let nothing = s.write("nothing.csv.lz4", bytes: try LZ4Frame.compress([UInt8]()))
    #expect(
      throws: ImportError(
        "\(nothing): the LZ4 frame holds no bytes (\(try LZ4Frame.compress([UInt8]()).count) bytes compressed, 0 decompressed); expected a header line and rows"
      )
    ) {
      try Importer(databasePath: s.path("x.sqlite")).run(files: [nothing])
    }
  }

  @Test func missingColumnsAreAllNamed() {
    let s = Scratch()
    defer { s.remove() }
    let text = handMadeGame().replacingOccurrences(of: ",MIN,", with: ",MINUTES,").replacingOccurrences(
      of: ",TOV,", with: ",TO,")
    let (p, e) = importError(s, "m.csv", text)
    #expect(e == ImportError("\(p): the header lacks the required columns MIN, TOV"))
  }

  @Test func extraColumnsCRLFAndBOMAndQuotedCommasAreAccepted() throws {
    let s = Scratch()
    defer { s.remove() }
    var lines = handMadeGame().split(separator: "\n").map { $0 + ",extra" }
    lines[0] = "\u{FEFF}" + logHeader + ",VIDEO_AVAILABLE"
    let text =
      lines.joined(separator: "\r\n").replacingOccurrences(of: "Ann Alpha", with: "\"Alpha, Ann \"\"The A\"\"\"")
      + "\r\n"
    let (_, e) = importError(s, "crlf.csv", text)
    #expect(e == nil)
    #expect(
      try query(
        s.path("l.sqlite"),
        "SELECT player_lookup, player_full_name, team_abbr FROM player_game_summary ORDER BY rowid LIMIT 2")
        == ["alphaannthea|Alpha, Ann \"The A\"|AAA", "bobeta|Bo Beta|AAA"])
  }

  @Test func badFieldsNameFileLineColumnAndValue() {
    let s = Scratch()
    defer { s.remove() }
    let cases: [(String, String)] = [
      ("2022-10-18,BBB @ AAA,W,120,10,", "2023-13-45,BBB @ AAA,W,120,10,"),
      ("2022-10-18,BBB @ AAA,W,120,10,", "23/01/2023,BBB @ AAA,W,120,10,"),
      ("BBB @ AAA,W,120,10,", "BBB @ AAA,W,,10,"),
      ("BBB @ AAA,W,120,10,", "BBB @ AAA,W,120,ten,"),
    ]
    let expected = [
      "line 4, column GAME_DATE: not a calendar date in YYYY-MM-DD form: \"2023-13-45\"",
      "line 4, column GAME_DATE: not a calendar date in YYYY-MM-DD form: \"23/01/2023\"",
      "line 4, column MIN: not a number of minutes (expected e.g. 34, 34.5 or 34:30): \"\"",
      "line 4, column PTS: not an integer: \"ten\"",
    ]
    for (i, (from, to)) in cases.enumerated() {
      guard let r = handMadeGame().range(of: from) else {
        Issue.record("case \(i) does not apply")
        continue
      }
      let text = handMadeGame().replacingCharacters(in: r, with: to)
      let (p, e) = importError(s, "b\(i).csv", text)
      #expect(e == ImportError("\(p): \(expected[i])"))
    }
  }

  @Test func nonUTF8BytesAreNamedWithTheirHex() {
    let s = Scratch()
    defer { s.remove() }
    var bytes = Array(handMadeGame().utf8)
    bytes.replaceSubrange(
      Array(handMadeGame().utf8).ranges(of: Array("Bo Beta".utf8)).first!,
      with: Array("Bo B".utf8) + [0xE9] + Array("ta".utf8))
    let p = s.write("latin1.csv", bytes: bytes)
    #expect(throws: ImportError("\(p): line 3, column PLAYER_NAME: not valid UTF-8: \"Bo B\\xE9ta\"")) {
      try Importer(databasePath: s.path("l.sqlite")).run(files: [p])
    }
  }

  @Test func wrongFieldCountAndOneTeamGameAreRefused() {
    let s = Scratch()
    defer { s.remove() }
    let short = handMadeGame().replacingOccurrences(of: ",2022-23\n", with: "\n")
    let (p1, e1) = importError(s, "short.csv", short)
    #expect(e1 == ImportError("\(p1): line 2: 30 fields, but the header has 31"))
    let oneTeam = handMadeGame().split(separator: "\n").prefix(3).joined(separator: "\n") + "\n"
    let (p2, e2) = importError(s, "one.csv", oneTeam)
    #expect(
      e2
        == ImportError(
          "\(p2): line 2, column GAME_ID: game 0000000001 has rows for one team only (AAA), so the opponent cannot be derived; import both teams' rows of a game together"
        ))
    let twice = handMadeGame() + handMadeGame().split(separator: "\n")[1] + "\n"
    let (p3, e3) = importError(s, "dup.csv", twice)
    #expect(
      e3
        == ImportError(
          "\(p3): line 6: second row for player Ann Alpha (annalpha) in game 0000000001 on 2022-10-18, first at \(p3): line 2"
        ))
  }

  @Test func schemaDDLIsSchemasSourceSQLVerbatim() throws {
    #expect(sourceSchemaDDL == (try String(contentsOfFile: repoRoot + "/Schemas/source.sql", encoding: .utf8)))
  }
}

@Suite struct ImportCommandTests {
  @Test func summaryShowsEveryFigure() {
    var s = ImportSummary()
    s.files = 1
    s.rowsRead = 25895
    s.pgsInserted = 25895
    s.pcfInserted = 23571
    s.seasons = [2021, 2022]
    s.gameDates = 164
    s.processedAt = "2024-01-01T00:00:00Z"
    s.teamTotals = "from team logs teams.csv"
    s.pcfRestamped = 12
    s.seconds = 1.234
    #expect(
      ImportCommand.render(s, db: "league.sqlite") == """
        imported into league.sqlite
          files            1
          rows read        25895
          PGS rows         25895 inserted, 0 updated, 0 unchanged
          PCF rows         23571 inserted, 0 updated, 12 re-stamped, 0 unchanged, 0 deleted
          team totals      from team logs teams.csv
          seasons          2021-22, 2022-23
          game dates       164
          processed_at     2024-01-01T00:00:00Z
          seconds          1.23

        """)
  }

  /// A review found 711 real MIN = 0 rows made inactive, and a neutral-site game's NULL
  /// is_home, with no word from import; the summary now counts both.
  @Test func summaryCountsZeroMinuteRowsAndGamesWithoutAHomeTeam() throws {
    let s = Scratch()
    defer { s.remove() }
    let neutral = handMadeGame(matchupAAA: "AAA vs. BBB", matchupBBB: "BBB vs. AAA")
    var lines = neutral.split(separator: "\n").map(String.init)
    lines.append(
      logLine(
        id: 5, name: "Ed Eps", team: "BBB", game: "0000000001", date: "2022-10-18", matchup: "BBB vs. AAA", min: "0",
        pts: 0, fgm: 0, fga: 0, fg3m: 0, fg3a: 0, ftm: 0, fta: 0, tov: 0))
    let file = s.write("g.csv", lines.joined(separator: "\n") + "\n")
    let summary = try Importer(databasePath: s.path("l.sqlite"), processedAt: "2024-01-01T00:00:00Z").run(files: [file])
    #expect(summary.zeroMinuteRows == 1)
    #expect(summary.gamesWithoutHomeTeam == 1)
    let text = ImportCommand.render(summary, db: "l.sqlite")
    #expect(
      text.contains("\n  0-minute rows    1 stored as is_dnp = 1: not active (no usage_rate, no feature row)\n"),
      "\(text)")
    #expect(
      text.contains(
        "\n  home team        unknown in 1 game (their MATCHUPs disagree, or name a team not in the game): is_home NULL on their rows\n"
      ), "\(text)")
    let plain = try Importer(databasePath: s.path("m.sqlite"), processedAt: "2024-01-01T00:00:00Z")
      .run(files: [s.write("h.csv", handMadeGame())])
    #expect(plain.zeroMinuteRows == 0 && plain.gamesWithoutHomeTeam == 0)
    #expect(!ImportCommand.render(plain, db: "m.sqlite").contains("home team"))
  }

  @Test func databaseThatIsAFolderIsNamed() throws {
    let s = Scratch()
    defer { s.remove() }
    let file = s.write("g.csv", handMadeGame())
    #expect(
      throws: ImportError(
        "database \(s.dir) is a folder: expected a SQLite file (created when missing); nothing was written")
    ) {
      try Importer(databasePath: s.dir, processedAt: "2024-01-01T00:00:00Z").run(files: [file])
    }
  }

  /// An existing table of another layout: the import names the table and the columns it
  /// lacks (SQLite said only "no such column: season_year" of a statement), and changes nothing.
  @Test func existingTableOfAnotherLayoutIsNamed() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = s.path("other.sqlite")
    try Connection(path: db, mode: .readWriteCreate).execute(
      "CREATE TABLE player_composite_factors (player_lookup TEXT, game_date TEXT)")
    let file = s.write("g.csv", handMadeGame())
    #expect(
      throws: ImportError(
        "database \(db): table player_composite_factors is missing columns game_id, fatigue_score, shot_zone_mismatch_score, pace_score, "
          + "usage_spike_score, total_composite_adjustment, calculation_version, processed_at, which import writes "
          + "(Schemas/source.sql has the layout it expects); nothing was written")
    ) {
      try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [file])
    }
    #expect(try Connection(path: db, mode: .readOnly).columnNames(of: "player_game_summary").isEmpty)
  }

  @Test func missingFileExitsThreeAndNoArgumentsExitsOne() {
    let s = Scratch()
    defer { s.remove() }
    #expect(DatasetCommand.run(["import", "--db", s.path("l.sqlite"), "--quiet", s.path("none.csv")]) == 3)
    #expect(DatasetCommand.run(["import", "--db", s.path("l.sqlite")]) == 1)
  }
}
