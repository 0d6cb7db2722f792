/// Why the source database cannot be used. Every case names the file, and where it applies
/// the table, column, rowid and value. All of them map to exit code 3 (gates.md).
public enum SourceError: Error, Equatable, CustomStringConvertible, Sendable {
  case fileMissing(path: String)
  case notADatabase(path: String, detail: String)
  /// A SQLite database whose pages SQLite itself calls corrupt (SQLITE_CORRUPT): truncated,
  /// overwritten, a byte flipped.
  case damaged(path: String, detail: String)
  case tableMissing(path: String, table: String, tablesPresent: [String])
  case columnsMissing(path: String, table: String, missing: [String])
  case withoutRowid(path: String, table: String)
  case badValue(path: String, table: String, column: String, rowid: Int64, value: String, expected: String)
  case nullInRequiredColumn(path: String, table: String, column: String, rowid: Int64)
  case seasonsWithoutRows(path: String, requested: [Int], existing: [Int])
  case locked(path: String, detail: String)
  case sqlite(path: String, detail: String)

  public var description: String {
    switch self {
    case .fileMissing(let path):
      return
        "\(path): no such file (expected a SQLite database holding player_game_summary and player_composite_factors)"
    case .notADatabase(let path, let detail):
      return "\(path): not a SQLite database (\(detail))"
    case .damaged(let path, let detail):
      return "\(path): a damaged SQLite database (\(detail)): restore it from a copy or export it again "
        + "(`sqlite3 \(path) 'PRAGMA integrity_check'` lists the damage)"
    case .tableMissing(let path, let table, let present):
      let list = present.isEmpty ? "none" : present.joined(separator: ", ")
      return "\(path): table \(table) is missing (tables present: \(list))"
    case .columnsMissing(let path, let table, let missing):
      return
        "\(path): table \(table) is missing column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", "))"
    case .withoutRowid(let path, let table):
      return "\(path): table \(table) is a WITHOUT ROWID table, which dataset cannot read (it reads and names rows by "
        + "rowid): copy it into an ordinary table (CREATE TABLE \(table)_copy AS SELECT * FROM \(table); DROP TABLE \(table); "
        + "ALTER TABLE \(table)_copy RENAME TO \(table)) and create its indexes again"
    case .badValue(let path, let table, let column, let rowid, let value, let expected):
      return "\(path): \(table).\(column) at rowid \(rowid) holds \(value), expected \(expected)"
    case .nullInRequiredColumn(let path, let table, let column, let rowid):
      return "\(path): \(table).\(column) at rowid \(rowid) is NULL, but the column is NOT NULL"
    case .seasonsWithoutRows(let path, let requested, let existing):
      let req = Season.labels(requested)
      let ex = existing.isEmpty ? "none" : Season.labels(existing)
      return "\(path): no player_game_summary rows for season \(req) (seasons in the database: \(ex))"
    case .locked(let path, let detail):
      return "\(path): database is locked by another process (\(detail)); try again when it finishes"
    case .sqlite(let path, let detail):
      return "\(path): \(detail)"
    }
  }
}
