import Columnar
import Foundation
import SQLiteSource
import TestSupport
import Testing

@testable import Synth

/// The database `dataset synth` writes: what the importer makes of the generated logs.
@Suite struct SynthDatabaseTests {
  static func temporaryPath(_ name: String) -> String {
    TestScratch.folder("synth-\(UUID().uuidString)") + "/" + name
  }

  /// Every row of both tables as text, in rowid order: what "the same database" means.
  static func dump(_ path: String) throws -> [String] {
    let c = try Connection(path: path)
    var out: [String] = []
    for table in ["player_game_summary", "player_composite_factors"] {
      let st = try c.prepare("SELECT * FROM \(table) ORDER BY rowid")
      while try st.step() {
        out.append((0..<st.columnCount).map { st.text($0) ?? "NULL" }.joined(separator: "|"))
      }
    }
    return out
  }

  @Test func oneSeasonThroughTheImporterIsDeterministicAndReadable() throws {
    let a = Self.temporaryPath("a.sqlite"), b = Self.temporaryPath("b.sqlite")
    let summary = try SynthDatabase.generate(SynthOptions(databasePath: a, seasons: 1, firstSeason: 2019, seed: 42))
    _ = try SynthDatabase.generate(SynthOptions(databasePath: b, seasons: 1, firstSeason: 2019, seed: 42))
    #expect(try Self.dump(a) == Self.dump(b))

    let source = try SourceReader(path: a).read(seasons: [2019])
    let pgs = source.pgs
    #expect(summary.seasons == [2019])
    #expect(summary.pgsRows == pgs.count && summary.pcfRows == source.pcf.count)
    #expect(summary.processedAt == "2020-07-01T12:00:00.000000Z")
    let stamp = Timestamp.parseMicros("2020-07-01T12:00:00Z")
    #expect((0..<pgs.count).allSatisfy { pgs.processedAt[$0] == stamp })
    #expect((0..<source.pcf.count).allSatisfy { source.pcf.processedAt[$0] == stamp })
    // Every 0-minute row is a DNP row for the importer; the generator's DNP rows are among them.
    let dnp = (0..<pgs.count).filter { pgs.isDnp[$0] == true }
    #expect(dnp.count >= summary.dnpRows)
    #expect(dnp.count == summary.zeroMinuteRows)
    #expect(dnp.allSatisfy { pgs.minutesPlayed[$0] == 0 })
    // Usage rate is derived for every row with minutes (team totals are never 0).
    let active = (0..<pgs.count).filter { pgs.isActive($0) }
    #expect(active.allSatisfy { pgs.usageRate[$0] != nil })
    // PCF: one row per active row after the 14 bootstrap days, as `import` derives it.
    let opening = (0..<pgs.count).compactMap { pgs.gameDate[$0] }.min()!
    let expected = active.filter { pgs.gameDate[$0]!.days(since: opening) >= 14 }.count
    #expect(source.pcf.count == expected)
  }

  @Test func refusesAnExistingFileAndABadTimestamp() throws {
    let path = Self.temporaryPath("exists.sqlite")
    #expect(FileManager.default.createFile(atPath: path, contents: Data([1])))
    #expect(throws: SynthError("\(path) already exists; synth writes a new database (remove the file first)")) {
      try SynthDatabase.generate(SynthOptions(databasePath: path, seasons: 1, seed: 1))
    }
    let fresh = Self.temporaryPath("fresh.sqlite")
    #expect(
      throws: SynthError(
        "--processed-at \"yesterday\" is not an ISO 8601 UTC time (expected e.g. 2024-07-01T12:00:00Z)")
    ) {
      try SynthDatabase.generate(SynthOptions(databasePath: fresh, seasons: 1, seed: 1, processedAt: "yesterday"))
    }
    #expect(throws: SynthError("seasons 8990…9010 leave the supported start years 1900…9000")) {
      try SynthDatabase.generate(SynthOptions(databasePath: fresh, seasons: 21, firstSeason: 8990, seed: 1))
    }
    #expect(!FileManager.default.fileExists(atPath: fresh))
  }

  @Test func csvLineMatchesTheRealLogsLayout() {
    var r = PlayerLogRecord(
      seasonYear: 2022, playerId: 1_626_166, playerName: "Cameron Payne", teamId: 1_610_612_756,
      teamAbbreviation: "PHX", teamName: "Phoenix Suns", gameId: "0022200079",
      gameDate: CivilDate(year: 2022, month: 10, day: 28)!.date32, matchup: "PHX vs. NOP", won: true, minutes: 17)
    r.points = 12
    r.fgMakes = 5
    r.fgAttempts = 10
    r.threeMakes = 2
    r.threeAttempts = 3
    r.offensiveRebounds = 1
    r.defensiveRebounds = 1
    r.assists = 5
    r.steals = 1
    r.blocks = 1
    r.turnovers = 1
    r.plusMinus = 16
    // The first data line of ../shared/realdata/raw/antbap23_player_logs/player_logs_2022-23.csv.
    #expect(
      r.csvLine
        == "22022,1626166,Cameron Payne,1610612756,PHX,Phoenix Suns,0022200079,2022-10-28,PHX vs. NOP,W,17,12,5,10,0.5,2,3,0.667,0,0,,1,1,2,5,1,1,1,0,16,2022-23"
    )
  }
}
