import Columnar
import CSQLite

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// SQLITE_READONLY_ROLLBACK (SQLITE_READONLY | 3 << 8): a C macro expression Swift does not import.
let sqliteReadOnlyRollback: Int32 = 776

/// Reads the source tables of the requested seasons into typed columns: one prepared
/// statement and one pass per table, every value type-checked against its declared column.
public struct SourceReader {
  public let path: String

  public init(path: String) { self.path = path }

  static let pgsColumns: [ColumnSpec] = [
    .init("player_lookup", .text(required: true)), .init("player_full_name", .text(required: false)),
    .init("universal_player_id", .text(required: false)), .init("game_id", .text(required: true)),
    .init("game_date", .date), .init("season_year", .integer(required: true)),
    .init("team_abbr", .text(required: true)), .init("opponent_team_abbr", .text(required: true)),
    .init("is_home", .flag), .init("minutes_played", .real),
    .init("points", .integer(required: false)), .init("fg_makes", .integer(required: false)),
    .init("fg_attempts", .integer(required: false)), .init("three_pt_makes", .integer(required: false)),
    .init("three_pt_attempts", .integer(required: false)), .init("ft_makes", .integer(required: false)),
    .init("ft_attempts", .integer(required: false)), .init("offensive_rebounds", .integer(required: false)),
    .init("defensive_rebounds", .integer(required: false)), .init("assists", .integer(required: false)),
    .init("steals", .integer(required: false)), .init("blocks", .integer(required: false)),
    .init("turnovers", .integer(required: false)), .init("personal_fouls", .integer(required: false)),
    .init("plus_minus", .integer(required: false)), .init("usage_rate", .real),
    .init("is_dnp", .flag), .init("processed_at", .timestamp),
  ]

  static let pcfColumns: [ColumnSpec] = [
    .init("player_lookup", .text(required: true)), .init("game_date", .date),
    .init("game_id", .text(required: true)), .init("fatigue_score", .integer(required: false)),
    .init("shot_zone_mismatch_score", .real), .init("pace_score", .real),
    .init("usage_spike_score", .real), .init("total_composite_adjustment", .real),
    .init("calculation_version", .text(required: false)), .init("processed_at", .timestamp),
  ]

  static let scheduleColumns: [ColumnSpec] = [
    .init("game_id", .text(required: true)), .init("game_date", .date),
    .init("season_year", .integer(required: true)), .init("home_team_abbr", .text(required: true)),
    .init("away_team_abbr", .text(required: true)),
  ]

  /// Opens the database read-only, checking that it is a SQLite file with the expected tables.
  public func open() throws(SourceError) -> Connection {
    var st = stat()
    guard stat(path, &st) == 0 else { throw .fileMissing(path: path) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw .notADatabase(path: path, detail: "not a regular file") }
    guard st.st_size > 0 else { throw Self.emptyFile(path) }
    // SQLite says only "unable to open database file": name the cause a person can fix.
    guard access(path, R_OK) == 0 else {
      let reason = String(cString: strerror(errno))
      throw .sqlite(
        path: path,
        detail:
          "cannot open the database for reading: \(reason) (mode \(String(st.st_mode & 0o777, radix: 8)), owner uid \(st.st_uid); the build runs as uid \(geteuid()))"
      )
    }
    do {
      return try openReadOnly()
    } catch let error where error.code == sqliteReadOnlyRollback {
      // A writer (an import) was killed mid-transaction and left a hot journal. SQLite rolls
      // it back, restoring the last committed state, on the first read of a connection that
      // may write; a read-only one refuses with "attempt to write a readonly database". So
      // let one read-write read do that recovery, then read as usual.
      do {
        let recovery = try Connection(path: path, mode: .rollBack)
        _ = try recovery.tableExists("player_game_summary")
      } catch {
        throw .sqlite(
          path: path,
          detail:
            "an earlier write to this database was interrupted and its journal (\(path)-journal) could not be rolled back: \(error.message)"
        )
      }
      // A first import killed before its commit: rolled back, nothing is left.
      var after = stat()
      if stat(path, &after) == 0, after.st_size == 0 { throw Self.emptyFile(path) }
      do { return try openReadOnly() } catch { throw Self.classify(error, path: path) }
    } catch {
      throw Self.classify(error, path: path)
    }
  }

  /// An empty database file. Nothing was ever committed to it; what usually leaves one is a
  /// first `dataset import` killed before its commit (with its journal beside it until a read
  /// rolls that back), so the message says what to do.
  static func emptyFile(_ path: String) -> SourceError {
    .notADatabase(
      path: path,
      detail: "the file is empty, 0 bytes: nothing was ever committed to it; an import into a new database that was "
        + "interrupted before it committed leaves this, and running that import again fills it")
  }

  /// Rolls back the journal a writer killed mid-transaction left (a hot journal), when there
  /// is one and nobody holds the database, so that the file stops changing before anything
  /// hashes it; `read` would do the same at its first query. Without waiting: a live writer
  /// (whose journal is not hot) is the read's to wait for, once. Errors are left to the read.
  public func rollBackInterruptedWrite() {
    // SQLite decides whether the journal is hot: a read-only read refuses with
    // SQLITE_READONLY_ROLLBACK only then. A leftover journal that is not hot (beside a
    // WAL-mode database, say) must not lead to a read-write connection, which would
    // checkpoint the WAL into the file on close: the build would change its own source.
    var file = stat(), journal = stat()
    guard stat(path, &file) == 0, (file.st_mode & S_IFMT) == S_IFREG, file.st_size > 0,
      stat(path + "-journal", &journal) == 0,
      let reader = try? Connection(path: path, mode: .readOnly, busyTimeoutMilliseconds: 0)
    else { return }
    do {
      _ = try reader.tableExists("player_game_summary")
    } catch  where error.code == sqliteReadOnlyRollback {
      guard let recovery = try? Connection(path: path, mode: .rollBack, busyTimeoutMilliseconds: 0) else { return }
      _ = try? recovery.tableExists("player_game_summary")
    } catch {}
  }

  private func openReadOnly() throws(SQLiteError) -> Connection {
    let connection = try Connection(path: path, mode: .readOnly)
    // The first real read is where SQLite notices a file that is not a database.
    _ = try connection.tableExists("player_game_summary")
    return connection
  }

  static func classify(_ error: SQLiteError, path: String) -> SourceError {
    if error.code & 0xff == SQLITE_CORRUPT { return .damaged(path: path, detail: error.message) }
    if error.isNotADatabase { return .notADatabase(path: path, detail: error.message) }
    if error.isBusy { return .locked(path: path, detail: error.message) }
    // SQLITE_READONLY_DIRECTORY: a WAL-mode database needs its -shm file beside it, which a
    // read-only folder refuses; SQLite's own words ("attempt to write") mislead a reader.
    if error.code == 1544 {
      return .sqlite(
        path: path,
        detail:
          "the database is in WAL mode and its folder is read-only: SQLite must create \(path)-shm beside it even to read. "
          + "Copy the file to a writable folder, or where it is written run `PRAGMA journal_mode=DELETE` once "
          + "(SQLite error 1544: \(error.message))")
    }
    // The path is in the message already: SQLiteError's description repeats it.
    var detail = "SQLite error \(error.code): \(error.message)"
    if let sql = error.sql { detail += " (while running: \(sql))" }
    return .sqlite(path: path, detail: detail)
  }

  /// Season start years that have PGS rows, ascending.
  public func availableSeasons() throws(SourceError) -> [Int] {
    let connection = try open()
    try requireTable(connection, "player_game_summary", columns: [ColumnSpec("season_year", .integer(required: true))])
    return try availableSeasons(connection)
  }

  /// The lowest and highest season_year with PGS rows, nil for a table without one. Each is
  /// its own `SELECT min(…)`/`max(…)`, which SQLite answers from an index on season_year in a
  /// few page reads; a table that also holds non-integer seasons is listed in full instead.
  public func seasonRange() throws(SourceError) -> ClosedRange<Int>? {
    let connection = try open()
    try requireTable(connection, "player_game_summary", columns: [ColumnSpec("season_year", .integer(required: true))])
    var ends: [Int] = []
    for sql in ["SELECT min(season_year) FROM player_game_summary", "SELECT max(season_year) FROM player_game_summary"]
    {
      let value: Int??
      do {
        let st = try connection.prepare(sql)
        guard try st.step() else { return nil }
        switch st.storageClass(0) {
        case .null: return nil
        case .integer: value = .some(Int(st.int64(0)))
        default: value = .none
        }
      } catch {
        throw Self.classify(error, path: path)
      }
      guard let end = value else {
        let all = try availableSeasons(connection)
        guard let first = all.first, let last = all.last else { return nil }
        return first...last
      }
      ends.append(end!)
    }
    // A span reaching outside the calendar would widen a window to billions of seasons: such a
    // row is refused by name; gone meanwhile, the seasons held are listed instead.
    if !Season.storedYears.contains(ends[0]) || !Season.storedYears.contains(ends[1]) {
      try refuseSeasonYearsOutsideTheCalendar(connection)
      let all = try availableSeasons(connection)
      guard let first = all.first, let last = all.last else { return nil }
      return first...last
    }
    return ends[0]...ends[1]
  }

  func availableSeasons(_ connection: Connection) throws(SourceError) -> [Int] {
    do {
      // DISTINCT in index order (no sort), and the storage class judged here: whole REALs
      // count as seasons, as every read path accepts them (a REAL-affinity column stores 2022
      // as 2022.0; SQLite's DISTINCT takes 2022 and 2022.0 as one value); values outside the
      // calendar are left to the read to refuse. (A CAST in the query made SQLite sort in a
      // temporary b-tree: 48 against 15 ms on 214k rows read through views.)
      let st = try connection.prepare("SELECT DISTINCT season_year FROM player_game_summary ORDER BY 1")
      var out: [Int] = []
      while try st.step() {
        let season: Int
        switch st.storageClass(0) {
        case .integer: season = Int(st.int64(0))
        case .real:
          let d = st.double(0)
          guard d == d.rounded(), abs(d) < 1e15 else { continue }
          season = Int(d)
        default: continue
        }
        if Season.storedYears.contains(season), out.last != season { out.append(season) }
      }
      return out
    } catch {
      throw Self.classify(error, path: path)
    }
  }

  /// Reads PGS rows with `season_year` in `seasons`, the PCF rows dated inside those seasons
  /// (and on any date of a PGS row read that the date rule puts in a season not requested),
  /// and the schedule of those seasons when the table exists. PGS rows come in rowid order,
  /// PCF rows season by season, each season in rowid order.
  public func read(seasons requested: [Int]) throws(SourceError) -> SourceData {
    try readReportingTier(seasons: requested).data
  }

  /// `read`, also saying how it found the rows (`ReadSummary`), for the operator.
  public func readSummarizing(seasons requested: [Int]) throws(SourceError) -> (data: SourceData, summary: ReadSummary)
  {
    let (data, tier, rowsInFile) = try readReportingAll(seasons: requested)
    var summary = ReadSummary(pgsRowsInFile: rowsInFile?.pgs, pcfRowsInFile: rowsInFile?.pcf)
    if case .direct(let pgs, let pcf) = tier { (summary.pgsIndexed, summary.pcfIndexed) = (pgs, pcf) }
    return (data, summary)
  }

  /// `read`, also saying which tier answered: the direct b-tree decode (BTreeRead.swift), the
  /// typed SQLite loops (FastRead.swift), or the checked path. Each of the first two declines
  /// (nil) on anything unusual, so the data is the same whichever answers, and every error
  /// is the checked path's.
  func readReportingTier(seasons requested: [Int]) throws(SourceError) -> (data: SourceData, tier: ReadTier) {
    let (data, tier, _) = try readReportingAll(seasons: requested)
    return (data, tier)
  }

  /// The read, the tier that answered, and the rows each table holds when the direct read
  /// answered (it walks every table's leaves or every index entry, so it knows).
  func readReportingAll(seasons requested: [Int]) throws(SourceError)
    -> (data: SourceData, tier: ReadTier, rowsInFile: (pgs: Int, pcf: Int)?)
  {
    let seasons = Array(Set(requested)).sorted()
    let connection = try open()
    try requireTable(connection, "player_game_summary", columns: Self.pgsColumns)
    try requireTable(connection, "player_composite_factors", columns: Self.pcfColumns)
    var result: (data: SourceData, tier: ReadTier, rowsInFile: (pgs: Int, pcf: Int)?)
    var neighbours: ReadResult?
    if let read = try readDirectReporting(connection, seasons: seasons) {
      result = (read.data, .direct(pgsIndexed: read.indexed.pgs, pcfIndexed: read.indexed.pcf), read.rowsInFile)
      neighbours = read.neighbours
    } else if let data = try readFast(connection, seasons: seasons) {
      result = (data, .fast, nil)
    } else {
      result = (try readChecked(connection, seasons: seasons), .checked, nil)
    }
    try lookAcrossSeasonBorders(connection, &result.data, neighboursRead: neighbours)
    return result
  }

  /// The reference read: every value through `ColumnBuilder`, one statement per table and
  /// season. `readFast` must return exactly what this returns; when it declines, this runs and
  /// its first refusal is the error the user sees.
  func readChecked(_ connection: Connection, seasons: [Int]) throws(SourceError) -> SourceData {
    try refuseUnselectableRows(connection)
    let existing = try availableSeasons(connection)
    let missing = seasons.filter { !existing.contains($0) }
    if !missing.isEmpty { throw .seasonsWithoutRows(path: path, requested: missing, existing: existing) }

    // Seasons are bound as parameters (`json_each` over a bound JSON array), never concatenated.
    let seasonList = "[" + seasons.map(String.init).joined(separator: ",") + "]"
    let pgs = try readTable(
      connection, table: "player_game_summary", columns: Self.pgsColumns,
      whereClause: "season_year IN (SELECT value FROM json_each(?1))",
      bind: { st throws(SQLiteError) in try st.bind(1, seasonList) })

    // PCF has no season column: select by each season's date range (the date rule), one
    // bound range per season so SQLite compares plain TEXT (and can use an index on game_date).
    var pcf = ReadResult(rowid: [], columns: Self.pcfColumns.map { ColumnBuilder(kind: $0.kind) })
    for season in seasons {
      let range = Season.dateRange(season)
      try readTable(
        connection, table: "player_composite_factors", columns: Self.pcfColumns,
        whereClause: "game_date BETWEEN ?1 AND ?2", into: &pcf,
        bind: { st throws(SQLiteError) in
          try st.bind(1, CivilDate(range.lowerBound).description)
          try st.bind(2, CivilDate(range.upperBound).description)
        })
    }
    return try assemble(connection, seasons: seasons, pgs: pgs, pcf: pcf)
  }

  static func pcfTable(_ pcfBuilders: ReadResult) -> PlayerCompositeFactors {
    var pcf = PlayerCompositeFactors()
    pcf.rowid = pcfBuilders.rowid
    var p = pcfBuilders.columns.makeIterator()
    pcf.playerLookup = p.next()!.strings
    pcf.gameDate = p.next()!.dates
    pcf.gameId = p.next()!.strings
    pcf.fatigueScore = p.next()!.int32s
    pcf.shotZoneMismatchScore = p.next()!.doubles
    pcf.paceScore = p.next()!.doubles
    pcf.usageSpikeScore = p.next()!.doubles
    pcf.totalCompositeAdjustment = p.next()!.doubles
    pcf.calculationVersion = p.next()!.strings
    pcf.processedAt = p.next()!.timestamps
    return pcf
  }

  /// What lies across the border of the seasons read, found from where the rows read sit
  /// against the date rule (`Season.borders`):
  ///
  /// - PGS rows are chosen by season_year, PCF rows by the date rule; a game the rule puts in
  ///   another season than its season_year (the 2020 Finals, played in October 2020 for 2019-20)
  ///   would meet its PCF rows only when that other season was requested too, so one season's
  ///   file would depend on the others asked for. The PCF rows on such dates are read as well,
  ///   after the season's own (a handful of dates in real data; none in most exports).
  /// - A row filed under the season before or after a requested one, dated in the requested
  ///   season by the rule (the calendar year of a January game, or the season's end year, taken
  ///   for its start year), is one its selection by season_year leaves out: it is read by the
  ///   season_year index of those two seasons. A row filed further away is not looked for
  ///   (GATES.md).
  /// - Whether a row dated outside its season_year is a late game of it or one filed under the
  ///   wrong year depends on the games of both seasons (`Season.reasonFiledElsewhere`): the
  ///   playing span of each such season not requested is read from its own rows.
  ///
  /// `neighboursRead`: the PGS rows of `neighbours(of:)` when the read already decoded them (a
  /// direct read of the whole table walks every leaf anyway); nil to query them here.
  func lookAcrossSeasonBorders(_ connection: Connection, _ data: inout SourceData, neighboursRead: ReadResult? = nil)
    throws(SourceError)
  {
    let requested = Set(data.seasons)
    let pgs = data.pgs
    let borders = Season.borders(of: pgs)
    var dates = Set<Int32>()
    var spansNeeded = Set<Int>()
    for i in borders.rowsOutsideTheirSeason {
      let d = pgs.gameDate.values[i]
      let season = Season.startYear(of: d)
      guard !requested.contains(season) else { continue }
      dates.insert(d.daysSinceEpoch)
      spansNeeded.insert(season)
    }
    if !dates.isEmpty {
      let list =
        "[" + dates.sorted().map { "\"\(CivilDate(Date32(daysSinceEpoch: $0)))\"" }.joined(separator: ",") + "]"
      let extra = try readTable(
        connection, table: "player_composite_factors", columns: Self.pcfColumns,
        whereClause: "game_date IN (SELECT value FROM json_each(?1))",
        bind: { st throws(SQLiteError) in try st.bind(1, list) })
      data.pcf.append(contentsOf: Self.pcfTable(extra))
    }
    // The neighbours' rows decoded by the read: the same rows, in the same order, as the queries
    // below give, and each neighbour's playing span from the same rows.
    var spansRead: [Int: ClosedRange<Date32>]?
    if let rows = neighboursRead, rows.columns.isEmpty {
      spansRead = [:]  // decoded, and none found
    } else if let rows = neighboursRead {
      let lookups = rows.columns[0].strings, games = rows.columns[3].strings
      let days = rows.columns[4].dates, years = rows.columns[5].int32s
      spansRead = Season.borders(dates: days, seasonYears: years).playingSpans
      for season in data.seasons {
        let range = Season.dateRange(season)
        for next in Self.neighbours(of: [season]) where !requested.contains(next) {
          for i in 0..<rows.rowid.count where years.validity[i] && Int(years.values[i]) == next {
            guard days.validity[i], range.contains(days.values[i]) else { continue }
            data.rowsFiledNextDoor.append(
              RowFiledNextDoor(
                rowid: rows.rowid[i], playerLookup: lookups[i] ?? "NULL", gameId: games[i] ?? "NULL",
                gameDate: days.values[i], seasonYear: next))
            if next < season { spansNeeded.insert(next) }
          }
        }
      }
    }
    do {
      for season in data.seasons where spansRead == nil {
        let range = Season.dateRange(season)
        for next in Self.neighbours(of: [season]) where !requested.contains(next) {
          try eachRow(
            connection,
            """
            SELECT rowid, player_lookup, game_id, game_date FROM player_game_summary
            WHERE season_year = ?1 AND game_date BETWEEN ?2 AND ?3 ORDER BY rowid
            """,
            season: next, dates: range
          ) { st in
            guard let d = st.withTextBytes(3, { CivilDate.parse(isoBytes: $0) })?.date32, range.contains(d) else {
              return
            }
            data.rowsFiledNextDoor.append(
              RowFiledNextDoor(
                rowid: st.int64(0), playerLookup: st.text(1) ?? "NULL", gameId: st.text(2) ?? "NULL", gameDate: d,
                seasonYear: next))
            if next < season { spansNeeded.insert(next) }
          }
        }
      }
      let neighbours = Set(Self.neighbours(of: data.seasons))
      for season in spansNeeded.sorted() where Season.storedYears.contains(season) {
        if let spansRead, neighbours.contains(season) {
          if let span = spansRead[season] { data.playingSpansNotRead[season] = span }
          continue
        }
        let range = Season.dateRange(season)
        var lo = Int32.max, hi = Int32.min
        try eachRow(
          connection,
          "SELECT game_date FROM player_game_summary WHERE season_year = ?1 AND game_date BETWEEN ?2 AND ?3",
          season: season, dates: range
        ) { st in
          guard let d = st.withTextBytes(0, { CivilDate.parse(isoBytes: $0) })?.date32, range.contains(d) else {
            return
          }
          lo = min(lo, d.daysSinceEpoch)
          hi = max(hi, d.daysSinceEpoch)
        }
        if lo <= hi { data.playingSpansNotRead[season] = Date32(daysSinceEpoch: lo)...Date32(daysSinceEpoch: hi) }
      }
    } catch {
      throw Self.classify(error, path: path)
    }
  }

  /// The seasons just before and after each of `seasons` that are not among them: where a row
  /// filed one season off would be (`lookAcrossSeasonBorders`).
  static func neighbours(of seasons: [Int]) -> [Int] {
    let asked = Set(seasons)
    var out: [Int] = []
    for s in seasons {
      for n in [s - 1, s + 1] where !asked.contains(n) && Season.storedYears.contains(n) && !out.contains(n) {
        out.append(n)
      }
    }
    return out.sorted()
  }

  /// Steps a statement over the PGS rows filed under `season` and dated in `dates` (bound as
  /// ?1, ?2, ?3), handing each row to `body`.
  private func eachRow(
    _ connection: Connection, _ sql: String, season: Int, dates: ClosedRange<Date32>, _ body: (Statement) -> Void
  ) throws(SQLiteError) {
    let st = try connection.prepare(sql)
    try st.bind(1, Int64(season))
    try st.bind(2, CivilDate(dates.lowerBound).description)
    try st.bind(3, CivilDate(dates.upperBound).description)
    while try st.step() { body(st) }
  }

  /// Names the columns read and adds the schedule of `seasons` when the table exists.
  func assemble(_ connection: Connection, seasons: [Int], pgs pgsBuilders: ReadResult, pcf pcfBuilders: ReadResult)
    throws(SourceError) -> SourceData
  {
    var pgs = PlayerGameSummary()
    pgs.rowid = pgsBuilders.rowid
    var b = pgsBuilders.columns.makeIterator()
    pgs.playerLookup = b.next()!.strings
    pgs.playerFullName = b.next()!.strings
    pgs.universalPlayerId = b.next()!.strings
    pgs.gameId = b.next()!.strings
    pgs.gameDate = b.next()!.dates
    pgs.seasonYear = b.next()!.int32s
    pgs.teamAbbr = b.next()!.strings
    pgs.opponentTeamAbbr = b.next()!.strings
    pgs.isHome = b.next()!.flags
    pgs.minutesPlayed = b.next()!.doubles
    pgs.points = b.next()!.int32s
    pgs.fgMakes = b.next()!.int32s
    pgs.fgAttempts = b.next()!.int32s
    pgs.threePtMakes = b.next()!.int32s
    pgs.threePtAttempts = b.next()!.int32s
    pgs.ftMakes = b.next()!.int32s
    pgs.ftAttempts = b.next()!.int32s
    pgs.offensiveRebounds = b.next()!.int32s
    pgs.defensiveRebounds = b.next()!.int32s
    pgs.assists = b.next()!.int32s
    pgs.steals = b.next()!.int32s
    pgs.blocks = b.next()!.int32s
    pgs.turnovers = b.next()!.int32s
    pgs.personalFouls = b.next()!.int32s
    pgs.plusMinus = b.next()!.int32s
    pgs.usageRate = b.next()!.doubles
    pgs.isDnp = b.next()!.flags
    pgs.processedAt = b.next()!.timestamps

    let pcf = Self.pcfTable(pcfBuilders)

    var schedule: Schedule?
    let hasSchedule: Bool
    do { hasSchedule = try connection.tableExists("schedule") } catch { throw Self.classify(error, path: path) }
    if hasSchedule {
      let seasonList = "[" + seasons.map(String.init).joined(separator: ",") + "]"
      try requireTable(connection, "schedule", columns: Self.scheduleColumns)
      let s = try readTable(
        connection, table: "schedule", columns: Self.scheduleColumns,
        whereClause: "season_year IN (SELECT value FROM json_each(?1))",
        bind: { st throws(SQLiteError) in try st.bind(1, seasonList) })
      var sc = Schedule()
      var it = s.columns.makeIterator()
      sc.gameId = it.next()!.strings
      sc.gameDate = it.next()!.dates
      sc.seasonYear = it.next()!.int32s
      sc.homeTeamAbbr = it.next()!.strings
      sc.awayTeamAbbr = it.next()!.strings
      schedule = sc
    }
    return SourceData(path: path, seasons: seasons, pgs: pgs, pcf: pcf, schedule: schedule)
  }

  /// Rows are selected by PGS `season_year` and PCF `game_date`; a row whose selector is not
  /// an integer / a real calendar date falls outside every season's filter and would vanish
  /// without a word. Such rows are read through the same typed check, so the first is named.
  ///
  /// The typed scans only run when a cheap probe finds a bad selector. PGS: `typeof` over the
  /// `season_year` index. PCF: one pass over `game_date` alone checked in Swift, which also
  /// finds the first bad row: SQLite's `date()` cannot be the judge, since 3.40 returns
  /// '2019-02-30' unchanged, and such a date outside the requested seasons would be dropped
  /// without a word. The typed read of that one row then names it as every other bad value is.
  func refuseUnselectableRows(_ connection: Connection) throws(SourceError) {
    var badSeason = false
    var badDateRow: Int64?
    do {
      badSeason = try Self.holdsUnselectableSeasonYear(connection)
      let dates = try connection.prepare("SELECT rowid, game_date FROM player_composite_factors ORDER BY rowid")
      while badDateRow == nil, try dates.step() {
        if dates.storageClass(1) != .text || dates.withTextBytes(1, { CivilDate.parse(isoBytes: $0) }) == nil {
          badDateRow = dates.int64(0)
        }
      }
    } catch {
      throw Self.classify(error, path: path)
    }
    if badSeason {
      try refuseSeasonYearsOutsideTheCalendar(connection)
      _ = try readTable(
        connection, table: "player_game_summary", columns: [ColumnSpec("season_year", .integer(required: true))],
        whereClause: "typeof(season_year) != 'integer'", bind: { _ in })
    }
    if let badDateRow {
      _ = try readTable(
        connection, table: "player_composite_factors", columns: [ColumnSpec("game_date", .date)],
        whereClause: "rowid = ?1", bind: { st throws(SQLiteError) in try st.bind(1, badDateRow) })
    }
  }

  /// Whether some PGS `season_year` is one the checked path refuses (not an INTEGER, or outside
  /// `Season.storedYears`): the probe of `refuseUnselectableRows`, which the fast path also
  /// asks before it reads (declining, so that the checked path names the row).
  static func holdsUnselectableSeasonYear(_ connection: Connection) throws(SQLiteError) -> Bool {
    let st = try connection.prepare(
      "SELECT EXISTS (SELECT 1 FROM player_game_summary WHERE typeof(season_year) != 'integer' OR season_year NOT BETWEEN ?1 AND ?2)"
    )
    try st.bind(1, Int64(Season.storedYears.lowerBound))
    try st.bind(2, Int64(Season.storedYears.upperBound))
    _ = try st.step()
    return st.int64(0) != 0
  }

  /// The first PGS row whose `season_year` is a number outside `Season.storedYears`, named.
  func refuseSeasonYearsOutsideTheCalendar(_ connection: Connection) throws(SourceError) {
    let found: (rowid: Int64, value: String)?
    do {
      let st = try connection.prepare(
        """
        SELECT rowid, season_year FROM player_game_summary
        WHERE typeof(season_year) IN ('integer', 'real') AND season_year NOT BETWEEN ?1 AND ?2 ORDER BY rowid LIMIT 1
        """)
      try st.bind(1, Int64(Season.storedYears.lowerBound))
      try st.bind(2, Int64(Season.storedYears.upperBound))
      found =
        try st.step() ? (st.int64(0), st.storageClass(1) == .integer ? String(st.int64(1)) : String(st.double(1))) : nil
    } catch {
      throw Self.classify(error, path: path)
    }
    guard let found else { return }
    throw .badValue(
      path: path, table: "player_game_summary", column: "season_year", rowid: found.rowid, value: found.value,
      expected:
        "a season start year from \(Season.storedYears.lowerBound) to \(Season.storedYears.upperBound) (2022 for 2022-23)"
    )
  }

  func requireTable(_ connection: Connection, _ table: String, columns: [ColumnSpec]) throws(SourceError) {
    do {
      let present = try connection.columnNames(of: table)
      if present.isEmpty {
        let st = try connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        var names: [String] = []
        while try st.step() { names.append(st.text(0) ?? "") }
        throw SourceError.tableMissing(path: path, table: table, tablesPresent: names)
      }
      // SQLite's column names are case-insensitive: POINTS is the points column.
      let names = Set(present.map { $0.lowercased() })
      let missing = columns.map(\.name).filter { !names.contains($0.lowercased()) }
      if !missing.isEmpty { throw SourceError.columnsMissing(path: path, table: table, missing: missing) }
      // Every read orders and names rows by rowid; a WITHOUT ROWID table has none, and
      // SQLite's own "no such column: rowid" would say nothing useful. (pragma_table_list is
      // SQLite 3.37 or later; an older library finds out at the first read.)
      if let list = try? connection.prepare("SELECT wr FROM pragma_table_list(?1) WHERE schema = 'main'"),
        (try? list.bind(1, table)) != nil, (try? list.step()) == true, list.int64(0) == 1
      {
        throw SourceError.withoutRowid(path: path, table: table)
      }
    } catch let error as SourceError {
      throw error
    } catch let error as SQLiteError {
      throw Self.classify(error, path: path)
    } catch {
      throw .sqlite(path: path, detail: "\(error)")
    }
  }

  struct ReadResult {
    var rowid: [Int64]
    var columns: [ColumnBuilder]
  }

  func readTable(
    _ connection: Connection, table: String, columns: [ColumnSpec], whereClause: String,
    bind: (Statement) throws(SQLiteError) -> Void
  ) throws(SourceError) -> ReadResult {
    var result = ReadResult(rowid: [], columns: columns.map { ColumnBuilder(kind: $0.kind) })
    try readTable(connection, table: table, columns: columns, whereClause: whereClause, into: &result, bind: bind)
    return result
  }

  /// Appends the rows of `SELECT rowid, columns FROM table WHERE whereClause` to `result`.
  func readTable(
    _ connection: Connection, table: String, columns: [ColumnSpec], whereClause: String,
    into result: inout ReadResult, bind: (Statement) throws(SQLiteError) -> Void
  ) throws(SourceError) {
    let sql =
      "SELECT rowid, \(columns.map { "\"\($0.name)\"" }.joined(separator: ", ")) FROM \(table) WHERE \(whereClause) ORDER BY rowid"
    do {
      let st = try connection.prepare(sql)
      try bind(st)
      while try st.step() {
        let rowid = st.int64(0)
        result.rowid.append(rowid)
        for k in result.columns.indices {
          if let problem = result.columns[k].append(from: st, column: Int32(k + 1)) {
            switch problem {
            case .null:
              throw SourceError.nullInRequiredColumn(path: path, table: table, column: columns[k].name, rowid: rowid)
            case .bad(let value, let expected):
              throw SourceError.badValue(
                path: path, table: table, column: columns[k].name, rowid: rowid, value: value, expected: expected)
            }
          }
        }
      }
    } catch let error as SourceError {
      throw error
    } catch let error as SQLiteError {
      throw Self.classify(error, path: path)
    } catch {
      throw .sqlite(path: path, detail: "\(error)")
    }
  }
}

struct ColumnSpec {
  enum Kind {
    case text(required: Bool)
    case integer(required: Bool)
    case real
    /// 0/1 INTEGER read as a bool.
    case flag
    /// TEXT `YYYY-MM-DD`, NOT NULL.
    case date
    /// TEXT ISO 8601, nullable.
    case timestamp
  }
  var name: String
  var kind: Kind
  init(_ name: String, _ kind: Kind) {
    self.name = name
    self.kind = kind
  }
}

enum ValueProblem {
  case null
  case bad(value: String, expected: String)
}

/// Accumulates one column while rows stream by. Exactly one of the storage arrays is used,
/// chosen by `kind`.
struct ColumnBuilder {
  let kind: ColumnSpec.Kind
  var strings = StringColumn()
  var int32s = Column<Int32>()
  var doubles = Column<Double>()
  var flags = Column<Bool>()
  var dates = Column<Date32>()
  var timestamps = Column<Int64>()

  init(kind: ColumnSpec.Kind) { self.kind = kind }

  /// Shows a value read from the file in an error message: quoted text, cut when long.
  static func show(_ st: Statement, _ column: Int32) -> String {
    switch st.storageClass(column) {
    case .integer: return String(st.int64(column))
    case .real: return String(st.double(column))
    case .null: return "NULL"
    case .blob: return "a BLOB"
    case .text:
      let t = st.text(column) ?? ""
      let cut = t.count > 60 ? String(t.prefix(60)) + "… (\(t.utf8.count) bytes)" : t
      return "'\(cut)'"
    }
  }

  @inline(__always) static func isASCII(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = raw.baseAddress else { return true }
    // Eight bytes at a time (unaligned loads), then the rest one by one.
    let n = raw.count
    var high: UInt64 = 0
    var i = 0
    while i + 8 <= n {
      high |= UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
      i += 8
    }
    while i < n {
      high |= UInt64(base[i])
      i += 1
    }
    return high & 0x8080_8080_8080_8080 == 0
  }

  mutating func append(from st: Statement, column c: Int32) -> ValueProblem? {
    let storage = st.storageClass(c)
    switch kind {
    case .text(let required):
      switch storage {
      case .null:
        if required { return .null }
        strings.append(nil)
      case .text:
        let ok = st.withTextBytes(c) { raw -> Bool in
          // Reject bytes that are not UTF-8 instead of replacing them silently.
          // ASCII (nearly every value) needs no further check; anything else is validated.
          guard Self.isASCII(raw) || String(validating: raw, as: UTF8.self) != nil else { return false }
          strings.append(bytes: raw)
          return true
        }
        if !ok {
          // Show the bytes the way a user can find them again: ASCII as is, the rest as \xNN.
          let shown = st.withTextBytes(c) { raw -> String in
            raw.prefix(60).map {
              $0 < 0x80 && $0 >= 0x20
                ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16, uppercase: true).leftPadded()
            }
            .joined() + (raw.count > 60 ? "… (\(raw.count) bytes)" : "")
          }
          return .bad(value: "'\(shown)', bytes that are not valid UTF-8", expected: "UTF-8 text")
        }
      default:
        return .bad(value: Self.show(st, c), expected: "TEXT")
      }
    case .integer(let required):
      switch storage {
      case .null:
        if required { return .null }
        int32s.append(nil)
      case .integer:
        let v = st.int64(c)
        guard let small = Int32(exactly: v) else {
          return .bad(value: String(v), expected: "an INTEGER within ±2147483647")
        }
        int32s.append(small)
      case .real:
        // Some exports write counts as 12.0; a whole REAL is accepted, a fraction is not.
        let d = st.double(c)
        guard d.isFinite, d == d.rounded(), let small = Int32(exactly: d) else {
          return .bad(value: String(d), expected: "an INTEGER")
        }
        int32s.append(small)
      default:
        return .bad(value: Self.show(st, c), expected: "an INTEGER")
      }
    case .real:
      switch storage {
      case .null: doubles.append(nil)
      case .integer: doubles.append(Double(st.int64(c)))
      case .real:
        let d = st.double(c)
        guard d.isFinite else { return .bad(value: String(d), expected: "a finite REAL") }
        doubles.append(d)
      default:
        return .bad(value: Self.show(st, c), expected: "a REAL")
      }
    case .flag:
      switch storage {
      case .null: flags.append(nil)
      case .integer:
        let v = st.int64(c)
        guard v == 0 || v == 1 else { return .bad(value: String(v), expected: "0, 1 or NULL") }
        flags.append(v == 1)
      case .real:
        // A table written by a dataframe declares the column REAL and stores 1.0: accepted as
        // the integer columns accept a whole REAL. Anything else is no flag.
        let d = st.double(c)
        guard d == 0 || d == 1 else { return .bad(value: String(d), expected: "0, 1 or NULL") }
        flags.append(d == 1)
      default:
        return .bad(value: Self.show(st, c), expected: "0, 1 or NULL")
      }
    case .date:
      guard storage == .text else {
        if storage == .null { return .null }
        return .bad(value: Self.show(st, c), expected: "a date as TEXT YYYY-MM-DD")
      }
      let date = st.withTextBytes(c) { raw in CivilDate.parse(isoBytes: raw) }
      guard let date else { return .bad(value: Self.show(st, c), expected: "a real calendar date YYYY-MM-DD") }
      dates.append(date.date32)
    case .timestamp:
      switch storage {
      case .null: timestamps.append(nil)
      case .text:
        guard let micros = st.withTextBytes(c, { Timestamp.parseMicros(bytes: $0) }) else {
          return .bad(value: Self.show(st, c), expected: "an ISO 8601 UTC time like 2023-01-05T12:34:56Z")
        }
        timestamps.append(micros)
      default:
        return .bad(value: Self.show(st, c), expected: "an ISO 8601 UTC time as TEXT")
      }
    }
    return nil
  }
}

extension String {
  /// "E" → "0E": two hex digits per byte.
  fileprivate func leftPadded() -> String { count == 1 ? "0" + self : self }
}
