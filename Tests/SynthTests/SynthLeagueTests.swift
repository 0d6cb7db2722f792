import Columnar
import Testing

@testable import Synth

/// Shape checks of the synthetic league against what real NBA seasons look like, and the source
/// invariants every generated box score must satisfy.
@Suite struct SynthLeagueTests {
  static let twoSeasons: [SynthLeague.SeasonOutput] = {
    var league = SynthLeague(seed: 7)
    return [league.season(2015), league.season(2016)]
  }()

  @Test func sameSeedGivesIdenticalRecordsAndAnotherSeedDoesNot() {
    var again = SynthLeague(seed: 7)
    let first = again.season(2015)
    #expect(first.records == Self.twoSeasons[0].records)
    var other = SynthLeague(seed: 8)
    #expect(other.season(2015).records != Self.twoSeasons[0].records)
  }

  @Test func scheduleHas82GamesPerTeamBalancedHomeAndAwayAndNoTeamTwiceADay() {
    for output in Self.twoSeasons {
      let games = output.games
      #expect(games.count == 1230)
      var total = [Int](repeating: 0, count: 30), home = [Int](repeating: 0, count: 30)
      var seen = Set<String>()
      for g in games {
        total[g.home] += 1
        total[g.away] += 1
        home[g.home] += 1
        #expect(seen.insert("\(g.date) \(g.home)").inserted && seen.insert("\(g.date) \(g.away)").inserted)
      }
      #expect(total == [Int](repeating: 82, count: 30))
      #expect(home == [Int](repeating: 41, count: 30))
      #expect(games.map(\.date) == games.map(\.date).sorted())
    }
  }

  @Test func calendarHasAnAllStarBreakBackToBacksAndFourInFiveButNeverThreeNightsRunning() {
    let games = Self.twoSeasons[0].games
    let dates = Array(Set(games.map(\.date))).sorted()
    #expect(dates.first == CivilDate(year: 2015, month: 10, day: 20)!.date32)  // a Tuesday, Oct 16–22
    // All-Star Sunday 2016 was February 14: the break is Friday 12 to Wednesday 17.
    let breakDays = (12...17).map { CivilDate(year: 2016, month: 2, day: $0)!.date32 }
    #expect(breakDays.allSatisfy { !dates.contains($0) })
    #expect((150...175).contains(dates.count), "\(dates.count) game dates")
    var backToBacks = 0, fourInFive = 0
    for team in 0..<30 {
      let days = games.filter { $0.home == team || $0.away == team }.map { Int($0.date.daysSinceEpoch) }
      for i in 1..<days.count where days[i] - days[i - 1] == 1 {
        backToBacks += 1
        if i >= 2 { #expect(days[i] - days[i - 2] > 2, "team \(team) plays three nights running") }
      }
      for i in 3..<days.count where days[i] - days[i - 3] <= 4 { fourInFive += 1 }
    }
    // The real sample: 13.3 (2018-19) to 17.8 (2015-16) back-to-backs per team.
    #expect((10 * 30...20 * 30).contains(backToBacks), "\(backToBacks) back-to-backs")
    #expect(fourInFive > 0)
  }

  @Test func boxScoresSatisfyTheSourceInvariants() {
    for r in Self.twoSeasons.flatMap(\.records) {
      #expect(r.points == 2 * r.fgMakes + r.threeMakes + r.ftMakes)
      #expect(r.fgMakes <= r.fgAttempts && r.threeMakes <= r.threeAttempts && r.ftMakes <= r.ftAttempts)
      #expect(r.threeAttempts <= r.fgAttempts && r.threeMakes <= r.fgMakes)
      #expect((0...63).contains(r.minutes) && r.personalFouls <= 6)
      #expect(r.gameId.utf8.count == 10 && r.gameId.hasPrefix("002"))
    }
  }

  @Test func eachTeamGameHasTwoTeamsMinutesAddingUpAndOneWinner() {
    let records = Self.twoSeasons[0].records
    var byGame: [String: [PlayerLogRecord]] = [:]
    for r in records { byGame[r.gameId, default: []].append(r) }
    #expect(byGame.count == 1230)
    for (_, rows) in byGame {
      let teams = Dictionary(grouping: rows, by: \.teamAbbreviation)
      #expect(teams.count == 2)
      var points: [Int] = []
      for (_, teamRows) in teams {
        let minutes = teamRows.reduce(0) { $0 + $1.minutes }
        #expect(minutes >= 240 && (minutes - 240) % 25 == 0, "team minutes \(minutes)")
        #expect(teamRows.filter { $0.minutes > 0 }.count >= 8)
        points.append(teamRows.reduce(0) { $0 + $1.points })
        #expect(Set(teamRows.map(\.won)).count == 1)
      }
      #expect(points[0] != points[1])
    }
  }

  @Test func seasonSizeRostersDnpsInjuriesAndTradesLookLikeTheLeague() {
    for output in Self.twoSeasons {
      // Real full seasons hold 25,895 to 26,139 rows; DNP rows come on top.
      #expect((23_000...30_000).contains(output.records.count), "\(output.records.count) rows")
      #expect(output.openingRosterSizes.allSatisfy { (13...17).contains($0) })
      let zeroMinuteRows = output.records.filter { $0.minutes == 0 }.count
      #expect(output.dnpRows <= zeroMinuteRows)
      #expect(
        (0.01...0.06).contains(Double(output.dnpRows) / Double(output.records.count)), "\(output.dnpRows) DNP rows")
      #expect(output.injuredPlayerGames > 0)
      #expect(!output.tradedPlayerIds.isEmpty)
      // A traded player's rows show two teams in one season.
      let id = output.tradedPlayerIds.sorted()[0]
      let teams = Set(output.records.filter { $0.playerId == id }.map(\.teamAbbreviation))
      #expect(teams.count == 2, "player \(id) played for \(teams.sorted())")
      let scoring = output.records.filter { $0.minutes > 0 }
      let ppg = Double(scoring.reduce(0) { $0 + $1.points }) / Double(output.games.count * 2)
      // Real team scoring 2015–2023: 102 to 115 points per game.
      #expect((90.0...125.0).contains(ppg), "\(ppg) points per team game")
    }
  }
}
