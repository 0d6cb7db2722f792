import Foundation
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

  // A lowercase team on line 5 was reported at the game's first line.
  @Test func aThirdTeamIsNamedAtItsOwnLine() throws {
    let s = Scratch()
    defer { s.remove() }
    let text = handMadeGame().replacingOccurrences(
      of: "22022,4,Di Delta,1,BBB,BBB Team,", with: "22022,4,Di Delta,1,bbb,bbb Team,")
    let r = try refusal(s, base: nil, [s.write("case.csv", text)])
    #expect(
      r.error
        == ImportError(
          "\(s.path("case.csv")): line 5, column TEAM_ABBREVIATION: \"bbb\": game 0000000001 has rows for 3 teams "
            + "(AAA from line 2, BBB from line 4, bbb from line 5); a game has two (BBB and bbb differ only in letter case; abbreviations are compared exactly)"
        ))
    #expect(r.unchanged)
  }
}
