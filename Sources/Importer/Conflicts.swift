import Columnar
import Foundation
import SQLiteSource

// What an import refuses because its rows cannot all be right at once: one game under two
// ids or on two dates, one player_lookup for two PLAYER_IDs (docs/IMPORT.md, "What import
// refuses"). Each of them was accepted once, and PCF was then derived from a history that
// held a game twice or two players as one.

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
