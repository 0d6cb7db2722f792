import Foundation
import Columnar
import SQLiteSource

/// One PGS row's content, everything but `processed_at` (what idempotency compares).
struct PGSRow: Equatable {
  var playerLookup: String
  var fullName: String?
  var universalPlayerID: String?
  var gameID: String
  var gameDate: String
  var seasonYear: Int64
  var team: String
  var opponent: String
  var isHome: Int64?
  var minutes: Double?
  var stats: [Int64?]
  var usageRate: Double?
  var isDNP: Int64?

  /// (game_date, player_lookup) + game_id: the identity an import matches rows by.
  var key: String { gameDate + "|" + playerLookup + "|" + gameID }

  static let columns = [
    "player_lookup", "player_full_name", "universal_player_id", "game_id", "game_date", "season_year",
    "team_abbr", "opponent_team_abbr", "is_home", "minutes_played", "points", "fg_makes", "fg_attempts",
    "three_pt_makes", "three_pt_attempts", "ft_makes", "ft_attempts", "offensive_rebounds",
    "defensive_rebounds", "assists", "steals", "blocks", "turnovers", "personal_fouls", "plus_minus",
    "usage_rate", "is_dnp",
  ]

  /// Binds parameters 1…27 in `columns` order.
  func bind(_ st: Statement) throws(SQLiteError) {
    try st.bind(1, playerLookup)
    try st.bind(2, fullName)
    try st.bind(3, universalPlayerID)
    try st.bind(4, gameID)
    try st.bind(5, gameDate)
    try st.bind(6, seasonYear)
    try st.bind(7, team)
    try st.bind(8, opponent)
    try st.bind(9, isHome)
    try st.bind(10, minutes)
    for k in 0..<Stat.count { try st.bind(Int32(11 + k), stats[k]) }
    try st.bind(26, usageRate)
    try st.bind(27, isDNP)
  }

  /// Reads a row selected as `rowid, <columns>, processed_at`, starting at column `first`.
  init(_ st: Statement, first: Int32) {
    func text(_ i: Int32) -> String? { st.storageClass(first + i) == .null ? nil : st.text(first + i) }
    func int(_ i: Int32) -> Int64? { st.storageClass(first + i) == .null ? nil : st.int64(first + i) }
    func real(_ i: Int32) -> Double? { st.storageClass(first + i) == .null ? nil : st.double(first + i) }
    playerLookup = text(0) ?? ""
    fullName = text(1)
    universalPlayerID = text(2)
    gameID = text(3) ?? ""
    gameDate = text(4) ?? ""
    seasonYear = int(5) ?? 0
    team = text(6) ?? ""
    opponent = text(7) ?? ""
    isHome = int(8)
    minutes = real(9)
    stats = (0..<Int32(Stat.count)).map { int(10 + $0) }
    usageRate = real(25)
    isDNP = int(26)
  }

  init(
    playerLookup: String, fullName: String?, universalPlayerID: String?, gameID: String, gameDate: String,
    seasonYear: Int64, team: String, opponent: String, isHome: Int64?, minutes: Double?, stats: [Int64?],
    usageRate: Double?, isDNP: Int64?
  ) {
    self.playerLookup = playerLookup
    self.fullName = fullName
    self.universalPlayerID = universalPlayerID
    self.gameID = gameID
    self.gameDate = gameDate
    self.seasonYear = seasonYear
    self.team = team
    self.opponent = opponent
    self.isHome = isHome
    self.minutes = minutes
    self.stats = stats
    self.usageRate = usageRate
    self.isDNP = isDNP
  }
}

/// Usage rate of source-tables.md, as a percentage; NULL when minutes are 0 or the team had no
/// possessions. `teamMinutes` is the team's player-minutes (240 + 25 per overtime).
func usageRate(fga: Int64?, fta: Int64?, tov: Int64?, minutes: Double, team: TeamTotals?) -> Double? {
  guard minutes > 0, let team, team.complete, let fga, let fta, let tov else { return nil }
  let teamPoss = team.fga + 0.44 * team.fta + team.tov
  guard teamPoss > 0 else { return nil }
  let playerPoss = Double(fga) + 0.44 * Double(fta) + Double(tov)
  return 100 * playerPoss * (team.minutes / 5) / (minutes * teamPoss)
}

extension InputRows {
  /// PGS rows for every input row: opponent and home side from the other team of the same game,
  /// usage from team totals (summed player rows, or `teamLogs` when given).
  func pgsRows(teamLogs: [String: TeamTotals]?, teamLogsPath: String = "the team logs") throws(ImportError) -> [PGSRow]
  {
    // Teams per game, each with its first row, in order of first appearance; the games in
    // order of their first row, so that of several bad games the first in the files is named.
    var teamsOfGame: [String: [(team: String, row: Int)]] = [:]
    var games: [String] = []
    var summed: [String: TeamTotals] = [:]
    var seen: [String: Int] = [:]
    for i in 0..<count {
      let g = gameID[i]
      if let teams = teamsOfGame[g] {
        // One id on two dates is two games to every reader keyed by date (PGS, PCF history),
        // and which date is right cannot be told from the rows.
        let first = teams[0].row
        if date[i] != date[first] {
          throw ImportError(
            "\(location(i)), column GAME_DATE: game \(g) is on \(date[i]) here but on \(date[first]) at \(location(first)); "
              + "a game has one date: fix the export")
        }
        if !teams.contains(where: { $0.team == team[i] }) { teamsOfGame[g]?.append((team[i], i)) }
      } else {
        teamsOfGame[g] = [(team[i], i)]
        games.append(g)
      }
      let key = date[i].description + "|" + playerLookup[i] + "|" + g
      if let first = seen[key] {
        throw ImportError(
          "\(location(i)): second row for player \(fullName[i]) (\(playerLookup[i])) in game \(g) on \(CivilDate(date[i])), first at \(location(first))"
        )
      }
      seen[key] = i
      let k = g + "|" + team[i]
      var t = summed[k] ?? TeamTotals(fga: 0, fta: 0, tov: 0, minutes: 0)
      t.fga += Double(stats[Stat.fga][i] ?? 0)
      t.fta += Double(stats[Stat.fta][i] ?? 0)
      t.tov += Double(stats[Stat.tov][i] ?? 0)
      t.minutes += minutes[i]
      // A blank count of a player who played leaves the team's sum short: his teammates'
      // usage would be computed from a total that is not the team's (a spec audit).
      if minutes[i] > 0, stats[Stat.fga][i] == nil || stats[Stat.fta][i] == nil || stats[Stat.tov][i] == nil {
        t.complete = false
      }
      summed[k] = t
    }
    for g in games {
      guard let teams = teamsOfGame[g], teams.count != 2 else { continue }
      if teams.count == 1 {
        throw ImportError(
          "\(location(teams[0].row)), column GAME_ID: game \(g) has rows for one team only (\(teams[0].team)), so the opponent cannot be derived; import both teams' rows of a game together"
        )
      }
      // The row that brought the third team is the one to look at (a team misspelt on line 11
      // was reported at the game's first line); each team's first line says where the others are.
      let third = teams[2].row
      let listed = teams.map { "\($0.team) from \(place($0.row, besides: third))" }.joined(separator: ", ")
      throw ImportError(
        "\(location(third)), column TEAM_ABBREVIATION: \"\(team[third])\": game \(g) has rows for \(teams.count) teams (\(listed)); a game has two"
      )
    }
    // One game is one date and one pair of teams, whatever its id says (the duplicate_keys
    // gate's reading): the same game under two ids would be two games in every player's history.
    var gameOfMatch: [String: String] = [:]
    for g in games {
      guard let teams = teamsOfGame[g] else { continue }
      let match = gameMatchKey(date: date[teams[0].row].description, teams[0].team, teams[1].team)
      if let other = gameOfMatch[match], let first = teamsOfGame[other]?[0].row {
        throw ImportError(
          "\(location(teams[0].row)), column GAME_ID: game \(g) (\(matchName(match))) is also in this import as game \(other), first at \(location(first)); "
            + "a game has one id\(strippedZerosHint(g, other)), and under two it would count twice in every player's history: fix the export"
        )
      }
      gameOfMatch[match] = g
    }
    let teamsOf = teamsOfGame.mapValues { $0.map(\.team) }
    // The home team per game: every row's MATCHUP read against the game's two teams. Rows that
    // disagree, or name other teams, leave is_home NULL for the whole game.
    var homeOfGame: [String: String?] = [:]
    var parsedMatchups: [String: ParsedMatchup?] = [:]
    for i in 0..<count {
      let teams = teamsOf[gameID[i]]!
      let parsed: ParsedMatchup?
      if let cached = parsedMatchups[matchup[i]] {
        parsed = cached
      } else {
        parsed = ParsedMatchup(matchup[i])
        parsedMatchups[matchup[i]] = .some(parsed)
      }
      // Text in neither form is an export the importer does not understand, not a game whose
      // rows disagree: NULL is_home on every row of the import would pass every gate.
      guard let parsed else {
        throw ImportError(
          "\(location(i)), column MATCHUP: \"\(matchup[i])\": expected \"TEAM vs. OPP\" (a home game) or \"TEAM @ OPP\" (an away game)"
        )
      }
      let home = parsed.home(teams: teams)
      if let previous = homeOfGame[gameID[i]] {
        if previous != home { homeOfGame[gameID[i]] = .some(nil) }
      } else {
        homeOfGame[gameID[i]] = .some(home)
      }
    }
    // source-tables.md: usage is NULL where a team total is missing, so team logs may cover
    // part of the games. Team logs that cover none of them are the wrong file, or ids spelled
    // otherwise (an Excel-saved log drops the leading zeros): every usage_rate of the import
    // would be NULL, so that is refused.
    if let teamLogs, let i = (0..<count).first,
      !(0..<count).contains(where: { teamLogs[gameID[$0] + "|" + team[$0]] != nil })
    {
      let example =
        teamLogs.keys.min().map { " (its first: game \($0.replacingOccurrences(of: "|", with: ", team ")))" } ?? ""
      throw ImportError(
        "\(teamLogsPath): none of its team games is in the player logs\(example); the first player row, \(location(i)), "
          + "is team \(team[i]) in game \(gameID[i]). GAME_ID and TEAM_ABBREVIATION must be spelled as in the player logs"
      )
    }
    var rows: [PGSRow] = []
    rows.reserveCapacity(count)
    for i in 0..<count {
      let g = gameID[i]
      let teams = teamsOf[g]!
      let opponent = teams[0] == team[i] ? teams[1] : teams[0]
      let home = homeOfGame[g]!
      let totals: TeamTotals?
      if let teamLogs {
        totals = teamLogs[g + "|" + team[i]]
      } else {
        var t = summed[g + "|" + team[i]]!
        t.minutes = roundedTeamMinutes(t.minutes)
        totals = t
      }
      let mins = minutes[i]
      rows.append(
        PGSRow(
          playerLookup: playerLookup[i], fullName: fullName[i],
          universalPlayerID: playerID[i].isEmpty ? nil : playerID[i],
          gameID: g, gameDate: CivilDate(date[i]).description, seasonYear: Int64(Season.startYear(of: date[i])),
          team: team[i], opponent: opponent, isHome: home.map { $0 == team[i] ? 1 : 0 }, minutes: mins,
          stats: (0..<Stat.count).map { stats[$0][i] },
          usageRate: usageRate(
            fga: stats[Stat.fga][i], fta: stats[Stat.fta][i], tov: stats[Stat.tov][i], minutes: mins, team: totals),
          isDNP: mins == 0 ? 1 : 0))
    }
    return rows
  }
}

/// `A vs. B` means A is at home, `A @ B` means B is.
struct ParsedMatchup {
  var first: String
  var second: String
  var firstIsHome: Bool

  init?(_ matchup: String) {
    for (separator, firstIsHome) in [(" vs. ", true), (" @ ", false)] {
      guard let r = matchup.range(of: separator) else { continue }
      first = String(matchup[..<r.lowerBound]).trimmingCharacters(in: .whitespaces)
      second = String(matchup[r.upperBound...]).trimmingCharacters(in: .whitespaces)
      self.firstIsHome = firstIsHome
      return
    }
    return nil
  }

  /// The home team, nil unless both names are the game's two teams.
  func home(teams: [String]) -> String? {
    guard first != second, teams.contains(first), teams.contains(second) else { return nil }
    return firstIsHome ? first : second
  }
}
