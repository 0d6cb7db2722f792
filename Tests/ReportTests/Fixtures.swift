import Columnar
import SQLiteSource

/// A PGS row with only the fields coverage looks at; the rest NULL.
struct PGSRow {
  var player: String
  var date: String
  var minutes: Double?
  var usage: Double?
  var dnp: Bool? = false
  var points: Int32? = 10
  var season: Int32 = 2022
}

func day(_ iso: String) -> Date32 {
  guard let d = Date32(iso: iso) else { preconditionFailure("bad fixture date \(iso)") }
  return d
}

/// Builds `SourceData` in memory, so these tests need neither the importer nor a file.
func makeSource(pgs rows: [PGSRow], pcf: [(player: String, date: String)], seasons: [Int] = [2022]) -> SourceData {
  var p = PlayerGameSummary()
  for (k, r) in rows.enumerated() {
    p.rowid.append(Int64(k + 1))
    p.playerLookup.append(r.player)
    p.playerFullName.append(nil)
    p.universalPlayerId.append(nil)
    p.gameId.append("G\(r.date)")
    p.gameDate.append(day(r.date))
    p.seasonYear.append(r.season)
    p.teamAbbr.append("AAA")
    p.opponentTeamAbbr.append("BBB")
    p.isHome.append(nil)
    p.minutesPlayed.append(r.minutes)
    p.points.append(r.points)
    p.fgMakes.append(nil)
    p.fgAttempts.append(5)
    p.threePtMakes.append(1)
    p.threePtAttempts.append(3)
    p.ftMakes.append(nil)
    p.ftAttempts.append(2)
    p.offensiveRebounds.append(1)
    p.defensiveRebounds.append(2)
    p.assists.append(2)
    p.steals.append(nil)
    p.blocks.append(nil)
    p.turnovers.append(1)
    p.personalFouls.append(nil)
    p.plusMinus.append(nil)
    p.usageRate.append(r.usage)
    p.isDnp.append(r.dnp)
    p.processedAt.append(nil)
  }
  var f = PlayerCompositeFactors()
  for (k, r) in pcf.enumerated() {
    f.rowid.append(Int64(k + 1))
    f.playerLookup.append(r.player)
    f.gameDate.append(day(r.date))
    f.gameId.append("G\(r.date)")
    f.fatigueScore.append(nil)
    f.shotZoneMismatchScore.append(nil)
    f.paceScore.append(nil)
    f.usageSpikeScore.append(nil)
    f.totalCompositeAdjustment.append(nil)
    f.calculationVersion.append(nil)
    f.processedAt.append(nil)
  }
  return SourceData(path: "fixture.sqlite", seasons: seasons, pgs: p, pcf: f, schedule: nil)
}
