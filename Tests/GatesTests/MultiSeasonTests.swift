// Several seasons in one run: each gate is measured per season, the worst season sets the
// status, and evidence lines name their season (docs/GATES.md, "Several seasons").
import Columnar
import Gates
import SQLiteSource
import Testing

/// A hand-built source: per date one game of two five-man teams, every row active.
func handBuiltSource(dates: [String], pcfDates: Set<String>) -> SourceData {
  var pgs = PlayerGameSummary()
  var pcf = PlayerCompositeFactors()
  var rowid: Int64 = 0
  for (g, iso) in dates.enumerated() {
    let date = Date32(iso: iso)!
    for (team, opponent) in [("AAA", "BBB"), ("BBB", "AAA")] {
      for p in 0..<5 {
        rowid += 1
        pgs.rowid.append(rowid)
        pgs.playerLookup.append("\(team.lowercased())player\(p)")
        pgs.playerFullName.append(nil)
        pgs.universalPlayerId.append(nil)
        pgs.gameId.append("00\(22_000_000 + g)")
        pgs.gameDate.append(date)
        pgs.seasonYear.append(Int32(Season.startYear(of: date)))
        pgs.teamAbbr.append(team)
        pgs.opponentTeamAbbr.append(opponent)
        pgs.isHome.append(team == "BBB")
        pgs.minutesPlayed.append(Double(20 + p))
        for column in [
          \PlayerGameSummary.offensiveRebounds, \.defensiveRebounds, \.assists, \.steals, \.blocks, \.personalFouls,
          \.plusMinus, \.threePtMakes, \.threePtAttempts, \.ftMakes, \.ftAttempts, \.turnovers,
        ] {
          pgs[keyPath: column].append(Int32(p % 3))
        }
        pgs.fgMakes.append(Int32(p))
        pgs.fgAttempts.append(Int32(2 * p + 1))
        // points = 2·FGM + 3PM + FTM with 3PM = FTM = p % 3.
        pgs.points.append(Int32(2 * p + 2 * (p % 3)))
        pgs.usageRate.append(Double(15 + p))
        pgs.isDnp.append(false)
        pgs.processedAt.append(Timestamp.parseMicros(iso + "T23:00:00Z"))
        if pcfDates.contains(iso) {
          pcf.rowid.append(rowid)
          pcf.playerLookup.append("\(team.lowercased())player\(p)")
          pcf.gameDate.append(date)
          pcf.gameId.append("00\(22_000_000 + g)")
          pcf.fatigueScore.append(Int32(50 + 10 * p))
          pcf.shotZoneMismatchScore.append(Double(p) - 2)
          pcf.paceScore.append(Double(p) / 4)
          pcf.usageSpikeScore.append(Double(p % 3) - 1)
          pcf.totalCompositeAdjustment.append(Double(p))
          pcf.calculationVersion.append("t")
          pcf.processedAt.append(Timestamp.parseMicros(iso + "T23:30:00Z"))
        }
      }
    }
  }
  let seasons = Set(dates.map { Season.startYear(of: Date32(iso: $0)!) }).sorted()
  return SourceData(path: "hand-built", seasons: seasons, pgs: pgs, pcf: pcf, schedule: nil)
}

@Suite struct MultiSeasonTests {
  @Test func worstSeasonSetsTheStatusAndEvidenceNamesItsSeason() throws {
    let source = handBuiltSource(
      dates: ["2021-10-19", "2021-11-05", "2022-10-18", "2022-11-04", "2022-11-06"],
      pcfDates: ["2021-11-05", "2022-11-06"])
    let report = GateRunner.run(source: source)
    let gate = try #require(report.result(.pcfDateCoverage))
    #expect(gate.status == .fail)
    #expect(
      gate.figure
        == "2021-22: PCF covers 1 of 1 expected dates (100.0 %); 2022-23: PCF covers 1 of 2 expected dates (50.0 %)")
    #expect(gate.value == 50)
    #expect(gate.evidence == ["2022-23 2022-11-04"])
    #expect(report.seasons.map(\.expectedDates) == [1, 2])
    #expect(report.seasons.map(\.bootstrapEnds) == ["2021-11-01", "2022-10-31"])
    // The date without PCF is also 0 % of its players: 1 of 2 dates below 90 % fails.
    let players = try #require(report.result(.pcfPlayerCoverage))
    #expect(players.status == .fail)
    #expect(
      players.evidence.count == 1 && players.evidence[0].hasPrefix("2022-23 2022-11-04: 0 of "), "\(players.evidence)")
    for other in [
      GateName.usageRateCoverage, .sourceFieldCoverage, .duplicateKeys, .gameIntegrity, .valueRanges, .pcfStaleness,
    ] {
      #expect(report.result(other)?.status == .pass, "\(other.rawValue): \(report.result(other)?.figure ?? "")")
    }
  }

  @Test func windowInsideBootstrapHasNothingToMeasure() throws {
    let source = handBuiltSource(dates: ["2022-10-18", "2022-11-04"], pcfDates: ["2022-11-04"])
    let report = GateRunner.run(
      source: source, window: GateWindow(start: Date32(iso: "2022-10-18"), end: Date32(iso: "2022-10-25")))
    let gate = try #require(report.result(.pcfDateCoverage))
    #expect(gate.status == .pass)
    #expect(gate.value == nil)
    #expect(gate.figure == "no expected PCF date in range (only bootstrap days or no games)")
  }

  @Test func tooFewActivePlayersFailsIntegrity() throws {
    var source = handBuiltSource(dates: ["2022-10-18", "2022-11-04"], pcfDates: ["2022-11-04"])
    // One BBB player of the first game becomes a DNP: four active players remain.
    let i = 5
    source.pgs.isDnp.values[i] = true
    let gate = try #require(GateRunner.run(source: source).result(.gameIntegrity))
    #expect(gate.status == .fail)
    #expect(gate.evidence == ["game 0022000000 (2022-10-18) BBB: 4 active players, expected 5 to 20"])
  }
}
