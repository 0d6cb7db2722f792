import Columnar

/// Box-score composite factors (docs/IMPORT.md has every reading of the formulas).
public enum CompositeFactors {
  public static let calculationVersion = "boxscore_v1"
}

/// What PCF derivation needs from one PGS row.
struct HistoryRows {
  var playerLookup: [String] = []
  var gameID: [String] = []
  var date: [Date32] = []
  var season: [Int] = []
  var team: [String] = []
  var opponent: [String] = []
  var minutes: [Double?] = []
  var isDNP: [Int64?] = []
  var usage: [Double?] = []
  /// FGA + 0.44·FTA + TOV − OREB of the row, NULL stats counted as 0.
  var possessions: [Double] = []

  var count: Int { gameID.count }

  func isActive(_ i: Int) -> Bool { isDNP[i] != 1 && (minutes[i] ?? 0) > 0 }
}

/// One PCF row's content, everything but `processed_at`.
struct PCFRow: Equatable {
  var playerLookup: String
  var gameDate: String
  var gameID: String
  var fatigue: Int64?
  var shotZone: Double?
  var pace: Double?
  var usageSpike: Double?
  var total: Double?
  var version: String?

  var key: String { gameDate + "|" + playerLookup }
}

extension HistoryRows {
  /// PCF rows for one season's PGS rows: one per active row on a non-bootstrap date, each
  /// computed from rows strictly before its date.
  func compositeFactors(season: Int) -> [PCFRow] {
    let rows = (0..<count).filter { self.season[$0] == season }
    guard let opening = rows.map({ date[$0] }).min() else { return [] }

    // Team pace per game: possessions and player-minutes summed over the team's rows.
    struct TeamGame {
      var date: Date32
      var gameID: String
      var possessions = 0.0
      var minutes = 0.0
    }
    var teamGameIndex: [String: Int] = [:]
    var teamGames: [TeamGame] = []
    var teamOf: [String] = []
    // Summed in one fixed order (game, team, player), not in the table's row order: floating
    // point sums depend on their order, and the same rows imported from a re-sorted export
    // must give bit-identical PCF (PCF is derived from PGS content alone).
    let canonical = rows.sorted {
      (gameID[$0], team[$0], playerLookup[$0], date[$0]) < (gameID[$1], team[$1], playerLookup[$1], date[$1])
    }
    for i in canonical {
      let k = gameID[i] + "|" + team[i]
      let t: Int
      if let e = teamGameIndex[k] {
        t = e
      } else {
        t = teamGames.count
        teamGameIndex[k] = t
        teamGames.append(TeamGame(date: date[i], gameID: gameID[i]))
        teamOf.append(team[i])
      }
      teamGames[t].possessions += possessions[i]
      teamGames[t].minutes += minutes[i] ?? 0
    }
    var gamesOfTeam: [String: [(date: Date32, pace: Double)]] = [:]
    for t in teamGames.indices {
      let g = teamGames[t]
      let pace = 48 * g.possessions / (roundedTeamMinutes(g.minutes) / 5)
      gamesOfTeam[teamOf[t], default: []].append((g.date, pace))
    }
    for k in gamesOfTeam.keys {
      gamesOfTeam[k]!.sort { $0.date < $1.date }
    }
    /// Mean pace over the team's last 10 games strictly before `d`; nil without one.
    func teamPace(_ team: String, before d: Date32) -> Double? {
      guard let games = gamesOfTeam[team] else { return nil }
      var lo = 0, hi = games.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if games[mid].date < d { lo = mid + 1 } else { hi = mid }
      }
      let end = lo
      let start = max(0, end - 10)
      guard end > start else { return nil }
      var sum = 0.0
      for j in start..<end { sum += games[j].pace }
      return sum / Double(end - start)
    }

    // Each player's active rows in date order (game_id breaks same-day ties).
    var byPlayer: [String: [Int]] = [:]
    for i in rows where isActive(i) { byPlayer[playerLookup[i], default: []].append(i) }
    var out: [PCFRow] = []
    for (_, var list) in byPlayer {
      list.sort { date[$0] != date[$1] ? date[$0] < date[$1] : gameID[$0] < gameID[$1] }
      // secondNight[j]: the player also played the calendar day before list[j].
      var secondNight = [Bool](repeating: false, count: list.count)
      for j in list.indices {
        var p = j - 1
        while p >= 0 && date[list[p]] == date[list[j]] { p -= 1 }
        secondNight[j] = p >= 0 && date[list[j]].days(since: date[list[p]]) == 1
      }
      var historyEnd = 0  // list[0..<historyEnd] are strictly before the current date
      var usageSum = 0.0, usageCount = 0
      var lastDate: Date32? = nil
      for j in list.indices {
        let i = list[j]
        let d = date[i]
        while historyEnd < j && date[list[historyEnd]] < d {
          if let u = usage[list[historyEnd]] {
            usageSum += u
            usageCount += 1
          }
          historyEnd += 1
        }
        // One PCF row per (date, player): a second row the same day is skipped.
        if let lastDate, lastDate == d { continue }
        lastDate = d
        if d.days(since: opening) < 14 { continue }

        var fatigue = 100
        if historyEnd > 0 {
          let rest = d.days(since: date[list[historyEnd - 1]])
          if rest == 1 { fatigue -= 15 } else if rest >= 3 { fatigue += 5 }
        }
        var games7 = 0
        var minutes7 = 0.0
        var backToBacks14 = 0
        var p = historyEnd - 1
        while p >= 0 {
          let ago = d.days(since: date[list[p]])
          if ago > 14 { break }
          if ago <= 7 {
            games7 += 1
            minutes7 += minutes[list[p]] ?? 0
          }
          if secondNight[p] { backToBacks14 += 1 }
          p -= 1
        }
        if games7 >= 4 { fatigue -= 10 }
        if minutes7 > 240 { fatigue -= 10 }
        if games7 > 0 && minutes7 / Double(games7) > 35 { fatigue -= 8 }
        if backToBacks14 >= 2 { fatigue -= 12 } else if backToBacks14 == 1 { fatigue -= 5 }
        fatigue = min(100, max(0, fatigue))

        var pace: Double? = nil
        if let own = teamPace(team[i], before: d), let opp = teamPace(opponent[i], before: d) {
          pace = min(3, max(-3, (own - opp) / 2))
        }

        var spike: Double? = nil
        if usageCount > 0 {
          var recentSum = 0.0, recentCount = 0
          var q = historyEnd - 1
          while q >= 0 && recentCount < 7 {
            if let u = usage[list[q]] {
              recentSum += u
              recentCount += 1
            }
            q -= 1
          }
          let seasonMean = usageSum / Double(usageCount)
          let recentMean = recentSum / Double(recentCount)
          spike = min(3, max(-3, 0.3 * (seasonMean - recentMean)))
        }
        let total = Double(fatigue - 100) / 20 + (pace ?? 0) + (spike ?? 0)
        out.append(
          PCFRow(
            playerLookup: playerLookup[i], gameDate: CivilDate(d).description, gameID: gameID[i],
            fatigue: Int64(fatigue), shotZone: nil, pace: pace, usageSpike: spike, total: total,
            version: CompositeFactors.calculationVersion))
      }
    }
    out.sort { $0.gameDate != $1.gameDate ? $0.gameDate < $1.gameDate : $0.playerLookup < $1.playerLookup }
    return out
  }
}
