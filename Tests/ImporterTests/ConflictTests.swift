import Foundation
import SQLiteSource
import Testing

@testable import DatasetCLI
@testable import Importer

/// The data lines of `handMadeGame()` as game `id` on `date`.
func handMadeGameRows(id: String, date: String) -> [String] {
  handMadeGame().replacingOccurrences(of: "0000000001", with: id).replacingOccurrences(of: "2022-10-18", with: date)
    .split(separator: "\n").dropFirst().map(String.init)
}

/// Hand-made games of 2022-23 in one file, 4 data lines each. By default three: the first on
/// opening night, the other two after the bootstrap days, so the season has PCF rows (8).
func handMadeSeason(
  _ games: [(id: String, date: String)] = [
    ("0000000001", "2022-10-18"), ("0000000002", "2022-11-05"), ("0000000003", "2022-11-07"),
  ]
) -> String {
  ([logHeader] + games.flatMap { handMadeGameRows(id: $0.id, date: $0.date) }).joined(separator: "\n") + "\n"
}

/// The rules of docs/IMPORT.md, "What import refuses": each refusal names what disagrees and
/// how to repair it, and leaves the database exactly as it was.
@Suite struct ImportConflictTests {
  /// Imports `base` (when given), then `files`: the second import's error, and whether both
  /// tables are still exactly as the first import left them (processed_at included), or the
  /// database still absent.
  func refusal(_ s: Scratch, base: String?, _ files: [String]) throws -> (
    db: String, error: ImportError?, unchanged: Bool
  ) {
    let db = s.path("l.sqlite")
    if let base {
      _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00.000000Z").run(files: [
        s.write("base.csv", base)
      ])
    }
    func tables() throws -> [String]? {
      FileManager.default.fileExists(atPath: db)
        ? try dump(db, "player_game_summary") + dump(db, "player_composite_factors") : nil
    }
    let before = try tables()
    var failure: ImportError?
    do {
      _ = try Importer(databasePath: db, processedAt: "2024-02-02T00:00:00.000000Z").run(files: files)
    } catch {
      failure = error
    }
    let unchanged = try tables() == before
    return (db, failure, unchanged)
  }

  /// PCF as a build reads it: every column but processed_at.
  func factors(_ db: String) throws -> [String] {
    try query(
      db,
      """
      SELECT player_lookup, game_date, game_id, fatigue_score, pace_score, usage_spike_score, total_composite_adjustment
      FROM player_composite_factors ORDER BY game_date, player_lookup
      """)
  }

  func execute(_ db: String, _ sql: String) throws {
    try Connection(path: db, mode: .readWriteCreate).execute(sql)
  }

  // A spreadsheet strips GAME_ID's leading zeros: the game counted twice in PCF history, and
  // after the extra rows were deleted by hand the stale PCF passed every gate.
  @Test func oneGameUnderTwoIdsInTheFilesIsRefused() throws {
    let s = Scratch()
    defer { s.remove() }
    let a = s.write("a.csv", handMadeSeason())
    let b = s.write("b.csv", handMadeSeason([("2", "2022-11-05")]))
    let r = try refusal(s, base: nil, [a, b])
    #expect(
      r.error
        == ImportError(
          "\(b): line 2, column GAME_ID: game 2 (AAA–BBB on 2022-11-05) is also in this import as game 0000000002, first at \(a): line 6; "
            + "a game has one id (2 is 0000000002 without its leading zeros: saved through a spreadsheet?), "
            + "and under two it would count twice in every player's history: fix the export"))
    #expect(r.unchanged)
  }

  @Test func oneGameUnderTwoIdsAgainstTheDatabaseIsRefusedUntilTheWrongRowsAreDeleted() throws {
    let s = Scratch()
    defer { s.remove() }
    let file = s.write("b.csv", handMadeSeason([("2", "2022-11-05")]))
    let r = try refusal(s, base: handMadeSeason(), [file])
    let sql = "DELETE FROM player_game_summary WHERE game_id = '0000000002' AND game_date = '2022-11-05'"
    #expect(
      r.error
        == ImportError(
          "game 2 (AAA–BBB on 2022-11-05) at \(file): line 2 is stored as game 0000000002 (in \(r.db): 4 rows): "
            + "a game has one id (2 is 0000000002 without its leading zeros: saved through a spreadsheet?), "
            + "and under two it would count twice in every player's history. If the database's id is wrong, delete its rows: "
            + "\(sql); then import the file again, which derives the season's PCF again; if the file's is wrong, fix the export. "
            + "Nothing was written"))
    #expect(r.unchanged)
    #expect(DatasetCommand.run(["import", "--db", r.db, "--quiet", file]) == 3)
    // The repair the message gives leaves the PCF a clean import of the same games derives.
    try execute(r.db, sql)
    _ = try Importer(databasePath: r.db, processedAt: "2024-03-03T00:00:00.000000Z").run(files: [file])
    let clean = s.path("clean.sqlite")
    _ = try Importer(databasePath: clean, processedAt: "2024-03-03T00:00:00.000000Z").run(files: [
      s.write(
        "clean.csv", handMadeSeason([("0000000001", "2022-10-18"), ("2", "2022-11-05"), ("0000000003", "2022-11-07")]))
    ])
    let repaired = try factors(r.db), expected = try factors(clean)
    #expect(repaired.count == 8)
    #expect(repaired == expected)
  }

  @Test func oneGameOnTwoDatesInTheFilesIsRefused() throws {
    let s = Scratch()
    defer { s.remove() }
    // One row of game 2 a day late.
    var lines = handMadeSeason().split(separator: "\n").map(String.init)
    lines[6] = lines[6].replacingOccurrences(of: "2022-11-05", with: "2022-11-06")
    let late = s.write("late.csv", lines.joined(separator: "\n") + "\n")
    let r1 = try refusal(s, base: nil, [late])
    #expect(
      r1.error
        == ImportError(
          "\(late): line 7, column GAME_DATE: game 0000000002 is on 2022-11-06 here but on 2022-11-05 at \(late): line 6; "
            + "a game has one date: fix the export"))
    #expect(r1.unchanged)
  }

  @Test func oneGameOnAnotherDateThanTheStoredOneIsRefused() throws {
    let s = Scratch()
    defer { s.remove() }
    // Game 2 exported again, on the next day.
    let moved = s.write("moved.csv", handMadeSeason([("0000000002", "2022-11-06")]))
    let r2 = try refusal(s, base: handMadeSeason(), [moved])
    let sql = "DELETE FROM player_game_summary WHERE game_id = '0000000002' AND game_date = '2022-11-05'"
    #expect(
      r2.error
        == ImportError(
          "game 0000000002 is on 2022-11-06 at \(moved): line 2, but in \(r2.db) its 4 rows are on 2022-11-05: "
            + "a game has one date, and on two it would count twice in every player's history. "
            + "If the file is right, delete the stored rows: \(sql); then import the file again, which derives the season's PCF again; "
            + "if the database is right, fix the export. Nothing was written"))
    #expect(r2.unchanged)
    try execute(r2.db, sql)
    _ = try Importer(databasePath: r2.db, processedAt: "2024-03-03T00:00:00.000000Z").run(files: [moved])
    #expect(
      try query(r2.db, "SELECT DISTINCT game_date FROM player_composite_factors ORDER BY 1") == [
        "2022-11-06", "2022-11-07",
      ])
  }

  // A corrected file without one player's row left his stored row in place while his
  // teammates' usage_rate was derived from team totals without him (Σ 118 % instead of 100).
  @Test func storedPlayerTheFilesGameLacksIsRefused() throws {
    let s = Scratch()
    defer { s.remove() }
    let game2 = handMadeGameRows(id: "0000000002", date: "2022-11-05").filter { !$0.contains("Di Delta") }
    let file = s.write("fixed.csv", ([logHeader] + game2).joined(separator: "\n") + "\n")
    let r = try refusal(s, base: handMadeSeason(), [file])
    let sql =
      "DELETE FROM player_game_summary WHERE game_id = '0000000002' AND game_date = '2022-11-05' AND player_lookup IN ('didelta')"
    #expect(
      r.error
        == ImportError(
          "game 0000000002 (AAA–BBB on 2022-11-05), first at \(file): line 2, has rows in \(r.db) for 1 player this import's version of the game lacks: "
            + "didelta (Di Delta). A file holds whole games, so the two versions disagree, and the stored rows would stay beside teammates "
            + "whose usage_rate is derived without them. If the file is right, delete them: \(sql); then import the file again, "
            + "which derives the season's PCF again; if the database is right, fix the export. Nothing was written"))
    #expect(r.unchanged)
    try execute(r.db, sql)
    _ = try Importer(databasePath: r.db, processedAt: "2024-03-03T00:00:00.000000Z").run(files: [file])
    // Every team's usage shares add up to the team's 100 % again.
    #expect(
      try query(
        r.db,
        "SELECT team_abbr, round(sum(usage_rate * minutes_played) / 48, 9) FROM player_game_summary WHERE game_id = '0000000002' GROUP BY 1 ORDER BY 1"
      ) == ["AAA|100.0", "BBB|100.0"])
  }

  // Two PLAYER_IDs whose names normalise alike were merged into one history, silently.
  static let twoIDsReason =
    "players are keyed by player_lookup (source-tables.md), so two PLAYER_IDs under one would share one history"

  @Test func onePlayerLookupForTwoPlayerIDsInTheFilesIsRefused() throws {
    let s = Scratch()
    defer { s.remove() }
    let reason = Self.twoIDsReason
    // In two games: game 3's Di Delta is another PLAYER_ID.
    var lines = handMadeSeason().split(separator: "\n").map(String.init)
    lines[12] = lines[12].replacingOccurrences(of: "22022,4,Di Delta,", with: "22022,44,Di Delta,")
    let twoGames = s.write("two.csv", lines.joined(separator: "\n") + "\n")
    let r1 = try refusal(s, base: nil, [twoGames])
    #expect(
      r1.error
        == ImportError(
          "\(twoGames): line 13, column PLAYER_ID: player_lookup didelta in 2022-23 is PLAYER_ID 44 (Di Delta) here but PLAYER_ID 4 (Di Delta) at \(twoGames): line 5; "
            + "\(reason): fix the export (a wrong PLAYER_ID, or two players whose names must differ)"))
    #expect(r1.unchanged)
    // In one game, where it was "second row for player" without a word of the PLAYER_IDs.
    let sameGame = s.write(
      "same.csv",
      handMadeGame()
        + logLine(
          id: 44, name: "Di  Delta", team: "BBB", game: "0000000001", date: "2022-10-18", matchup: "BBB @ AAA",
          min: "10")
        + "\n")
    let r2 = try refusal(s, base: nil, [sameGame])
    #expect(
      r2.error
        == ImportError(
          "\(sameGame): line 6, column PLAYER_ID: player_lookup didelta in 2022-23 is PLAYER_ID 44 (Di  Delta) here but PLAYER_ID 4 (Di Delta) at \(sameGame): line 5; "
            + "\(reason): fix the export (a wrong PLAYER_ID, or two players whose names must differ)"))
  }

  @Test func onePlayerLookupForTwoPlayerIDsAgainstTheDatabaseIsRefused() throws {
    let s = Scratch()
    defer { s.remove() }
    let reason = Self.twoIDsReason
    // A newcomer of the same name in game 3.
    let newcomer = s.write(
      "g3.csv",
      ([logHeader] + handMadeGameRows(id: "0000000003", date: "2022-11-07")).joined(separator: "\n")
        .replacingOccurrences(of: "22022,4,Di Delta,", with: "22022,44,Di Delta,") + "\n")
    let r3 = try refusal(
      s, base: handMadeSeason([("0000000001", "2022-10-18"), ("0000000002", "2022-11-05")]), [newcomer])
    #expect(
      r3.error
        == ImportError(
          "player_lookup didelta in 2022-23 is PLAYER_ID 44 (Di Delta) at \(newcomer): line 5 but PLAYER_ID 4 (Di Delta) in \(r3.db): 2 rows, 2022-10-18…2022-11-05: "
            + "\(reason). If they are two players, the export must tell their names apart; if the stored PLAYER_ID is wrong, delete its rows: "
            + "DELETE FROM player_game_summary WHERE season_year = 2022 AND player_lookup = 'didelta' AND universal_player_id = '4'; "
            + "then import the file again, which derives the season's PCF again. Nothing was written"))
    #expect(r3.unchanged)
  }

  // Within one game, two names of one PLAYER_ID are one player twice.
  @Test func onePlayerIDUnderTwoNamesInOneGameIsRefused() throws {
    let s = Scratch()
    defer { s.remove() }
    let twice = s.write(
      "twice.csv",
      handMadeGame()
        + logLine(
          id: 4, name: "Di Delta-Smith", team: "BBB", game: "0000000001", date: "2022-10-18", matchup: "BBB @ AAA",
          min: "10") + "\n")
    #expect(
      throws: ImportError(
        "\(twice): line 6, column PLAYER_NAME: PLAYER_ID 4 in game 0000000001 on 2022-10-18 is Di Delta-Smith (dideltasmith) here "
          + "but Di Delta (didelta) at line 5: one player would be two rows of the game; fix the export")
    ) {
      try Importer(databasePath: s.path("twice.sqlite")).run(files: [twice])
    }
  }

  // A name changed mid-season (Enes Kanter → Enes Freedom, 2021-22) is true of both rows, so
  // it is imported, but its history starts again under the new name: said, even with --quiet.
  @Test func onePlayerIDUnderTwoNamesIsKeptAsTwoPlayersWithAWarning() throws {
    let s = Scratch()
    defer { s.remove() }
    let warning =
      "PLAYER_ID 4 has 2 names in 2022-23: Di Delta (didelta): 2 rows, 2022-10-18…2022-11-05; Di Delta-Smith (dideltasmith): 1 row, 2022-11-07. "
      + "Players are keyed by player_lookup (source-tables.md), so they are kept as 2 players, each with a history of his own "
      + "(under a new name his rest, pace and usage trend start again)"
    let renamed = handMadeSeason().split(separator: "\n").enumerated().map {
      $0.offset == 12 ? $0.element.replacingOccurrences(of: "Di Delta", with: "Di Delta-Smith") : String($0.element)
    }
    let summary = try Importer(databasePath: s.path("one.sqlite"), processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("one.csv", renamed.joined(separator: "\n") + "\n")
    ])
    #expect(summary.warnings == [warning])
    #expect(
      try query(
        s.path("one.sqlite"), "SELECT DISTINCT player_lookup FROM player_game_summary WHERE universal_player_id = '4'")
        == ["didelta", "dideltasmith"])
    // The new name in a later file, against the stored rows, through the CLI.
    let db = s.path("l.sqlite")
    _ = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("base.csv", handMadeSeason([("0000000001", "2022-10-18"), ("0000000002", "2022-11-05")]))
    ])
    let later = s.write("g3.csv", ([logHeader] + renamed[9...12]).joined(separator: "\n") + "\n")
    let run = try runDataset(["import", "--db", db, "--quiet", later])
    #expect(run.status == 0)
    #expect(run.stdout == "")
    #expect(run.stderr == "warning: \(warning)\n")
  }

  // The same file given twice was refused as "line 2 … first at <the same path>: line 2".
  @Test func fileGivenTwiceIsAUsageError() throws {
    let s = Scratch()
    defer { s.remove() }
    let a = s.write("a.csv", handMadeGame())
    let db = s.path("l.sqlite")
    let other = s.dir + "/./a.csv"
    #expect(throws: ImportError("\(a) is given twice: give each file once")) {
      try Importer(databasePath: db).run(files: [a, a])
    }
    #expect(throws: ImportError("\(a) is given twice (the second time as \(other)): give each file once")) {
      try Importer(databasePath: db).run(files: [a, other])
    }
    #expect(DatasetCommand.run(["import", "--db", db, "--quiet", a, other]) == 1)
    #expect(!FileManager.default.fileExists(atPath: db))
  }

  // A team misspelt on line 5 was reported at the game's first line.
  @Test func aThirdTeamIsNamedAtItsOwnLine() throws {
    let s = Scratch()
    defer { s.remove() }
    let text = handMadeGame().replacingOccurrences(
      of: "22022,4,Di Delta,1,BBB,BBB Team,", with: "22022,4,Di Delta,1,BBC,BBC Team,")
    let r = try refusal(s, base: nil, [s.write("third.csv", text)])
    #expect(
      r.error
        == ImportError(
          "\(s.path("third.csv")): line 5, column TEAM_ABBREVIATION: \"BBC\": game 0000000001 has rows for 3 teams "
            + "(AAA from line 2, BBB from line 4, BBC from line 5); a game has two"
        ))
    #expect(r.unchanged)
  }

  // A whole game's team in lower case was a team of its own (importer audit): refused at its
  // first line, with the spelling NBA.com uses.
  @Test func aTeamAbbreviationIsCapitalLetters() throws {
    let s = Scratch()
    defer { s.remove() }
    let text = handMadeGame().replacingOccurrences(of: ",BBB,BBB Team,", with: ",bbb,bbb Team,")
    let r = try refusal(s, base: nil, [s.write("case.csv", text)])
    #expect(
      r.error
        == ImportError(
          "\(s.path("case.csv")): line 4, column TEAM_ABBREVIATION: expected a team abbreviation of 2 to 4 capital "
            + "letters, like BBB: \"bbb\""))
    #expect(r.unchanged)
  }
}
