import Columnar
import Foundation
import SQLiteSource

// What an import refuses because the rows cannot all be right at once: one game under two
// ids or on two dates, a stored game with players the file's version lacks, one player_lookup
// for two PLAYER_IDs (docs/IMPORT.md, "What import refuses"). Each of them was accepted once,
// and PCF was then derived from a history that held a game twice or a player who was not there.

/// One PLAYER_ID under one player_lookup in one season of the import, and where its rows are.
struct PlayerSeason {
  var lookup: String
  /// Empty when the export left PLAYER_ID blank: such rows are in no conflict.
  var id: String
  var name: String
  var season: Int
  var firstRow: Int
  var from: Date32
  var through: Date32
  var rows: Int
}

/// `date|A|B`, the teams in byte order: the game whatever its id says, as the duplicate_keys
/// gate reads it.
func gameMatchKey(date: String, _ a: String, _ b: String) -> String {
  a.utf8.lexicographicallyPrecedes(b.utf8) ? date + "|" + a + "|" + b : date + "|" + b + "|" + a
}

/// `A–B on DATE` from a `gameMatchKey`.
func matchName(_ key: String) -> String {
  let parts = key.split(separator: "|", omittingEmptySubsequences: false)
  guard parts.count == 3 else { return key }
  return "\(parts[1])–\(parts[2]) on \(parts[0])"
}

/// Says so when one id is the other without its leading zeros, the spreadsheet's doing.
func strippedZerosHint(_ a: String, _ b: String) -> String {
  let (short, long) = a.count < b.count ? (a, b) : (b, a)
  guard short != long, long.hasPrefix("0"), long.drop(while: { $0 == "0" }) == short.drop(while: { $0 == "0" }) else {
    return ""
  }
  return " (\(short) is \(long) without its leading zeros: saved through a spreadsheet?)"
}

/// `FROM…THROUGH`, or the one date.
func dateRange(_ from: String, _ through: String) -> String { from == through ? from : from + "…" + through }

/// A text literal for the SQL a message tells the operator to run.
func sqlLiteral(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

extension InputRows {
  /// `line N` when `row` is in the same file as `other`, else the file and line.
  func place(_ row: Int, besides other: Int) -> String {
    file[row] == file[other] ? "line \(line[row])" : location(row)
  }

  /// The import's players per season. Refuses one player_lookup for two PLAYER_IDs in a
  /// season: the spec keys a player's history by player_lookup, so two players whose names
  /// normalise alike would be merged into one history, silently.
  func playerSeasons() throws(ImportError) -> [PlayerSeason] {
    var spans: [PlayerSeason] = []
    var spansOfLookup: [String: [Int]] = [:]
    for i in 0..<count {
      let season = Season.startYear(of: date[i])
      let id = playerID[i]
      let candidates = spansOfLookup[playerLookup[i]] ?? []
      if let k = candidates.first(where: { spans[$0].season == season && spans[$0].id == id }) {
        if date[i] < spans[k].from { spans[k].from = date[i] }
        if date[i] > spans[k].through { spans[k].through = date[i] }
        spans[k].rows += 1
        continue
      }
      if !id.isEmpty, let k = candidates.first(where: { spans[$0].season == season && !spans[$0].id.isEmpty }) {
        let other = spans[k]
        throw ImportError(
          "\(location(i)), column PLAYER_ID: player_lookup \(playerLookup[i]) in \(Season.label(season)) is PLAYER_ID \(id) (\(fullName[i])) here "
            + "but PLAYER_ID \(other.id) (\(other.name)) at \(location(other.firstRow)); "
            + "players are keyed by player_lookup (source-tables.md), so two PLAYER_IDs under one would share one history: "
            + "fix the export (a wrong PLAYER_ID, or two players whose names must differ)")
      }
      spansOfLookup[playerLookup[i], default: []].append(spans.count)
      spans.append(
        PlayerSeason(
          lookup: playerLookup[i], id: id, name: fullName[i], season: season, firstRow: i, from: date[i],
          through: date[i], rows: 1))
    }
    return spans
  }

  /// One PLAYER_ID under two lookups in one game of the import: one player would be two rows
  /// of the game. Looked for only among the PLAYER_IDs with two lookups in a season, which
  /// are rare (none in the eight real seasons).
  func checkOnePlayerPerGame(_ players: [PlayerSeason]) throws(ImportError) {
    let renamed = Set(
      Dictionary(grouping: players.filter { !$0.id.isEmpty }, by: { "\($0.id)|\($0.season)" })
        .values.filter { $0.count > 1 }.map { $0[0].id })
    guard !renamed.isEmpty else { return }
    var rowOfPlayerInGame: [String: Int] = [:]
    for i in 0..<count where renamed.contains(playerID[i]) {
      let k = gameID[i] + "|" + playerID[i]
      if let first = rowOfPlayerInGame[k], playerLookup[first] != playerLookup[i] {
        throw ImportError(
          "\(location(i)), column PLAYER_NAME: PLAYER_ID \(playerID[i]) in game \(gameID[i]) on \(date[i]) is \(fullName[i]) (\(playerLookup[i])) here "
            + "but \(fullName[first]) (\(playerLookup[first])) at \(place(first, besides: i)): one player would be two rows of the game; fix the export"
        )
      }
      rowOfPlayerInGame[k] = i
    }
  }
}

/// Stored rows of one kind, counted for a message: how many, the first one's name and rowid,
/// and their dates.
struct StoredSpan {
  var rows = 0
  var name = ""
  var from = ""
  var through = ""
  var rowid: Int64 = 0

  mutating func add(date: String, name: String?, rowid: Int64) {
    add(from: date, through: date, rows: 1, name: name, rowid: rowid)
  }

  mutating func add(from: String, through: String, rows n: Int, name: String?, rowid: Int64) {
    if rows == 0 || from < self.from { self.from = from }
    if rows == 0 || through > self.through { self.through = through }
    if rows == 0 || rowid < self.rowid {
      self.name = name ?? ""
      self.rowid = rowid
    }
    rows += n
  }
}

/// The database's rows an import's rows are matched against, once its conflicts are ruled out.
struct StoredMatches {
  /// Per import row: the stored row with its key (the lowest rowid when there are several).
  var rowid: [Int64?]
  var row: [PGSRow?]
  /// One PLAYER_ID under two player_lookups in a season: kept as two players, and said so.
  var warnings: [String]
}

extension Importer {
  /// Reads the stored PGS rows the import can meet (its seasons, its date span, its game ids),
  /// matches them to the import's rows by key, and refuses what cannot be right at once.
  /// Nothing is written here: a refusal rolls back an untouched transaction.
  func matchStored(
    _ rows: [PGSRow], input: InputRows, players: [PlayerSeason], seasons: [Int], db: Connection
  ) throws -> StoredMatches {
    var rowOfKey: [String: Int] = [:]
    rowOfKey.reserveCapacity(rows.count)
    // A game's first row stands for the game: its date and teams are the game's (pgsRows
    // refused a game on two dates or with other than two teams).
    var firstRowOfGame: [String: Int] = [:]
    var gameOfMatch: [String: Int] = [:]
    for (i, row) in rows.enumerated() {
      rowOfKey[row.key] = i
      if firstRowOfGame[row.gameID] == nil {
        firstRowOfGame[row.gameID] = i
        gameOfMatch[gameMatchKey(date: row.gameDate, row.team, row.opponent)] = i
      }
    }
    let fileDates = Set(rows.map(\.gameDate))
    // The import's PLAYER_ID per lookup and season, and its lookups per PLAYER_ID and season.
    var idOfLookup: [String: [(season: Int, span: Int)]] = [:]
    var lookupsOfID: [String: [(season: Int, lookup: String)]] = [:]
    for (k, p) in players.enumerated() where !p.id.isEmpty {
      idOfLookup[p.lookup, default: []].append((p.season, k))
      lookupsOfID[p.id, default: []].append((p.season, p.lookup))
    }

    var match = StoredMatches(
      rowid: Array(repeating: nil, count: rows.count), row: Array(repeating: nil, count: rows.count), warnings: [])
    // Stored rows the import's rows contradict, keyed by what the message names.
    var otherID: [String: (row: Int, id: String, match: String, stored: StoredSpan)] = [:]  // game under another id
    var otherDate: [String: (row: Int, date: String, stored: StoredSpan)] = [:]  // game on another date
    var missing: [Int: [String: (uid: String?, stored: StoredSpan)]] = [:]  // players a game lacks
    var otherPlayer: [String: (span: Int, id: String, stored: StoredSpan)] = [:]  // lookup of another PLAYER_ID
    var otherName: [String: StoredSpan] = [:]  // PLAYER_ID|season|lookup of the import's PLAYER_IDs

    func json(_ texts: some Sequence<String>) throws -> String {
      String(decoding: try JSONEncoder().encode(Array(texts)), as: UTF8.self)
    }
    /// Stored rows of one player_lookup and PLAYER_ID in a season that the import leaves in
    /// place, against the import's players. `name` is asked only of rows a message may name.
    func player(
      lookup: String, uid: String?, season: Int, from: String, through: String, rows n: Int, rowid: Int64,
      name: () throws -> String?
    ) rethrows {
      guard let uid else { return }
      if let spans = idOfLookup[lookup], let k = spans.first(where: { $0.season == season })?.span,
        players[k].id != uid
      {
        otherPlayer[lookup + "|\(season)|" + uid, default: (k, uid, StoredSpan())].stored.add(
          from: from, through: through, rows: n, name: try name(), rowid: rowid)
      }
      if let seen = lookupsOfID[uid], seen.contains(where: { $0.season == season }) {
        otherName[uid + "|\(season)|" + lookup, default: StoredSpan()].add(
          from: from, through: through, rows: n, name: try name(), rowid: rowid)
      }
    }
    // Column numbers of the select: rowid, then PGSRow.columns.
    let cLookup: Int32 = 1, cName: Int32 = 2, cUID: Int32 = 3, cGame: Int32 = 4, cDate: Int32 = 5
    let cSeason: Int32 = 6, cTeam: Int32 = 7, cOpponent: Int32 = 8
    func scan(_ select: Statement) throws {
      func text(_ c: Int32) -> String? { select.storageClass(c) == .null ? nil : select.text(c) }
      while try select.step() {
        let rowid = select.int64(0)
        let lookup = text(cLookup) ?? "", game = text(cGame) ?? "", date = text(cDate) ?? ""
        if let i = rowOfKey[date + "|" + lookup + "|" + game] {
          // The stored row this import's row replaces: no conflict with itself.
          if match.rowid[i].map({ rowid < $0 }) ?? true {
            match.rowid[i] = rowid
            match.row[i] = PGSRow(select, first: 1)
          }
          continue
        }
        let uid = text(cUID)
        if let first = firstRowOfGame[game] {
          if date != rows[first].gameDate {
            otherDate[game + "|" + date, default: (first, date, StoredSpan())].stored.add(
              date: date, name: nil, rowid: rowid)
          } else {
            missing[first, default: [:]][lookup, default: (uid, StoredSpan())].stored.add(
              date: date, name: text(cName), rowid: rowid)
          }
        } else if fileDates.contains(date) {
          let key = gameMatchKey(date: date, text(cTeam) ?? "", text(cOpponent) ?? "")
          if let first = gameOfMatch[key] {
            otherID[key + "|" + game, default: (first, game, key, StoredSpan())].stored.add(
              date: date, name: nil, rowid: rowid)
          }
        }
        player(
          lookup: lookup, uid: uid, season: Int(select.int64(cSeason)), from: date, through: date, rows: 1,
          rowid: rowid, name: { text(cName) })
      }
    }

    let columnList = PGSRow.columns.joined(separator: ", ")
    let seasonList = seasons.map(String.init).joined(separator: ", ")
    // Whole rows of the import's dates (the rows whose keys match, since the key holds the
    // date, and the other games of those dates) and of its game ids (a game stored on another
    // date). The touched seasons are read through the season_year index; the rest of the
    // table needs the full scan the date span always cost (PGS has no game_date index), for a
    // row whose season_year another tool got wrong, or a game stored a season away (a year
    // mistyped).
    let games = "(game_date BETWEEN ?1 AND ?2 OR game_id IN (SELECT value FROM json_each(?3)))"
    let inSeasons = try db.prepare(
      "SELECT rowid, \(columnList) FROM player_game_summary WHERE season_year IN (\(seasonList)) AND \(games)")
    let elsewhere = try db.prepare(
      """
      SELECT rowid, \(columnList) FROM player_game_summary
      WHERE \(games) AND (season_year NOT IN (\(seasonList)) OR season_year IS NULL)
      """)
    // The rest of the seasons' rows of the import's players and PLAYER_IDs, the histories the
    // player checks compare with, as one line per lookup and PLAYER_ID: a daily import would
    // otherwise decode its players' whole season. None of them is a row the import replaces
    // (those are in its games). The player test first: most rows fail it (a third faster).
    let histories = try db.prepare(
      """
      SELECT player_lookup, universal_player_id, season_year, count(*), min(game_date), max(game_date), min(rowid)
      FROM player_game_summary
      WHERE season_year IN (\(seasonList))
        AND (player_lookup IN (SELECT value FROM json_each(?4)) OR universal_player_id IN (SELECT value FROM json_each(?5)))
        AND NOT \(games)
      GROUP BY player_lookup, universal_player_id, season_year
      """)
    let nameOfRow = try db.prepare("SELECT player_full_name FROM player_game_summary WHERE rowid = ?1")
    let dates = rows.map(\.gameDate)
    let (gameList, lookupList, idList) = (
      try json(firstRowOfGame.keys), try json(idOfLookup.keys), try json(lookupsOfID.keys)
    )
    for select in [inSeasons, elsewhere, histories] {
      try select.bind(1, dates.min() ?? "")
      try select.bind(2, dates.max() ?? "")
      try select.bind(3, gameList)
    }
    try histories.bind(4, lookupList)
    try histories.bind(5, idList)
    try scan(inSeasons)
    try scan(elsewhere)
    while try histories.step() {
      let rowid = histories.int64(6)
      try player(
        lookup: histories.text(0) ?? "", uid: histories.storageClass(1) == .null ? nil : histories.text(1),
        season: Int(histories.int64(2)), from: histories.text(4) ?? "", through: histories.text(5) ?? "",
        rows: Int(histories.int64(3)), rowid: rowid
      ) {
        nameOfRow.reset()
        try nameOfRow.bind(1, rowid)
        return try nameOfRow.step() ? nameOfRow.text(0) : nil
      }
    }

    let db = databasePath
    let again = "then import the file again, which derives the season's PCF again"
    // Of several conflicts the first in the files is named; fixing it names the next.
    func more(_ n: Int) -> String { n > 1 ? " This import holds \(n - 1) more like it." : "" }
    func rowCount(_ n: Int) -> String { "\(n) row\(n == 1 ? "" : "s")" }

    if let (_, c) = otherID.min(by: { ($0.value.row, $0.key) < ($1.value.row, $1.key) }) {
      let r = rows[c.row]
      throw ImportError(
        "game \(r.gameID) (\(matchName(c.match))) at \(input.location(c.row)) is stored as game \(c.id) (in \(db): \(rowCount(c.stored.rows))): "
          + "a game has one id\(strippedZerosHint(r.gameID, c.id)), and under two it would count twice in every player's history. "
          + "If the database's id is wrong, delete its rows: DELETE FROM player_game_summary WHERE game_id = \(sqlLiteral(c.id)) AND game_date = \(sqlLiteral(r.gameDate)); "
          + "\(again); if the file's is wrong, fix the export.\(more(otherID.count)) Nothing was written")
    }
    if let (_, c) = otherDate.min(by: { ($0.value.row, $0.key) < ($1.value.row, $1.key) }) {
      let r = rows[c.row]
      let otherSeason = Date32(iso: c.date).map { Season.startYear(of: $0) }
      let seasonNote =
        otherSeason.map {
          Int64($0) == r.seasonYear
            ? ""
            : " (\(c.date) is in \(Season.label($0)): import a file of that season too, so that its PCF is derived again)"
        }
        ?? ""
      throw ImportError(
        "game \(r.gameID) is on \(r.gameDate) at \(input.location(c.row)), but in \(db) its \(rowCount(c.stored.rows)) are on \(c.date): "
          + "a game has one date, and on two it would count twice in every player's history. "
          + "If the file is right, delete the stored rows: DELETE FROM player_game_summary WHERE game_id = \(sqlLiteral(r.gameID)) AND game_date = \(sqlLiteral(c.date)); "
          + "\(again)\(seasonNote); if the database is right, fix the export.\(more(otherDate.count)) Nothing was written"
      )
    }
    if let first = missing.keys.min(), let lacking = missing[first] {
      // A stored row whose PLAYER_ID the file has in the game under another lookup: a name
      // corrected in the export ("Cameron Payne" → "Cam Payne").
      let r = rows[first]
      let gameRows = (first..<rows.count).filter { rows[$0].gameID == r.gameID }
      var renamed: [Int: (lookup: String, rowid: Int64)] = [:]
      for (lookup, s) in lacking {
        guard let uid = s.uid else { continue }
        for i in gameRows where rows[i].universalPlayerID == uid {
          if renamed[i].map({ s.stored.rowid < $0.rowid }) ?? true { renamed[i] = (lookup, s.stored.rowid) }
        }
      }
      if let (i, old) = renamed.min(by: { $0.key < $1.key }) {
        let row = rows[i]
        throw ImportError(
          "PLAYER_ID \(row.universalPlayerID ?? "") in game \(row.gameID) on \(row.gameDate) is \(row.fullName ?? row.playerLookup) (\(row.playerLookup)) here, "
            + "but is stored as \(old.lookup) (player_game_summary rowid \(old.rowid)): "
            + "one player would be two rows of the game. A renamed player needs the old rows deleted first "
            + "(DELETE FROM player_game_summary WHERE player_lookup = \(sqlLiteral(old.lookup)); PCF is derived again on import); nothing was written"
        )
      }
      let lookups = lacking.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
      let named = lookups.map { "\($0) (\(lacking[$0]?.stored.name ?? ""))" }.joined(separator: ", ")
      let n = lookups.count
      throw ImportError(
        "game \(r.gameID) (\(r.team)–\(r.opponent) on \(r.gameDate)), first at \(input.location(first)), has rows in \(db) for \(n) player\(n == 1 ? "" : "s") "
          + "this import's version of the game lacks: \(named). "
          + "A file holds whole games, so the two versions disagree, and the stored rows would stay beside teammates whose usage_rate is derived without them. "
          + "If the file is right, delete them: DELETE FROM player_game_summary WHERE game_id = \(sqlLiteral(r.gameID)) AND game_date = \(sqlLiteral(r.gameDate)) "
          + "AND player_lookup IN (\(lookups.map(sqlLiteral).joined(separator: ", "))); \(again); if the database is right, fix the export.\(more(missing.count)) Nothing was written"
      )
    }
    if let (_, c) = otherPlayer.min(by: {
      (players[$0.value.span].firstRow, $0.key) < (players[$1.value.span].firstRow, $1.key)
    }) {
      let p = players[c.span]
      throw ImportError(
        "player_lookup \(p.lookup) in \(Season.label(p.season)) is PLAYER_ID \(p.id) (\(p.name)) at \(input.location(p.firstRow)) "
          + "but PLAYER_ID \(c.id) (\(c.stored.name)) in \(db): \(rowCount(c.stored.rows)), \(dateRange(c.stored.from, c.stored.through)): "
          + "players are keyed by player_lookup (source-tables.md), so two PLAYER_IDs under one would share one history. "
          + "If they are two players, the export must tell their names apart; if the stored PLAYER_ID is wrong, delete its rows: "
          + "DELETE FROM player_game_summary WHERE season_year = \(p.season) AND player_lookup = \(sqlLiteral(p.lookup)) AND universal_player_id = \(sqlLiteral(c.id)); "
          + "\(again).\(more(otherPlayer.count)) Nothing was written")
    }
    match.warnings = renamedPlayerWarnings(players, stored: otherName)
    return match
  }

  /// One PLAYER_ID under two or more player_lookups in a season (a name changed mid-season:
  /// Enes Kanter became Enes Freedom in 2021-22). Not refused, since both names can be true,
  /// but said: the spec keys history by player_lookup, so the player's history starts again
  /// at the new name. `stored` holds the database's rows of the import's PLAYER_IDs and
  /// seasons that the import does not replace, keyed `PLAYER_ID|season|lookup`.
  func renamedPlayerWarnings(_ players: [PlayerSeason], stored: [String: StoredSpan]) -> [String] {
    struct Name {
      var lookup: String
      var name: String
      var rows: Int
      var from: String
      var through: String
    }
    var names: [String: [Name]] = [:]
    var order: [(season: Int, row: Int, key: String)] = []
    for p in players where !p.id.isEmpty {
      let key = "\(p.id)|\(p.season)"
      if names[key] == nil { order.append((p.season, p.firstRow, key)) }
      names[key, default: []].append(
        Name(lookup: p.lookup, name: p.name, rows: p.rows, from: p.from.description, through: p.through.description))
    }
    for (key, s) in stored {
      let parts = key.split(separator: "|", omittingEmptySubsequences: false)
      guard parts.count == 3 else { continue }
      let group = "\(parts[0])|\(parts[1])", lookup = String(parts[2])
      guard var list = names[group] else { continue }
      if let k = list.firstIndex(where: { $0.lookup == lookup }) {
        list[k].rows += s.rows
        list[k].from = min(list[k].from, s.from)
        list[k].through = max(list[k].through, s.through)
      } else {
        list.append(Name(lookup: lookup, name: s.name, rows: s.rows, from: s.from, through: s.through))
      }
      names[group] = list
    }
    var warnings: [String] = []
    for (season, _, key) in order.sorted(by: { ($0.season, $0.row) < ($1.season, $1.row) }) {
      guard let list = names[key], list.count > 1 else { continue }
      let id = key.split(separator: "|").first.map(String.init) ?? key
      let spans = list.sorted { ($0.from, $0.lookup) < ($1.from, $1.lookup) }.map {
        "\($0.name) (\($0.lookup)): \($0.rows) row\($0.rows == 1 ? "" : "s"), \(dateRange($0.from, $0.through))"
      }
      warnings.append(
        "PLAYER_ID \(id) has \(list.count) names in \(Season.label(season)): \(spans.joined(separator: "; ")). "
          + "Players are keyed by player_lookup (source-tables.md), so they are kept as \(list.count) players, "
          + "each with a history of his own (under a new name his rest, pace and usage trend start again)")
    }
    return warnings
  }
}
