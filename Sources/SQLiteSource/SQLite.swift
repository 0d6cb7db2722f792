import CSQLite

/// A failure reported by SQLite, built where the C call failed, carrying the file, the SQL and
/// SQLite's own message.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
  public var path: String
  public var code: Int32
  public var message: String
  public var sql: String?

  public var description: String {
    var s = "\(path): SQLite error \(code): \(message)"
    if let sql { s += " (while running: \(sql))" }
    return s
  }

  /// True when the file exists but is not a database (or is corrupt beyond reading).
  public var isNotADatabase: Bool { code & 0xff == SQLITE_NOTADB || code & 0xff == SQLITE_CORRUPT }
  public var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
}

// SQLITE_TRANSIENT is a macro for ((sqlite3_destructor_type)-1) that Swift cannot import.
let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// One SQLite connection. Not `Sendable`: a connection belongs to the task that opened it.
public final class Connection {
  public let path: String
  let handle: OpaquePointer

  public enum Mode: Sendable {
    case readOnly, readWriteCreate
    /// Read-write on an existing file, only to let SQLite roll back a hot journal: never
    /// creates the file, and never checkpoints a WAL file into it on close (a reader must not
    /// change its source).
    case rollBack
  }

  public init(path: String, mode: Mode = .readOnly, busyTimeoutMilliseconds: Int32 = 5000) throws(SQLiteError) {
    self.path = path
    var db: OpaquePointer?
    let flags: Int32 =
      switch mode {
      case .readOnly: SQLITE_OPEN_READONLY
      case .readWriteCreate: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
      case .rollBack: SQLITE_OPEN_READWRITE
      }
    let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
    guard rc == SQLITE_OK, let db else {
      let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
      sqlite3_close_v2(db)
      throw SQLiteError(path: path, code: rc, message: message)
    }
    handle = db
    if mode == .rollBack { _ = dataset_sqlite3_no_checkpoint_on_close(db) }
    sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    sqlite3_extended_result_codes(db, 1)
  }

  deinit { sqlite3_close_v2(handle) }

  func error(_ rc: Int32, sql: String?) -> SQLiteError {
    SQLiteError(path: path, code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
  }

  /// Runs one or more statements that return no rows.
  public func execute(_ sql: String) throws(SQLiteError) {
    var errmsg: UnsafeMutablePointer<CChar>?
    let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
    if rc != SQLITE_OK {
      let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
      sqlite3_free(errmsg)
      throw SQLiteError(path: path, code: rc, message: message, sql: sql)
    }
  }

  public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
    try Statement(connection: self, sql: sql)
  }

  /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
  public func transaction<R>(_ body: () throws -> R) throws -> R {
    try execute("BEGIN IMMEDIATE")
    do {
      let result = try body()
      try execute("COMMIT")
      return result
    } catch {
      try? execute("ROLLBACK")
      throw error
    }
  }

  public var changes: Int { Int(sqlite3_changes(handle)) }

  /// Names of the columns of `table`, in declaration order; empty when the table does not exist.
  public func columnNames(of table: String) throws(SQLiteError) -> [String] {
    // table_xinfo also lists generated columns (hidden 2 and 3), which a SELECT reads like any
    // other; hidden 1 is a virtual table's hidden column, not part of its rows.
    let st = try prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden != 1")
    try st.bind(1, table)
    var names: [String] = []
    while try st.step() { names.append(st.text(0) ?? "") }
    return names
  }

  public func tableExists(_ table: String) throws(SQLiteError) -> Bool {
    let st = try prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?1")
    try st.bind(1, table)
    return try st.step()
  }
}

/// A prepared statement. Values are read by column index; `step()` returns false when done.
public final class Statement {
  let connection: Connection
  let handle: OpaquePointer
  public let sql: String

  init(connection: Connection, sql: String) throws(SQLiteError) {
    self.connection = connection
    self.sql = sql
    var st: OpaquePointer?
    let rc = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &st, nil)
    guard rc == SQLITE_OK, let st else { throw connection.error(rc, sql: sql) }
    handle = st
  }

  deinit { sqlite3_finalize(handle) }

  public func reset() {
    sqlite3_reset(handle)
    sqlite3_clear_bindings(handle)
  }

  public func bind(_ index: Int32, _ value: String?) throws(SQLiteError) {
    let rc: Int32
    if let value {
      rc = sqlite3_bind_text(handle, index, value, -1, sqliteTransient)
    } else {
      rc = sqlite3_bind_null(handle, index)
    }
    guard rc == SQLITE_OK else { throw connection.error(rc, sql: sql) }
  }

  public func bind(_ index: Int32, _ value: Int64?) throws(SQLiteError) {
    let rc = value.map { sqlite3_bind_int64(handle, index, $0) } ?? sqlite3_bind_null(handle, index)
    guard rc == SQLITE_OK else { throw connection.error(rc, sql: sql) }
  }

  public func bind(_ index: Int32, _ value: Int?) throws(SQLiteError) {
    try bind(index, value.map { Int64($0) })
  }

  public func bind(_ index: Int32, _ value: Double?) throws(SQLiteError) {
    let rc = value.map { sqlite3_bind_double(handle, index, $0) } ?? sqlite3_bind_null(handle, index)
    guard rc == SQLITE_OK else { throw connection.error(rc, sql: sql) }
  }

  /// Advances to the next row; false when the statement is done.
  public func step() throws(SQLiteError) -> Bool {
    let rc = sqlite3_step(handle)
    switch rc {
    case SQLITE_ROW: return true
    case SQLITE_DONE: return false
    default: throw connection.error(rc, sql: sql)
    }
  }

  /// Runs a statement that returns no rows, then resets it for the next bindings.
  public func run() throws(SQLiteError) {
    defer { reset() }
    _ = try step()
  }

  public enum StorageClass: Sendable { case integer, real, text, blob, null }

  public func storageClass(_ column: Int32) -> StorageClass {
    switch sqlite3_column_type(handle, column) {
    case SQLITE_INTEGER: .integer
    case SQLITE_FLOAT: .real
    case SQLITE_TEXT: .text
    case SQLITE_BLOB: .blob
    default: .null
    }
  }

  public func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
  public func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

  public func text(_ column: Int32) -> String? {
    guard let p = sqlite3_column_text(handle, column) else { return nil }
    let n = Int(sqlite3_column_bytes(handle, column))
    return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
  }

  /// The raw bytes of a TEXT or BLOB value, valid only inside `body`.
  public func withTextBytes<R>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    let p = sqlite3_column_text(handle, column)
    let n = Int(sqlite3_column_bytes(handle, column))
    return try body(UnsafeBufferPointer(start: p, count: p == nil ? 0 : n))
  }

  public var columnCount: Int32 { sqlite3_column_count(handle) }
}
