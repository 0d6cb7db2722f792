import Foundation
import SQLiteSource
import TestSupport

/// `<repo>/../shared/realdata/raw/antbap23_player_logs`, found from this file so CI clones work.
let realLogsDir: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.deletingLastPathComponent().appendingPathComponent("shared/realdata/raw/antbap23_player_logs").path
}()

let repoRoot: String = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url.path
}()

/// A fresh directory per test, removed by the caller's `defer`.
struct Scratch {
  let dir: String
  init() {
    dir = NSTemporaryDirectory() + "importer-tests-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  }
  func path(_ name: String) -> String { dir + "/" + name }
  func write(_ name: String, _ text: String) -> String {
    let p = path(name)
    precondition(FileManager.default.createFile(atPath: p, contents: Data(text.utf8)), "could not write \(p)")
    return p
  }
  func write(_ name: String, bytes: [UInt8]) -> String {
    let p = path(name)
    precondition(FileManager.default.createFile(atPath: p, contents: Data(bytes)), "could not write \(p)")
    return p
  }
  func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// Every row of `table` as text, ordered by rowid: what a user sees with `SELECT *`.
func dump(_ db: String, _ table: String) throws -> [String] {
  let c = try Connection(path: db)
  let st = try c.prepare("SELECT * FROM \(table) ORDER BY rowid")
  var out: [String] = []
  while try st.step() {
    out.append(
      (0..<st.columnCount).map { i in
        switch st.storageClass(i) {
        case .null: "NULL"
        case .integer: String(st.int64(i))
        case .real: String(st.double(i))
        default: "'" + (st.text(i) ?? "") + "'"
        }
      }.joined(separator: "|"))
  }
  return out
}

/// Rows of a query, cells joined by `|`.
func query(_ db: String, _ sql: String) throws -> [String] {
  let c = try Connection(path: db)
  let st = try c.prepare(sql)
  var out: [String] = []
  while try st.step() {
    out.append(
      (0..<st.columnCount).map { i in
        switch st.storageClass(i) {
        case .null: "NULL"
        case .integer: String(st.int64(i))
        case .real: String(st.double(i))
        default: st.text(i) ?? ""
        }
      }.joined(separator: "|"))
  }
  return out
}

let logHeader =
  "SEASON_ID,PLAYER_ID,PLAYER_NAME,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,MATCHUP,WL,MIN,PTS,FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,BLK,TOV,PF,PLUS_MINUS,SEASON_LABEL"

/// One hand-made player log line in the real header's column order.
func logLine(
  id: Int, name: String, team: String, game: String, date: String, matchup: String, min: String,
  pts: Int = 10, fgm: Int = 4, fga: Int = 10, fg3m: Int = 1, fg3a: Int = 3, ftm: Int = 1, fta: Int = 2,
  oreb: Int = 1, dreb: Int = 3, ast: Int = 2, stl: Int = 1, blk: Int = 0, tov: Int = 2, pf: Int = 2, pm: Int = 0
) -> String {
  let quotedName = name.contains(",") ? "\"\(name)\"" : name
  return
    "22022,\(id),\(quotedName),1,\(team),\(team) Team,\(game),\(date),\(matchup),W,\(min),\(pts),\(fgm),\(fga),0.4,\(fg3m),\(fg3a),0.333,\(ftm),\(fta),0.5,\(oreb),\(dreb),\(oreb + dreb),\(ast),\(stl),\(blk),\(tov),\(pf),\(pm),2022-23"
}

/// Lines of the real 2022-23 file whose game is among the first `games` games by date.
func realSubset(games: Int) throws -> String {
  let text = try String(contentsOfFile: realLogsDir + "/player_logs_2022-23.csv", encoding: .utf8)
  var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
  let header = lines.removeFirst()
  let parsed = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
  let gameDates = Dictionary(parsed.map { (String($0[6]), String($0[7])) }, uniquingKeysWith: { a, _ in a })
  let chosen = Set(gameDates.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(games).map(\.key))
  return ([header] + lines.filter { chosen.contains(String($0.split(separator: ",")[6])) }).joined(separator: "\n")
    + "\n"
}

/// The `dataset` built with this test bundle: for what only a separate process shows, such as
/// stderr under --quiet.
let datasetBinary = BuiltBinary.dataset(orElse: repoRoot + "/.build/debug/dataset")

/// Runs `dataset` with `arguments`: its exit status, stdout and stderr (small outputs only:
/// stdout is read to its end before stderr).
func runDataset(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: datasetBinary)
  p.arguments = arguments
  let out = Pipe(), err = Pipe()
  p.standardOutput = out
  p.standardError = err
  try p.run()
  let stdout = out.fileHandleForReading.readDataToEndOfFile()
  let stderr = err.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  return (p.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
