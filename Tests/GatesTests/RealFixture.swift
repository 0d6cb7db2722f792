// The real NBA.com 2022-23 box scores of ../shared/realdata, imported by the project's importer
// (PGS + derived PCF). Damaged copies of it are the failing fixtures: each test copies the
// database and breaks it with SQL the way real exports break.
import Columnar
import Foundation
import Importer
import SQLiteSource
import TestSupport
import Testing

enum FixtureError: Error, CustomStringConvertible {
  case missing(String)
  var description: String {
    switch self {
    case .missing(let p): return "real data not found at \(p)"
    }
  }
}

enum RealFixture {
  static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let csvPath = repoRoot.deletingLastPathComponent().appendingPathComponent(
    "shared/realdata/raw/antbap23_player_logs/player_logs_2022-23.csv"
  ).path
  static let scratch = TestScratch.folder("gates")

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

  /// Phase 3 and Phase 4 both written at the end of the regular season.
  static let importedAt = "2023-04-10T12:00:00Z"

  static func build(to path: String) throws -> String {
    guard FileManager.default.fileExists(atPath: csvPath) else { throw FixtureError.missing(csvPath) }
    try? FileManager.default.removeItem(atPath: path)
    _ = try Importer(databasePath: path, processedAt: importedAt).run(files: [csvPath])
    return path
  }
}
