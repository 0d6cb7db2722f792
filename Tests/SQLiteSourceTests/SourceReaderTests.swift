import Columnar
import Foundation
import Importer
import SQLiteSource
import Testing

private let logsDir: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<4 { url.deleteLastPathComponent() }
  return url.appendingPathComponent("shared/realdata/raw/antbap23_player_logs").path
}()

private struct TempDir {
  let dir = NSTemporaryDirectory() + "source-reader-tests-" + UUID().uuidString
  init() { try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
  func path(_ name: String) -> String { dir + "/" + name }
  func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// The first `games` games by date of the real 2022-23 log, header included.
private func realGames(_ games: Int) throws -> String {
  let text = try String(contentsOfFile: logsDir + "/player_logs_2022-23.csv", encoding: .utf8)
  var lines = text.split(separator: "\n")
  let header = lines.removeFirst()
  let ids = Dictionary(
    lines.map { l in
      let c = l.split(separator: ","); return (String(c[6]), String(c[7]))
    }, uniquingKeysWith: { a, _ in a })
  let keep = Set(ids.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(games).map(\.key))
  return ([header] + lines.filter { keep.contains(String($0.split(separator: ",")[6])) }).joined(separator: "\n") + "\n"
}

@Suite struct SourceReaderTests {
  @Test func readsBackAnImportedSeason() throws {
    let t = TempDir()
    defer { t.remove() }
    let csv = t.path("sub.csv")
    try realGames(60).write(toFile: csv, atomically: true, encoding: .utf8)
    let db = t.path("league.sqlite")
    let summary = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [csv])
    let reader = SourceReader(path: db)
    #expect(try reader.availableSeasons() == [2022])
    let data = try reader.read(seasons: [2022])
    #expect(data.pgs.count == summary.rowsRead)
    #expect(data.pcf.count == summary.pcfInserted)
    // Spot values the reader must return exactly as imported: game ids with leading zeros,
    // dates, processed_at, and NULL usage exactly on the 0-minute rows.
    #expect((0..<data.pgs.count).allSatisfy { data.pgs.gameId[$0]!.hasPrefix("00222") })
    #expect(
      Set((0..<data.pgs.count).map { data.pgs.processedAt[$0]! }) == [Timestamp.parseMicros("2024-01-01T00:00:00Z")!])
    let nullUsage = (0..<data.pgs.count).filter { data.pgs.usageRate[$0] == nil }
    #expect(nullUsage == (0..<data.pgs.count).filter { data.pgs.minutesPlayed[$0] == 0 })
    #expect((0..<data.pgs.count).map { data.pgs.gameDate[$0]! }.min() == Date32(iso: "2022-10-18"))
    #expect((0..<data.pcf.count).allSatisfy { data.pcf.calculationVersion[$0] == "boxscore_v1" })
  }

  func error(_ db: String, seasons: [Int] = [2022]) -> SourceError? {
    do {
      _ = try SourceReader(path: db).read(seasons: seasons)
      return nil
    } catch {
      return error
    }
  }

  func makeDB(_ path: String, _ sql: String) throws {
    let c = try Connection(path: path, mode: .readWriteCreate)
    try c.execute(sql)
  }

  /// A WAL-mode database with commits still in its -wal file and a leftover -journal beside
  /// it: the rollback before the hash opened it read-write whenever a journal existed, and
  /// closing that connection checkpointed the WAL into the file. The build changed its source.
  @Test func aLeftoverJournalBesideAWALDatabaseChangesNothing() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("wal.sqlite")
    try makeDB(
      db, "CREATE TABLE player_game_summary (season_year INTEGER); INSERT INTO player_game_summary VALUES (2022);")
    do {
      // No checkpoint on close, so the commit stays in the -wal file, as after a killed writer.
      let writer = try Connection(path: db, mode: .rollBack)
      try writer.execute(
        "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0; INSERT INTO player_game_summary VALUES (2023);")
    }
    FileManager.default.createFile(atPath: db + "-journal", contents: Data())
    let before = try Data(contentsOf: URL(fileURLWithPath: db))
    let walBefore = try FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int
    #expect((walBefore ?? 0) > 0)
    SourceReader(path: db).rollBackInterruptedWrite()
    #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
    #expect(try FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int == walBefore)
    // The committed row is still read (through the WAL).
    #expect(try SourceReader(path: db).availableSeasons() == [2022, 2023])
  }

  @Test func brokenDatabasesAreNamedPrecisely() throws {
    let t = TempDir()
    defer { t.remove() }
    let missing = t.path("missing.sqlite")
    #expect(
      error(missing)?.description
        == "\(missing): no such file (expected a SQLite database holding player_game_summary and player_composite_factors)"
    )

    let text = t.path("notes.sqlite")
    try String(repeating: "this is not a database\n", count: 100).write(toFile: text, atomically: true, encoding: .utf8)
    #expect(error(text)?.description == "\(text): not a SQLite database (file is not a database)")

    let noPCF = t.path("nopcf.sqlite")
    try makeDB(noPCF, sourceSchemaDDL + "DROP TABLE player_composite_factors; CREATE TABLE notes(x);")
    #expect(
      error(noPCF)?.description
        == "\(noPCF): table player_composite_factors is missing (tables present: notes, player_game_summary)")

    let fewColumns = t.path("cols.sqlite")
    try makeDB(
      fewColumns,
      sourceSchemaDDL.replacingOccurrences(of: "  usage_rate          REAL,\n", with: "")
        .replacingOccurrences(of: "  is_home             INTEGER,\n", with: ""))
    #expect(
      error(fewColumns)?.description
        == "\(fewColumns): table player_game_summary is missing columns is_home, usage_rate")

    let textInInteger = t.path("text.sqlite")
    try makeDB(
      textInInteger,
      sourceSchemaDDL + """
        INSERT INTO player_game_summary (player_lookup, game_id, game_date, season_year, team_abbr, opponent_team_abbr, points, processed_at)
        VALUES ('a', '0022200001', '2022-10-18', 2022, 'AAA', 'BBB', 12, '2024-01-01T00:00:00Z'),
               ('b', '0022200001', '2022-10-18', 2022, 'AAA', 'BBB', 'twelve', '2024-01-01T00:00:00Z');
        """)
    #expect(
      error(textInInteger)?.description
        == "\(textInInteger): player_game_summary.points at rowid 2 holds 'twelve', expected an INTEGER")

    #expect(
      error(textInInteger, seasons: [2019, 2022])?.description
        == "\(textInInteger): no player_game_summary rows for season 2019-20 (seasons in the database: 2022-23)")
  }
}
