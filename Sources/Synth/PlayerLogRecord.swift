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
    var out: [UInt8] = []
    appendCSV(to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Appends `csvLine` as bytes: generating a 2M-row league spends its time here, so no
  /// intermediate strings.
  public func appendCSV(to out: inout [UInt8]) {
    @inline(__always) func comma() { out.append(0x2C) }
    func int(_ v: Int) {
      if v < 0 {
        out.append(0x2D)
        int(-v)
        return
      }
      if v >= 10 { int(v / 10) }
      out.append(0x30 + UInt8(v % 10))
    }
    func text(_ s: String) {
      if s.utf8.contains(0x2C) || s.utf8.contains(0x22) {
        out.append(0x22)
        for b in s.utf8 {
          if b == 0x22 { out.append(0x22) }
          out.append(b)
        }
        out.append(0x22)
      } else {
        out += s.utf8
      }
    }
    func pct(_ m: Int, _ a: Int) {
      guard a > 0 else { return }
      let thousandths = (m * 1000 * 2 + a) / (2 * a)  // round half up, in integers
      if thousandths >= 1000 {
        out += "1.0".utf8
        return
      }
      if thousandths == 0 {
        out += "0.0".utf8
        return
      }
      var digits = [UInt8(thousandths / 100), UInt8(thousandths / 10 % 10), UInt8(thousandths % 10)]
      while digits.last == 0 { digits.removeLast() }
      out += "0.".utf8
      for d in digits { out.append(0x30 + d) }
    }
    out.append(0x32)  // SEASON_ID: "2" + start year
    int(seasonYear)
    comma(); int(playerId)
    comma(); text(playerName)
    comma(); int(teamId)
    comma(); text(teamAbbreviation)
    comma(); text(teamName)
    comma(); out += gameId.utf8
    comma(); out += CivilDate(gameDate).description.utf8
    comma(); text(matchup)
    comma(); out.append(won ? 0x57 : 0x4C)
    comma(); int(minutes)
    comma(); int(points)
    comma(); int(fgMakes)
    comma(); int(fgAttempts)
    comma(); pct(fgMakes, fgAttempts)
    comma(); int(threeMakes)
    comma(); int(threeAttempts)
    comma(); pct(threeMakes, threeAttempts)
    comma(); int(ftMakes)
    comma(); int(ftAttempts)
    comma(); pct(ftMakes, ftAttempts)
    comma(); int(offensiveRebounds)
    comma(); int(defensiveRebounds)
    comma(); int(offensiveRebounds + defensiveRebounds)
    comma(); int(assists)
    comma(); int(steals)
    comma(); int(blocks)
    comma(); int(turnovers)
    comma(); int(personalFouls)
    comma(); int(plusMinus)
    comma(); out += Season.label(seasonYear).utf8
  }
}
