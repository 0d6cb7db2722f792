import Columnar
import Foundation
import SQLiteSource

/// What one import did, for the CLI summary and for tests.
public struct ImportSummary: Equatable, Sendable {
  public var files = 0
  public var rowsRead = 0
  public var pgsInserted = 0
  public var pgsUpdated = 0
  public var pgsUnchanged = 0
  public var pcfInserted = 0
  public var pcfUpdated = 0
  public var pcfUnchanged = 0
  public var pcfDeleted = 0
  /// PCF rows recomputed with unchanged values from PGS rows this import changed: only their
  /// processed_at moves, so the staleness rule sees they were computed after the correction.
  public var pcfRestamped = 0
  /// Where usage_rate's team totals came from: the team logs, or summed from the player rows,
  /// which source-tables.md says is an approximation that must be named as such.
  public var teamTotals = ""
  /// Seasons (start years) of the imported rows, ascending.
  public var seasons: [Int] = []
  /// Distinct game dates of the imported rows.
  public var gameDates = 0
  public var processedAt = ""
  public var seconds = 0.0
  /// Rows read with 0 minutes: stored with is_dnp = 1, so not active (no usage_rate, no
  /// feature row, no history); said so an operator is not surprised by fewer feature rows.
  public var zeroMinuteRows = 0
  /// Games whose MATCHUPs disagree on the home team (both `vs.` or both `@`, a neutral-site
  /// quirk) or name a team not in the game: is_home is NULL on their rows.
  public var gamesWithoutHomeTeam = 0
  /// What the import accepted but an operator must hear of, because it shapes the training
  /// data: one PLAYER_ID under two names in a season, kept as two players.
  public var warnings: [String] = []

  public init() {}
}

/// Loads NBA.com player game logs into PGS and derives PCF (docs/IMPORT.md), all in one
/// transaction: any error leaves the database as it was.
public struct Importer {
  public var databasePath: String
  /// NBA.com team game logs; without them team totals are summed from the player rows.
  public var teamLogsPath: String?
  /// Written to `processed_at` of every inserted or changed row; the import time by default.
  public var processedAt: String
  /// Told how far each phase got: (phase, done, total). Phases in order: "reading" (files),
  /// "writing PGS" (rows), "deriving PCF" (seasons), "writing PCF" (rows). The CLI turns this
  /// into a progress bar on stderr; nil reports nothing.
  public var progress: ((_ phase: String, _ done: Int, _ total: Int) -> Void)?

  public init(databasePath: String, teamLogsPath: String? = nil, processedAt: String? = nil) {
    self.databasePath = databasePath
    self.teamLogsPath = teamLogsPath
    self.processedAt = processedAt ?? Importer.now()
  }

  /// The current UTC time as ISO 8601 with microseconds, so two imports never share a stamp.
  public static func now() -> String {
    Timestamp.format(micros: Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))
  }

  public func run(files: [String]) throws(ImportError) -> ImportSummary {
    guard !files.isEmpty else { throw ImportError("no input file given") }
    if let repeated = Self.repeatedFile(in: files) { throw ImportError(repeated) }
    var inputs: [(name: String, csv: [UInt8])] = []
    for path in files { inputs.append((path, try readInputFile(path))) }
    return try run(inputs: inputs)
  }

  /// A file named twice in one call, as the same path or through another path or a link: its
  /// rows would be read twice and refused as duplicates of themselves ("line 2 … first at
  /// <the same path>: line 2"), which does not say what is wrong. Nil when every file is once.
  public static func repeatedFile(in files: [String]) -> String? {
    var seen: [String: String] = [:]
    for path in files {
      // The file's identity where it can be read; else its absolute path, symlinks resolved.
      let identity: String
      if let a = try? FileManager.default.attributesOfItem(atPath: path),
        let device = a[.deviceIdentifier] as? NSNumber, let inode = a[.systemFileNumber] as? NSNumber
      {
        identity = "\(device)/\(inode)"
      } else {
        identity = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
      }
      if let first = seen[identity] {
        return first == path
          ? "\(path) is given twice: give each file once"
          : "\(first) is given twice (the second time as \(path)): give each file once"
      }
      seen[identity] = path
    }
    return nil
  }

  /// The same import from CSV texts already in memory (`name` stands for the file in messages):
  /// `dataset synth` feeds its generated player logs through here, so its PGS and PCF are
  /// exactly what `import` would write for the same logs.
  public func run(inputs: [(name: String, csv: [UInt8])]) throws(ImportError) -> ImportSummary {
    let start = Date()
    guard !inputs.isEmpty else { throw ImportError("no input file given") }
    var input = InputRows()
    var lookupCache: [String: String] = [:]
    progress?("reading", 0, inputs.count)
    for (k, item) in inputs.enumerated() {
      try input.append(path: item.name, bytes: item.csv, lookupCache: &lookupCache)
      progress?("reading", k + 1, inputs.count)
    }
    let files = inputs.map(\.name)
    let teamLogs = try teamLogsPath.map { (p: String) throws(ImportError) in try readTeamLogs(path: p) }
    let players = try input.playerSeasons()
    try input.checkOnePlayerPerGame(players)
    let rows = try input.pgsRows(teamLogs: teamLogs, teamLogsPath: teamLogsPath ?? "the team logs")

    var summary = ImportSummary()
    summary.files = files.count
    summary.rowsRead = input.count
    summary.seasons = Array(Set(rows.map { Int($0.seasonYear) })).sorted()
    summary.gameDates = Set(input.date).count
    summary.zeroMinuteRows = rows.count { $0.isDNP == 1 }
    summary.gamesWithoutHomeTeam = Set(rows.lazy.filter { $0.isHome == nil }.map(\.gameID)).count
    summary.processedAt = processedAt
    summary.teamTotals =
      teamLogsPath.map { "from team logs \($0)" }
      ?? "summed from player rows (an approximation: no team turnovers; --team-logs gives exact totals)"

    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: databasePath, isDirectory: &isFolder), isFolder.boolValue {
      throw ImportError(
        "database \(databasePath) is a folder: expected a SQLite file (created when missing); nothing was written")
    }
    let existedBefore = FileManager.default.fileExists(atPath: databasePath)
    // The connection lives in this function only, so a failed import has closed it before the
    // clean-up below looks at the files.
    func write() throws {
      let db: Connection
      do {
        db = try Connection(path: databasePath, mode: .readWriteCreate)
      } catch {
        throw ImportError("cannot open database \(databasePath): \(Self.openFailure(databasePath, error.message))")
      }
      try db.transaction {
        try db.execute(sourceSchemaDDL)
        // An existing table of another layout: say which columns it lacks, as `validate`
        // does, rather than SQLite's "no such column" from a statement further on.
        let writes = [
          ("player_game_summary", PGSRow.columns + ["processed_at"]),
          (
            "player_composite_factors",
            [
              "player_lookup", "game_date", "game_id", "fatigue_score", "shot_zone_mismatch_score", "pace_score",
              "usage_spike_score", "total_composite_adjustment", "calculation_version", "processed_at",
            ]
          ),
        ]
        for (table, columns) in writes {
          let present = Set(try db.columnNames(of: table).map { $0.lowercased() })
          let missing = columns.filter { !present.contains($0.lowercased()) }
          if !missing.isEmpty {
            throw ImportError(
              "database \(databasePath): table \(table) is missing column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")), "
                + "which import writes (Schemas/source.sql has the layout it expects); nothing was written")
          }
        }
        // Non-unique, so duplicates stay visible; readers and PCF derivation select by season.
        try db.execute("CREATE INDEX IF NOT EXISTS player_game_summary_season_year ON player_game_summary(season_year)")
        let changed = try writePGS(rows, input: input, players: players, db: db, summary: &summary)
        try writePCF(seasons: summary.seasons, changedFrom: changed, db: db, summary: &summary)
        // Built after the rows, in one sort. A build reads one season's PCF rows through it
        // instead of every row's date (docs/IMPORT.md).
        try db.execute(
          "CREATE INDEX IF NOT EXISTS player_composite_factors_game_date ON player_composite_factors(game_date)")
      }
    }
    do {
      try write()
    } catch {
      // A full disk can leave the transaction's journal behind (SQLite rolls it back at the
      // next open): a database this import created is removed, an existing one is opened
      // once more so that the rollback happens now and "nothing was written" is true on disk.
      if !existedBefore {
        for suffix in ["", "-journal", "-wal", "-shm"] {
          try? FileManager.default.removeItem(atPath: databasePath + suffix)
        }
      } else if FileManager.default.fileExists(atPath: databasePath + "-journal"),
        let recovery = try? Connection(path: databasePath, mode: .readWriteCreate)
      {
        _ = try? recovery.execute("SELECT count(*) FROM sqlite_master")
      }
      try Self.rethrow(error, databasePath: databasePath)
    }
    summary.seconds = Date().timeIntervalSince(start)
    return summary
  }

  static func rethrow(_ error: Error, databasePath: String) throws(ImportError) -> Never {
    do {
      throw error
    } catch let e as ImportError {
      throw e
    } catch let e as SQLiteError {
      // The path once and the statement's first words, not a page of SQL.
      let statement =
        e.sql.map { sql -> String in
          let words = sql.split(whereSeparator: { $0 == " " || $0 == "\n" })
          return ", while running \(words.prefix(4).joined(separator: " "))\(words.count > 4 ? " …" : "")"
        } ?? ""
      throw ImportError(
        "database \(databasePath): \(e.isNotADatabase ? "damaged or not an SQLite database: " : "")\(e.message) (SQLite error \(e.code)\(statement)); nothing was written"
      )
    } catch {
      throw ImportError("database \(databasePath): \(error); nothing was written")
    }
  }

  /// SQLite's "unable to open database file", with the reason it does not give.
  static func openFailure(_ path: String, _ message: String) -> String {
    let folder = (path as NSString).deletingLastPathComponent
    let dir = folder.isEmpty ? "." : folder
    var isDir: ObjCBool = false
    if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
      return "\(message) (the folder \(dir) does not exist)"
    }
    if !isDir.boolValue { return "\(message) (\(dir) is not a folder)" }
    if !FileManager.default.fileExists(atPath: path), !FileManager.default.isWritableFile(atPath: dir) {
      return "\(message) (the folder \(dir) is not writable, so the file cannot be created)"
    }
    return message
  }

  /// Inserts new rows, updates changed ones (matched by date, player and game), leaves equal
  /// rows and their processed_at alone, once `matchStored` found no stored row contradicting
  /// them. Returns, per "player|season", the earliest game date of a row it inserted or updated.
  func writePGS(
    _ rows: [PGSRow], input: InputRows, players: [PlayerSeason], db: Connection, summary: inout ImportSummary
  ) throws -> [String: String] {
    var changedFrom: [String: String] = [:]
    func changed(_ row: PGSRow) {
      let key = "\(row.playerLookup)|\(row.seasonYear)"
      if let d = changedFrom[key], d <= row.gameDate { return }
      changedFrom[key] = row.gameDate
    }
    let match = try matchStored(rows, input: input, players: players, seasons: summary.seasons, db: db)
    summary.warnings = match.warnings
    let columnList = PGSRow.columns.joined(separator: ", ")
    let placeholders = (1...PGSRow.columns.count).map { "?\($0)" }.joined(separator: ", ")
    let n = Int32(PGSRow.columns.count + 1)
    let insert = try db.prepare(
      "INSERT INTO player_game_summary (\(columnList), processed_at) VALUES (\(placeholders), ?\(n))")
    let assignments = PGSRow.columns.enumerated().map { "\($1) = ?\($0 + 1)" }.joined(separator: ", ")
    let update = try db.prepare(
      "UPDATE player_game_summary SET \(assignments), processed_at = ?\(n) WHERE rowid = ?\(n + 1)")
    for (k, row) in rows.enumerated() {
      if k % 1024 == 0 { progress?("writing PGS", k, rows.count) }
      if let rowid = match.rowid[k], let old = match.row[k] {
        if old == row {
          summary.pgsUnchanged += 1
          continue
        }
        try row.bind(update)
        try update.bind(n, processedAt)
        try update.bind(n + 1, rowid)
        try update.run()
        summary.pgsUpdated += 1
        changed(row)
      } else {
        try row.bind(insert)
        try insert.bind(n, processedAt)
        try insert.run()
        summary.pgsInserted += 1
        changed(row)
      }
    }
    progress?("writing PGS", rows.count, rows.count)
    return changedFrom
  }

  /// Recomputes PCF of the imported seasons from all their PGS rows now in the table. A row
  /// whose values come out unchanged is left alone, unless a PGS row it depends on (same
  /// player and season, an earlier date) was changed by this import (`changedFrom`): then it
  /// was recomputed from the corrected row, and only its processed_at is moved to say so.
  func writePCF(seasons: [Int], changedFrom: [String: String], db: Connection, summary: inout ImportSummary) throws {
    guard !seasons.isEmpty else { return }
    var history = HistoryRows()
    let seasonList = seasons.map(String.init).joined(separator: ", ")
    let select = try db.prepare(
      """
      SELECT rowid, player_lookup, game_id, game_date, season_year, team_abbr, opponent_team_abbr,
             minutes_played, is_dnp, usage_rate, fg_attempts, ft_attempts, turnovers, offensive_rebounds
      FROM player_game_summary WHERE season_year IN (\(seasonList))
      """)
    func number(_ i: Int32) -> Double { select.storageClass(i) == .null ? 0 : select.double(i) }
    while try select.step() {
      let dateText = select.text(3) ?? ""
      guard let d = Date32(iso: dateText) else {
        throw ImportError(
          "player_game_summary rowid \(select.int64(0)), column game_date: not a calendar date in YYYY-MM-DD form: \"\(dateText)\"; PCF cannot be derived"
        )
      }
      history.playerLookup.append(select.text(1) ?? "")
      history.gameID.append(select.text(2) ?? "")
      history.date.append(d)
      history.season.append(Int(select.int64(4)))
      history.team.append(select.text(5) ?? "")
      history.opponent.append(select.text(6) ?? "")
      history.minutes.append(select.storageClass(7) == .null ? nil : select.double(7))
      history.isDNP.append(select.storageClass(8) == .null ? nil : select.int64(8))
      history.usage.append(select.storageClass(9) == .null ? nil : select.double(9))
      history.possessions.append(number(10) + 0.44 * number(11) + number(12) - number(13))
    }
    var computed: [PCFRow] = []
    for (k, season) in seasons.enumerated() {
      progress?("deriving PCF", k, seasons.count)
      computed += history.compositeFactors(season: season)
    }
    progress?("deriving PCF", seasons.count, seasons.count)

    var existing: [String: (rowid: Int64, row: PCFRow)] = [:]
    var stale: [Int64] = []
    let seasonSet = Set(seasons)
    let old = try db.prepare(
      """
      SELECT rowid, player_lookup, game_date, game_id, fatigue_score, shot_zone_mismatch_score, pace_score,
             usage_spike_score, total_composite_adjustment, calculation_version
      FROM player_composite_factors
      WHERE EXISTS (SELECT 1 FROM json_each(?1) r
                    WHERE game_date BETWEEN json_extract(r.value, '$[0]') AND json_extract(r.value, '$[1]'))
      """)
    // Rows outside the touched seasons are skipped below anyway; the date ranges in SQL keep a
    // large table's other seasons from being read at all.
    try old.bind(
      1,
      "[" + seasons.map { "[\"\($0)-10-01\",\"\($0 + 1)-09-30\"]" }.joined(separator: ",") + "]")
    while try old.step() {
      func real(_ i: Int32) -> Double? { old.storageClass(i) == .null ? nil : old.double(i) }
      let row = PCFRow(
        playerLookup: old.text(1) ?? "", gameDate: old.text(2) ?? "", gameID: old.text(3) ?? "",
        fatigue: old.storageClass(4) == .null ? nil : old.int64(4), shotZone: real(5), pace: real(6),
        usageSpike: real(7), total: real(8), version: old.text(9))
      guard let d = Date32(iso: row.gameDate), seasonSet.contains(Season.startYear(of: d)) else { continue }
      if existing[row.key] == nil {
        existing[row.key] = (old.int64(0), row)
      } else if row.version == CompositeFactors.calculationVersion {
        stale.append(old.int64(0))
      }
    }
    let insert = try db.prepare(
      """
      INSERT INTO player_composite_factors (player_lookup, game_date, game_id, fatigue_score,
        shot_zone_mismatch_score, pace_score, usage_spike_score, total_composite_adjustment,
        calculation_version, processed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
      """)
    let update = try db.prepare(
      """
      UPDATE player_composite_factors SET player_lookup = ?1, game_date = ?2, game_id = ?3,
        fatigue_score = ?4, shot_zone_mismatch_score = ?5, pace_score = ?6, usage_spike_score = ?7,
        total_composite_adjustment = ?8, calculation_version = ?9, processed_at = ?10 WHERE rowid = ?11
      """)
    func bind(_ st: Statement, _ r: PCFRow) throws {
      try st.bind(1, r.playerLookup)
      try st.bind(2, r.gameDate)
      try st.bind(3, r.gameID)
      try st.bind(4, r.fatigue)
      try st.bind(5, r.shotZone)
      try st.bind(6, r.pace)
      try st.bind(7, r.usageSpike)
      try st.bind(8, r.total)
      try st.bind(9, r.version)
      try st.bind(10, processedAt)
    }
    let restamp = try db.prepare("UPDATE player_composite_factors SET processed_at = ?1 WHERE rowid = ?2")
    for (k, r) in computed.enumerated() {
      if k % 1024 == 0 { progress?("writing PCF", k, computed.count) }
      if let e = existing.removeValue(forKey: r.key) {
        if e.row == r {
          let season = Date32(iso: r.gameDate).map { Season.startYear(of: $0) }
          if let season, let from = changedFrom["\(r.playerLookup)|\(season)"], from < r.gameDate {
            try restamp.bind(1, processedAt)
            try restamp.bind(2, e.rowid)
            try restamp.run()
            summary.pcfRestamped += 1
          } else {
            summary.pcfUnchanged += 1
          }
          continue
        }
        try bind(update, r)
        try update.bind(11, e.rowid)
        try update.run()
        summary.pcfUpdated += 1
      } else {
        try bind(insert, r)
        try insert.run()
        summary.pcfInserted += 1
      }
    }
    progress?("writing PCF", computed.count, computed.count)
    // Rows this calculation wrote earlier that no longer follow from PGS (a player's row
    // became inactive after a correction); rows of other calculations are not ours to delete.
    stale += existing.values.filter { $0.row.version == CompositeFactors.calculationVersion }.map(\.rowid)
    let delete = try db.prepare("DELETE FROM player_composite_factors WHERE rowid = ?1")
    for rowid in stale.sorted() {
      try delete.bind(1, rowid)
      try delete.run()
      summary.pcfDeleted += 1
    }
  }
}
