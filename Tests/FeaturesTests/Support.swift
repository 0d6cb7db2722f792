import Columnar
import Foundation
import SQLiteSource

@testable import Features

/// Repository root, located from this file so CI clones elsewhere still find the specs.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent()

func specPath(_ name: String) -> String { repoRoot.appendingPathComponent("Schemas/features/\(name).json").path }

/// One PGS row for building sources by hand.
struct GameRow {
  var player: String
  var date: String
  var season: Int32
  var team = "AAA"
  var opponent = "BBB"
  var gameId = "g"
  var isHome: Bool? = true
  var minutes: Double? = 30
  var isDnp: Bool? = false
  var points: Int32? = 10
  var fga: Int32? = 8
  var fg3a: Int32? = 3
  var fg3m: Int32? = 1
  var fta: Int32? = 2
  var oreb: Int32? = 1
  var dreb: Int32? = 4
  var assists: Int32? = 3
  var turnovers: Int32? = 2
  var usage: Double? = 20
}

struct FactorRow {
  var player: String
  var date: String
  var fatigue: Int32? = 80
  var shotZone: Double? = 1.5
  var pace: Double? = -0.5
  var usageSpike: Double? = 0.25
  var total: Double? = 1.25
}

func makeSource(_ rows: [GameRow], factors: [FactorRow] = [], seasons: [Int]? = nil) -> SourceData {
  var pgs = PlayerGameSummary()
  for (i, r) in rows.enumerated() {
    pgs.rowid.append(Int64(i + 1))
    pgs.playerLookup.append(r.player)
    pgs.playerFullName.append(r.player)
    pgs.universalPlayerId.append(nil)
    pgs.gameId.append(r.gameId)
    pgs.gameDate.append(Date32(iso: r.date)!)
    pgs.seasonYear.append(r.season)
    pgs.teamAbbr.append(r.team)
    pgs.opponentTeamAbbr.append(r.opponent)
    pgs.isHome.append(r.isHome)
    pgs.minutesPlayed.append(r.minutes)
    pgs.points.append(r.points)
    pgs.fgMakes.append(r.fga.map { $0 / 2 })
    pgs.fgAttempts.append(r.fga)
    pgs.threePtMakes.append(r.fg3m)
    pgs.threePtAttempts.append(r.fg3a)
    pgs.ftMakes.append(r.fta.map { $0 / 2 })
    pgs.ftAttempts.append(r.fta)
    pgs.offensiveRebounds.append(r.oreb)
    pgs.defensiveRebounds.append(r.dreb)
    pgs.assists.append(r.assists)
    pgs.steals.append(1)
    pgs.blocks.append(0)
    pgs.turnovers.append(r.turnovers)
    pgs.personalFouls.append(2)
    pgs.plusMinus.append(-3)
    pgs.usageRate.append(r.usage)
    pgs.isDnp.append(r.isDnp)
    pgs.processedAt.append(nil)
  }
  var pcf = PlayerCompositeFactors()
  for (i, f) in factors.enumerated() {
    pcf.rowid.append(Int64(i + 1))
    pcf.playerLookup.append(f.player)
    pcf.gameDate.append(Date32(iso: f.date)!)
    pcf.gameId.append("g")
    pcf.fatigueScore.append(f.fatigue)
    pcf.shotZoneMismatchScore.append(f.shotZone)
    pcf.paceScore.append(f.pace)
    pcf.usageSpikeScore.append(f.usageSpike)
    pcf.totalCompositeAdjustment.append(f.total)
    pcf.calculationVersion.append("v1")
    pcf.processedAt.append(nil)
  }
  let s = seasons ?? Array(Set(rows.map { Int($0.season) })).sorted()
  return SourceData(path: "<test>", seasons: s, pgs: pgs, pcf: pcf, schedule: nil)
}

/// Random league data with the awkward cases: NULL stats, inactive rows (DNP, 0 minutes),
/// single-game players, short histories, players traded mid-season, back-to-backs, two
/// seasons, duplicate game dates across players, and PCF rows for some (player, date) pairs.
func randomSource(seed: UInt64, seasons: [Int] = [2021, 2022], players: Int = 14) -> SourceData {
  var rng = SplitMix64(seed: seed)
  func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) / 10_000 < p }
  func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
  var rows: [GameRow] = []
  var factors: [FactorRow] = []
  let teams = ["ATL", "BOS", "CHI", "DEN", "LAL", "MIA"]
  for season in seasons {
    let opening = CivilDate(year: season, month: 10, day: 18)!.date32
    for p in 0..<players {
      let name = "player\(p)" + (p % 5 == 0 ? "jr" : "")
      let games = p % 7 == 3 ? 1 : int(0...40)  // some single-game players
      var day = int(0...20)
      var team = teams[p % teams.count]
      let tradeAt = chance(0.4) ? int(0...max(0, games)) : -1
      for g in 0..<games {
        day += chance(0.3) ? 1 : int(1...6)
        if g == tradeAt { team = teams[(p + 1) % teams.count] }
        let date = CivilDate(opening.adding(days: day)).description
        var r = GameRow(
          player: name, date: date, season: Int32(season), team: team, opponent: "OPP", gameId: "\(date)_\(team)")
        r.isHome = chance(0.1) ? nil : chance(0.5)
        r.minutes = chance(0.05) ? nil : (chance(0.08) ? 0 : Double(int(1...480)) / 10)
        r.isDnp = chance(0.05) ? true : (chance(0.1) ? nil : false)
        func stat(_ r: ClosedRange<Int>) -> Int32? { chance(0.08) ? nil : Int32(int(r)) }
        r.points = stat(0...45)
        r.fga = stat(0...25)
        r.fg3a = stat(0...12)
        r.fg3m = stat(0...6)
        r.fta = stat(0...12)
        r.oreb = stat(0...6)
        r.dreb = stat(0...12)
        r.assists = stat(0...14)
        r.turnovers = stat(0...7)
        r.usage = chance(0.1) ? nil : Double(int(0...4000)) / 100 + 1.0 / 3.0
        rows.append(r)
        if chance(0.7) {
          factors.append(
            FactorRow(
              player: name, date: date, fatigue: chance(0.1) ? nil : Int32(int(0...100)),
              shotZone: chance(0.1) ? nil : Double(int(-1000...1000)) / 100, pace: Double(int(-300...300)) / 100,
              usageSpike: Double(int(-300...300)) / 100, total: chance(0.1) ? nil : Double(int(-500...500)) / 37))
        }
      }
    }
  }
  // Rows arrive in no particular order, as in real exports.
  for i in stride(from: rows.count - 1, to: 0, by: -1) { rows.swapAt(i, int(0...i)) }
  return makeSource(rows, factors: factors, seasons: seasons)
}
