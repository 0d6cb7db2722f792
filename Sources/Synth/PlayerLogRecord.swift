import Columnar
import SQLiteSource

/// One row of an NBA.com player game log (stats.nba.com `leaguegamefinder`), the format of
/// ../shared/realdata: what `dataset import` reads from CSV and what the synthetic league emits.
public struct PlayerLogRecord: Sendable, Equatable {
  public var seasonYear: Int
  public var playerId: Int
  public var playerName: String
  public var teamId: Int
  public var teamAbbreviation: String
  public var teamName: String
  /// 10 characters with leading zeros, as NBA.com writes it.
  public var gameId: String
  public var gameDate: Date32
  /// `TEAM vs. OPP` at home, `TEAM @ OPP` away.
  public var matchup: String
  public var won: Bool
  /// Whole minutes (the service rounds them); 0 for a DNP row or a cameo under 30 seconds.
  public var minutes: Int
  public var points = 0
  public var fgMakes = 0
  public var fgAttempts = 0
  public var threeMakes = 0
  public var threeAttempts = 0
  public var ftMakes = 0
  public var ftAttempts = 0
  public var offensiveRebounds = 0
  public var defensiveRebounds = 0
  public var assists = 0
  public var steals = 0
  public var blocks = 0
  public var turnovers = 0
  public var personalFouls = 0
  public var plusMinus = 0

  public init(
    seasonYear: Int, playerId: Int, playerName: String, teamId: Int, teamAbbreviation: String, teamName: String,
    gameId: String, gameDate: Date32, matchup: String, won: Bool, minutes: Int
  ) {
    self.seasonYear = seasonYear
    self.playerId = playerId
    self.playerName = playerName
    self.teamId = teamId
    self.teamAbbreviation = teamAbbreviation
    self.teamName = teamName
    self.gameId = gameId
    self.gameDate = gameDate
    self.matchup = matchup
    self.won = won
    self.minutes = minutes
  }

  /// The 31-column header of the real files, in their order.
  public static let csvHeader =
    "SEASON_ID,PLAYER_ID,PLAYER_NAME,TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_ID,GAME_DATE,MATCHUP,WL,MIN,PTS,FGM,FGA,FG_PCT,FG3M,FG3A,FG3_PCT,FTM,FTA,FT_PCT,OREB,DREB,REB,AST,STL,BLK,TOV,PF,PLUS_MINUS,SEASON_LABEL"

  /// The record as one CSV line (no line end), exactly as NBA.com writes it: percentages with
  /// three decimals and blank when there were no attempts.
  public var csvLine: String {
    func pct(_ m: Int, _ a: Int) -> String {
      guard a > 0 else { return "" }
      let thousandths = (m * 1000 * 2 + a) / (2 * a)  // round half up, in integers
      if thousandths == 1000 { return "1.0" }
      if thousandths == 0 { return "0.0" }
      var frac = String(thousandths)
      while frac.count < 3 { frac = "0" + frac }
      while frac.hasSuffix("0") { frac.removeLast() }
      return "0." + frac
    }
    let name = playerName.contains(",") ? "\"\(playerName)\"" : playerName
    let fields: [String] = [
      "2\(seasonYear)", String(playerId), name, String(teamId), teamAbbreviation, teamName, gameId,
      CivilDate(gameDate).description, matchup, won ? "W" : "L", String(minutes), String(points),
      String(fgMakes), String(fgAttempts), pct(fgMakes, fgAttempts), String(threeMakes), String(threeAttempts),
      pct(threeMakes, threeAttempts), String(ftMakes), String(ftAttempts), pct(ftMakes, ftAttempts),
      String(offensiveRebounds), String(defensiveRebounds), String(offensiveRebounds + defensiveRebounds),
      String(assists), String(steals), String(blocks), String(turnovers), String(personalFouls), String(plusMinus),
      Season.label(seasonYear),
    ]
    return fields.joined(separator: ",")
  }
}

