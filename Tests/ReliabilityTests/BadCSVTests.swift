// The broken-CSV corpus for `dataset import`, run through the binary against a database that
// already holds a season: every refusal must exit 3 with the full message and leave the
// database byte for byte as it was; every accepted variant (CRLF, BOM, quoted commas, extra
// columns) must land exactly the rows the plain file lands. Library-level message tests live in
// Tests/ImporterTests; this suite proves the same inputs end the same way for a scheduler.
import Foundation
import LZ4
import SQLiteSource
import Testing

/// The real first game of 2022-23 (both teams), header on line 1.
let oneGame: String = (try? realGames(1)) ?? ""

/// Replaces the field `column` of physical line `line` (1-based, header = 1) of the real
/// game. Real NBA.com logs hold no quoted fields, so a comma split is exact here.
func editField(_ text: String, line: Int, column: String, to value: String) -> String {
  var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  let header = lines[0].split(separator: ",").map(String.init)
  guard let k = header.firstIndex(of: column) else { return "no column \(column)" }
  var cells = lines[line - 1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
  cells[k] = value
  lines[line - 1] = cells.joined(separator: ",")
  return lines.joined(separator: "\n")
}

/// The value of field `column` on physical line `line` of the real game.
func field(_ text: String, line: Int, column: String) -> String {
  let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  let header = lines[0].split(separator: ",").map(String.init)
  guard let k = header.firstIndex(of: column) else { return "" }
  return String(lines[line - 1].split(separator: ",", omittingEmptySubsequences: false)[k])
}

struct CSVCase: Sendable, CustomTestStringConvertible {
  var name: String
  var bytes: @Sendable () -> [UInt8]
  /// File name inside the scratch folder (the extension picks plain or LZ4 input).
  var file = "logs.csv"
  var stderr: String
  var testDescription: String { name }
}

func text(_ make: @escaping @Sendable () -> String) -> @Sendable () -> [UInt8] { { Array(make().utf8) } }

let refusedCSVs: [CSVCase] = [
  CSVCase(
    name: "0-byte CSV", bytes: { [] },
    stderr: "error: {f}: the file is empty (0 bytes); expected a header line and rows\n"),
  CSVCase(
    name: "only a BOM", bytes: { [0xEF, 0xBB, 0xBF] },
    stderr: "error: {f}: the file holds only a byte order mark; expected a header line and rows\n"),
  CSVCase(
    name: "header without MIN and PTS",
    bytes: text { oneGame.replacingOccurrences(of: ",MIN,PTS,", with: ",MINUTES,POINTS,") },
    stderr: "error: {f}: the header lacks the required columns MIN, PTS\n"),
  CSVCase(
    name: "row missing its last field",
    bytes: text { oneGame.replacingOccurrences(of: ",2022-23\n", with: "\n") },
    stderr: "error: {f}: line 2: 30 fields, but the header has 31\n"),
  CSVCase(
    name: "row with an extra field",
    bytes: text { editField(oneGame, line: 3, column: "SEASON_LABEL", to: "2022-23,surplus") },
    stderr: "error: {f}: line 3: 32 fields, but the header has 31\n"),
  CSVCase(
    name: "month 13, day 45", bytes: text { editField(oneGame, line: 2, column: "GAME_DATE", to: "2023-13-45") },
    stderr: "error: {f}: line 2, column GAME_DATE: not a calendar date in YYYY-MM-DD form: \"2023-13-45\"\n"),
  CSVCase(
    name: "empty date", bytes: text { editField(oneGame, line: 2, column: "GAME_DATE", to: "") },
    stderr: "error: {f}: line 2, column GAME_DATE: not a calendar date in YYYY-MM-DD form: \"\"\n"),
  CSVCase(
    name: "NaN minutes", bytes: text { editField(oneGame, line: 2, column: "MIN", to: "NaN") },
    stderr: "error: {f}: line 2, column MIN: not a number of minutes (expected e.g. 34, 34.5 or 34:30): \"NaN\"\n"),
  CSVCase(
    name: "infinite minutes", bytes: text { editField(oneGame, line: 2, column: "MIN", to: "inf") },
    stderr: "error: {f}: line 2, column MIN: not a number of minutes (expected e.g. 34, 34.5 or 34:30): \"inf\"\n"),
  CSVCase(
    name: "minutes past Double's range",
    bytes: text { editField(oneGame, line: 2, column: "MIN", to: String(repeating: "9", count: 400)) },
    stderr:
      "error: {f}: line 2, column MIN: not a number of minutes (expected e.g. 34, 34.5 or 34:30): \"\(String(repeating: "9", count: 400))\"\n"
  ),
  CSVCase(
    name: "negative minutes", bytes: text { editField(oneGame, line: 2, column: "MIN", to: "-12") },
    stderr: "error: {f}: line 2, column MIN: not a number of minutes (expected e.g. 34, 34.5 or 34:30): \"-12\"\n"),
  CSVCase(
    name: "negative mm:ss minutes", bytes: text { editField(oneGame, line: 2, column: "MIN", to: "-12:30") },
    stderr: "error: {f}: line 2, column MIN: not a number of minutes (expected e.g. 34, 34.5 or 34:30): \"-12:30\"\n"),
  CSVCase(
    name: "points past Int64", bytes: text { editField(oneGame, line: 2, column: "PTS", to: "9223372036854775808") },
    stderr: "error: {f}: line 2, column PTS: not an integer: \"9223372036854775808\"\n"),
  CSVCase(
    name: "Latin-1 byte in a name",
    bytes: {
      Array(editField(oneGame, line: 2, column: "PLAYER_NAME", to: "Jos@").utf8).map {
        $0 == UInt8(ascii: "@") ? 0xE9 : $0
      }
    },
    stderr: "error: {f}: line 2, column PLAYER_NAME: not valid UTF-8: \"Jos\\xE9\"\n"),
  CSVCase(
    name: "unclosed quote", bytes: text { editField(oneGame, line: 4, column: "TEAM_NAME", to: "\"Phoenix Suns") },
    stderr: "error: {f}: line 4: quoted field opened on line 4 is never closed\n"),
  CSVCase(
    name: "truncated LZ4 frame", bytes: { Array((try? LZ4Frame.compress(Array(oneGame.utf8))) ?? []).dropLast(9) },
    file: "logs.csv.lz4",
    stderr:
      "error: {f}: not a readable LZ4 frame (LZ4 decompress failed: frame is truncated ({size} bytes read, frame not complete))\n"
  ),
]

@Suite struct BadCSVTests {
  @Test(arguments: refusedCSVs)
  func refusedCSVLeavesTheDatabaseAsItWas(_ c: CSVCase) throws {
    let s = Scratch("csv-\(c.name)")
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let before = fileBytes(db)
    let input = c.bytes()
    let f = s.write(c.file, bytes: input)
    let r = try runCLI(["import", "--db", db, "--quiet", f])
    #expect(r.signal == nil, "\(r)")
    #expect(r.status == 3, "\(r)")
    #expect(
      r.stderr
        == c.stderr.replacingOccurrences(of: "{f}", with: f).replacingOccurrences(
          of: "{size}", with: String(input.count)))
    #expect(r.stdout == "")
    #expect(fileBytes(db) == before)
  }

  /// Variants a spreadsheet or a Windows export produces: the same rows land as from the plain
  /// file, compared column by column (processed_at aside, which is the import time).
  @Test(arguments: [
    "CRLF line ends", "byte order mark", "quoted fields with commas and doubled quotes", "extra columns",
  ])
  func acceptedVariantLandsTheSameRows(_ name: String) throws {
    let s = Scratch("variant-\(name)")
    defer { s.remove() }
    let plain = s.write("plain.csv", oneGame)
    let changed = s.write("variant.csv", Self.variant(name, oneGame))
    #expect(fileBytes(plain) != fileBytes(changed))
    let a = try runCLI(["import", "--db", s.path("a.sqlite"), "--quiet", plain])
    let b = try runCLI(["import", "--db", s.path("b.sqlite"), "--quiet", changed])
    #expect(a.status == 0 && b.status == 0, "\(a)\n\(b)")
    #expect(b.stderr == "")
    let columns = try Connection(path: s.path("a.sqlite")).columnNames(of: "player_game_summary").filter {
      $0 != "processed_at"
    }
    let rows = "SELECT \(columns.joined(separator: ", ")) FROM player_game_summary ORDER BY rowid"
    let expected = try table(s.path("a.sqlite"), rows)
    #expect(expected.count == oneGame.split(separator: "\n").count - 1)
    #expect(try table(s.path("b.sqlite"), rows) == expected)
  }

  static func variant(_ name: String, _ t: String) -> String {
    switch name {
    case "CRLF line ends": return t.replacingOccurrences(of: "\n", with: "\r\n")
    case "byte order mark": return "\u{FEFF}" + t
    case "quoted fields with commas and doubled quotes":
      // TEAM_NAME is not stored, so a comma and quotes in it must change nothing; MATCHUP is
      // stored, so it keeps its value and only gains quotes.
      let matchup = field(t, line: 3, column: "MATCHUP")
      return editField(
        editField(t, line: 2, column: "TEAM_NAME", to: "\"Trail, \"\"the\"\" Blazers\""), line: 3, column: "MATCHUP",
        to: "\"\(matchup)\"")
    case "extra columns":
      return t.split(separator: "\n").enumerated().map { $0 == 0 ? $1 + ",VIDEO_AVAILABLE,NOTE" : $1 + ",1,\"a, b\"" }
        .joined(separator: "\n") + "\n"
    default: return t
    }
  }

  /// SQL in a name is stored and read back as text: every statement binds its values.
  @Test func sqlInAPlayerNameIsData() throws {
    let s = Scratch()
    defer { s.remove() }
    let evil = "Robert'); DROP TABLE player_game_summary; --"
    let f = s.write("evil.csv", editField(oneGame, line: 2, column: "PLAYER_NAME", to: evil))
    let r = try runCLI(["import", "--db", s.path("l.sqlite"), "--quiet", f])
    #expect(r.status == 0, "\(r)")
    #expect(
      try table(s.path("l.sqlite"), "SELECT player_full_name, player_lookup FROM player_game_summary WHERE rowid = 1")
        == ["\(evil)|robertdroptableplayergamesummary"])
    #expect(try table(s.path("l.sqlite"), "SELECT COUNT(*) FROM player_composite_factors").count == 1)
  }

  /// A 10,000-character name is text, not an error: imported whole, read back whole.
  @Test func tenThousandCharacterName() throws {
    let s = Scratch()
    defer { s.remove() }
    let long = String(repeating: "Ab", count: 5_000)
    let f = s.write("long.csv", editField(oneGame, line: 2, column: "PLAYER_NAME", to: long))
    let r = try runCLI(["import", "--db", s.path("l.sqlite"), "--quiet", f])
    #expect(r.status == 0, "\(r)")
    #expect(
      try table(
        s.path("l.sqlite"),
        "SELECT length(player_full_name), player_lookup = lower(player_full_name) FROM player_game_summary WHERE rowid = 1"
      ) == ["10000|1"])
  }

  /// The target database is damaged or held by another writer: exit 3, no partial write.
  @Test func importIntoATruncatedDatabase() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    try Data(fileBytes(db).prefix(3 * 4096)).write(to: URL(fileURLWithPath: db))
    let before = fileBytes(db)
    let f = s.write("g.csv", oneGame)
    let r = try runCLI(["import", "--db", db, "--quiet", f])
    #expect(r.status == 3, "\(r)")
    #expect(
      r.stderr.hasPrefix(
        "error: database \(db): damaged or not an SQLite database: database disk image is malformed (SQLite error 11, while running "
      ),
      "\(r)")
    #expect(r.stderr.hasSuffix("; nothing was written\n"), "\(r)")
    #expect(fileBytes(db) == before)
  }

  @Test func importWhileAnotherWriterHoldsTheDatabase() throws {
    let s = Scratch()
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let writer = try Connection(path: db, mode: .readWriteCreate)
    try writer.execute("BEGIN IMMEDIATE; UPDATE player_game_summary SET points = points WHERE rowid = 1;")
    let f = s.write("g.csv", oneGame)
    let r = try runCLI(["import", "--db", db, "--quiet", f])
    try writer.execute("ROLLBACK")
    #expect(r.status == 3, "\(r)")
    #expect(
      r.stderr
        == "error: database \(db): database is locked (SQLite error 5, while running BEGIN IMMEDIATE); nothing was written\n"
    )
  }
}

/// Rows of `sql`, cells joined by `|`.
func table(_ db: String, _ sql: String) throws -> [String] {
  let c = try Connection(path: db)
  let st = try c.prepare(sql)
  var out: [String] = []
  while try st.step() {
    var cells: [String] = []
    for i in 0..<st.columnCount {
      switch st.storageClass(i) {
      case .null: cells.append("NULL")
      case .integer: cells.append(String(st.int64(i)))
      case .real: cells.append(String(st.double(i)))
      default: cells.append(st.text(i) ?? "")
      }
    }
    out.append(cells.joined(separator: "|"))
  }
  return out
}
