import Columnar
import Foundation
import LZ4

/// The columns of an NBA.com player game log (leaguegamefinder / playergamelogs) the importer
/// reads. Others (FG_PCT, WL, SEASON_ID, …) are ignored.
enum PlayerLogColumn {
  static let required =
    [
      "PLAYER_ID", "PLAYER_NAME", "TEAM_ABBREVIATION", "GAME_ID", "GAME_DATE", "MATCHUP", "MIN",
    ] + statColumns
  /// In the order of the PGS box-score columns (`PGSColumns.stats`).
  static let statColumns = [
    "PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB", "AST", "STL", "BLK", "TOV", "PF",
    "PLUS_MINUS",
  ]
}

/// Index of each box-score stat in `InputRows.stats`.
enum Stat {
  static let pts = 0, fgm = 1, fga = 2, fg3m = 3, fg3a = 4, ftm = 5, fta = 6, oreb = 7, dreb = 8
  static let ast = 9, stl = 10, blk = 11, tov = 12, pf = 13, plusMinus = 14
  static let count = 15
}

/// Player rows of every input file, as columns.
struct InputRows {
  var files: [String] = []
  var file: [Int32] = []
  var line: [Int32] = []
  var fullName: [String] = []
  var playerLookup: [String] = []
  var playerID: [String] = []
  var gameID: [String] = []
  var date: [Date32] = []
  var team: [String] = []
  var matchup: [String] = []
  var minutes: [Double] = []
  var stats: [[Int64?]] = Array(repeating: [], count: Stat.count)

  var count: Int { gameID.count }

  func location(_ row: Int) -> String { "\(files[Int(file[row])]): line \(line[row])" }
}

/// Reads a whole file, inflating `.lz4` (LZ4 frame, as the `lz4` CLI writes it).
func readInputFile(_ path: String) throws(ImportError) -> [UInt8] {
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
    throw ImportError("cannot read \(path): no such file")
  }
  guard !isDirectory.boolValue else { throw ImportError("cannot read \(path): it is a directory") }
  guard let data = FileManager.default.contents(atPath: path) else {
    throw ImportError("cannot read \(path): permission denied or unreadable")
  }
  let raw = [UInt8](data)
  guard path.lowercased().hasSuffix(".lz4") else {
    // Compressed bytes under a .csv name would fail as "line 1: quote inside an unquoted
    // field" or as bad UTF-8: name what the file is instead.
    if let kind = compressedKind(raw) {
      throw ImportError(
        kind == "UTF-16"
          ? "\(path): the file is UTF-16 text (it starts with a UTF-16 byte order mark); expected UTF-8 CSV"
          : "\(path): the file is \(kind) data, not CSV text; only LZ4 frames are read, from a name ending in .lz4")
    }
    return raw
  }
  guard !raw.isEmpty else {
    throw ImportError("\(path): the file is empty (0 bytes); expected an LZ4 frame holding CSV")
  }
  let text: [UInt8]
  do {
    text = try LZ4Frame.decompress(raw, concatenated: true)
  } catch {
    throw ImportError("\(path): not a readable LZ4 frame (\(error))")
  }
  guard !text.isEmpty else {
    throw ImportError(
      "\(path): the LZ4 frame holds no bytes (\(raw.count) bytes compressed, 0 decompressed); expected a header line and rows"
    )
  }
  return text
}

/// "LZ4", "gzip", "zstd", "bzip2", "zip", "xz" or "UTF-16" for the magic bytes that start such
/// files, nil for anything else.
func compressedKind(_ bytes: [UInt8]) -> String? {
  let magics: [([UInt8], String)] = [
    ([0x04, 0x22, 0x4D, 0x18], "LZ4"), ([0x1F, 0x8B], "gzip"), ([0x28, 0xB5, 0x2F, 0xFD], "zstd"),
    ([0x42, 0x5A, 0x68], "bzip2"), ([0x50, 0x4B, 0x03, 0x04], "zip"), ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], "xz"),
    ([0xFF, 0xFE], "UTF-16"), ([0xFE, 0xFF], "UTF-16"),
  ]
  return magics.first { bytes.starts(with: $0.0) }?.1
}

/// A CSV file's records with the header resolved to column indexes.
struct CSVTable {
  let path: String
  var reader: CSVRecordReader
  let header: [String]
  let columnIndex: [String: Int]

  init(path: String, bytes: [UInt8], required: [String]) throws(ImportError) {
    self.path = path
    guard !bytes.isEmpty else {
      throw ImportError("\(path): the file is empty (0 bytes); expected a header line and rows")
    }
    reader = CSVRecordReader(bytes: bytes)
    do {
      guard try reader.next() else {
        throw ImportError("\(path): the file holds only a byte order mark; expected a header line and rows")
      }
    } catch let e as CSVRecordReader.SyntaxError {
      throw ImportError("\(path): line \(e.line): \(e.problem)")
    } catch let e as ImportError {
      throw e
    } catch {
      throw ImportError("\(path): \(error)")
    }
    var names: [String] = []
    var index: [String: Int] = [:]
    for i in 0..<reader.fieldCount {
      let field = reader.field(i)
      guard let name = String(validating: field, as: UTF8.self) else {
        throw ImportError(
          "\(path): line \(reader.line), header field \(i + 1): not valid UTF-8: \"\(printable(field))\"")
      }
      let trimmed = trimmingWhitespace(name)
      names.append(trimmed)
      if let first = index[trimmed] {
        // Two columns of one name: which one holds the values is a guess (a joined
        // player + team export). Refused when the importer reads that name.
        if required.contains(trimmed) {
          throw ImportError(
            "\(path): line \(reader.line): the header names column \(trimmed) twice (fields \(first + 1) and \(i + 1)); "
              + "expected each column once")
        }
      } else {
        index[trimmed] = i
      }
    }
    let missing = required.filter { index[$0] == nil }
    guard missing.isEmpty else {
      throw ImportError(
        "\(path): the header lacks the required column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))"
      )
    }
    header = names
    columnIndex = index
  }

  /// Next data record, checked for width and UTF-8; false at the end.
  mutating func next() throws(ImportError) -> Bool {
    // A line with nothing on it is no record (a trailing blank line, CRLF CRLF at the end):
    // skipped, where "1 fields, but the header has 31" would blame a row that is not there.
    repeat {
      do {
        guard try reader.next() else { return false }
      } catch {
        throw ImportError("\(path): line \(error.line): \(error.problem)")
      }
    } while reader.fieldCount == 1 && reader.field(0).isEmpty && header.count > 1
    guard reader.fieldCount == header.count else {
      throw ImportError("\(path): line \(reader.line): \(reader.fieldCount) fields, but the header has \(header.count)")
    }
    for i in 0..<reader.fieldCount {
      let field = reader.field(i)
      guard field.contains(where: { $0 >= 0x80 || $0 == 0 }) else { continue }
      // SQLite's C strings end at a NUL: "A\0B" would be stored as "A", its lookup as "ab".
      if field.contains(0) { throw fieldError(i, "holds a NUL byte, which no name or number has", field) }
      if String(validating: field, as: UTF8.self) == nil {
        throw fieldError(i, "not valid UTF-8", field)
      }
    }
    return true
  }

  func fieldError(_ column: Int, _ problem: String, _ value: ArraySlice<UInt8>) -> ImportError {
    ImportError("\(path): line \(reader.line), column \(header[column]): \(problem): \"\(printable(value))\"")
  }

  func text(_ column: Int) -> String { String(decoding: reader.field(column), as: UTF8.self) }

  /// Decimal minutes: `34`, `34.5`, or NBA.com's `mm:ss`.
  func minutes(_ column: Int) throws(ImportError) -> Double {
    let field = reader.field(column)
    let s = String(decoding: field, as: UTF8.self)
    if let colon = s.firstIndex(of: ":") {
      if let m = Int(s[..<colon]), let sec = Int(s[s.index(after: colon)...]), m >= 0, (0..<60).contains(sec) {
        return Double(m) + Double(sec) / 60
      }
    } else if !s.isEmpty, s.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let v = Double(s), v.isFinite {
      return v
    }
    throw fieldError(column, "not a number of minutes (expected e.g. 34, 34.5 or 34:30)", field)
  }

  /// An integer count; blank is NULL.
  func integer(_ column: Int) throws(ImportError) -> Int64? {
    let field = reader.field(column)
    if field.isEmpty { return nil }
    guard let v = Int64(String(decoding: field, as: UTF8.self)) else {
      throw fieldError(column, "not an integer", field)
    }
    return v
  }

  func date(_ column: Int) throws(ImportError) -> Date32 {
    let field = reader.field(column)
    guard let d = CivilDate.parse(isoBytes: field) else {
      throw fieldError(column, "not a calendar date in YYYY-MM-DD form", field)
    }
    return d.date32
  }

  func nonEmpty(_ column: Int) throws(ImportError) -> String {
    let field = reader.field(column)
    let s = trimmingWhitespace(String(decoding: field, as: UTF8.self))
    guard !s.isEmpty else { throw fieldError(column, "empty, but a value is required", field) }
    return s
  }

  /// A team abbreviation: 2 to 4 capital letters, as NBA.com writes every one (PHX, NOP).
  /// Abbreviations are compared exactly, so `nop` would be a team of its own: its games would
  /// leave NOP's history and the pace of both teams would be wrong (an importer audit found a
  /// game spelled so in full imported without a word).
  func team(_ column: Int) throws(ImportError) -> String {
    let s = try nonEmpty(column)
    guard (2...4).contains(s.utf8.count), s.utf8.allSatisfy({ (65...90).contains($0) }) else {
      let hint =
        s.uppercased() != s && s.uppercased().utf8.allSatisfy({ (65...90).contains($0) })
        ? ", like \(s.uppercased())" : ""
      throw fieldError(column, "expected a team abbreviation of 2 to 4 capital letters\(hint)", reader.field(column))
    }
    return s
  }
}

extension InputRows {
  /// Appends the rows of one player log file.
  mutating func append(path: String, bytes: [UInt8], lookupCache: inout [String: String]) throws(ImportError) {
    var table = try CSVTable(path: path, bytes: bytes, required: PlayerLogColumn.required)
    let c = table.columnIndex
    let iPlayerID = c["PLAYER_ID"]!, iName = c["PLAYER_NAME"]!, iTeam = c["TEAM_ABBREVIATION"]!
    let iGame = c["GAME_ID"]!, iDate = c["GAME_DATE"]!, iMatchup = c["MATCHUP"]!, iMin = c["MIN"]!
    let iStats = PlayerLogColumn.statColumns.map { c[$0]! }
    let fileIndex = Int32(files.count)
    files.append(path)
    let before = count
    while try table.next() {
      let name = try table.nonEmpty(iName)
      let lookup: String
      if let cached = lookupCache[name] {
        lookup = cached
      } else {
        lookup = PlayerLookup.normalise(name)
        lookupCache[name] = lookup
      }
      guard !lookup.isEmpty else {
        throw table.fieldError(iName, "has no letter or digit to build player_lookup from", table.reader.field(iName))
      }
      let gameDate = try table.date(iDate)
      let game = try table.nonEmpty(iGame)
      let teamAbbr = try table.team(iTeam)
      let mins = try table.minutes(iMin)
      for k in 0..<Stat.count {
        let v = try table.integer(iStats[k])
        // Counts of a box score are never negative (PLUS_MINUS is a difference); no gate checks
        // assists or rebounds, so a -3 would reach the averages.
        if let v, v < 0, k != Stat.plusMinus {
          throw table.fieldError(iStats[k], "a negative count; expected 0 or more", table.reader.field(iStats[k]))
        }
        stats[k].append(v)
      }
      file.append(fileIndex)
      line.append(Int32(table.reader.line))
      fullName.append(name)
      playerLookup.append(lookup)
      playerID.append(table.text(iPlayerID))
      gameID.append(game)
      date.append(gameDate)
      team.append(teamAbbr)
      matchup.append(table.text(iMatchup))
      minutes.append(mins)
    }
    if count == before {
      throw ImportError("\(path): the file has a header but no rows")
    }
  }
}

/// Team totals per game from NBA.com team game logs (`--team-logs`).
struct TeamTotals: Equatable {
  var fga: Double
  var fta: Double
  var tov: Double
  var minutes: Double
  /// False when a player who played has a blank FGA, FTA or TOV: the sum is then not the
  /// team's total, and source-tables.md makes usage_rate NULL when a team total is missing.
  var complete = true
}

func readTeamLogs(path: String) throws(ImportError) -> [String: TeamTotals] {
  let bytes = try readInputFile(path)
  var table = try CSVTable(
    path: path, bytes: bytes, required: ["TEAM_ABBREVIATION", "GAME_ID", "MIN", "FGA", "FTA", "TOV"])
  let c = table.columnIndex
  let iTeam = c["TEAM_ABBREVIATION"]!, iGame = c["GAME_ID"]!, iMin = c["MIN"]!
  let iFGA = c["FGA"]!, iFTA = c["FTA"]!, iTOV = c["TOV"]!
  var totals: [String: TeamTotals] = [:]
  var firstLine: [String: Int] = [:]
  while try table.next() {
    let team = try table.team(iTeam)
    let game = try table.nonEmpty(iGame)
    var mins = try table.minutes(iMin)
    // Some team logs give game minutes (48, 53) instead of team player-minutes (240, 265).
    if mins < 100 { mins *= 5 }
    func required(_ i: Int) throws(ImportError) -> Double {
      guard let v = try table.integer(i) else {
        throw table.fieldError(i, "empty, but a team total is required", table.reader.field(i))
      }
      return Double(v)
    }
    let key = game + "|" + team
    if let first = firstLine[key] {
      throw ImportError(
        "\(path): line \(table.reader.line): second row for team \(team) in game \(game) (first on line \(first))")
    }
    firstLine[key] = table.reader.line
    totals[key] = TeamTotals(
      fga: try required(iFGA), fta: try required(iFTA), tov: try required(iTOV), minutes: roundedTeamMinutes(mins))
  }
  if totals.isEmpty { throw ImportError("\(path): the file has a header but no rows") }
  return totals
}

/// Summed player minutes miss the true team minutes (240 + 25 per overtime) by a few minutes
/// because NBA.com rounds each player's minutes: snap to the nearest 240 + 25k.
func roundedTeamMinutes(_ sum: Double) -> Double {
  let k = max(0, ((sum - 240) / 25).rounded())
  return 240 + 25 * k
}

/// `s.trimmingCharacters(in: .whitespaces)`, without Foundation when neither end can be
/// whitespace (an ASCII byte other than space or tab): the common case, and Foundation's
/// trimming was a fifth of the import's time.
func trimmingWhitespace(_ s: String) -> String {
  guard let first = s.utf8.first, let last = s.utf8.last else { return s }
  func plain(_ b: UInt8) -> Bool { b < 0x80 && b != 0x20 && b != 0x09 }
  if plain(first) && plain(last) { return s }
  return s.trimmingCharacters(in: .whitespaces)
}
