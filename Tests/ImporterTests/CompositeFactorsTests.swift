import Columnar
import Foundation
import Testing

@testable import Importer

/// AAA hosts BBB on every date. AAA possessions per game 80 + 0.44·25 + 12 − 10 = 93, BBB
/// 90 + 0.44·20 + 10 − 10 = 98.8, both over 240 player-minutes, so pace = possessions and
/// AAA's pace_score is (93 − 98.8) / 2 = −2.9 on every date with history.
func scheduleGame(day: Int, extra: [String] = []) -> [String] {
  let date = CivilDate(Date32(iso: "2022-10-18")!.adding(days: day)).description
  let game = String(format: "%010d", 100 + day)
  func line(_ id: Int, _ name: String, _ team: String, _ min: String, fga: Int, fta: Int, tov: Int, oreb: Int) -> String
  {
    logLine(
      id: id, name: name, team: team, game: game, date: date, matchup: team == "AAA" ? "AAA vs. BBB" : "BBB @ AAA",
      min: min, fga: fga, fta: fta, oreb: oreb, tov: tov)
  }
  let newGuy = extra.contains("new")
  return [
    line(1, "Pat Focus", "AAA", "30", fga: 20, fta: 5, tov: 2, oreb: 1),
    line(2, "Tim Mate", "AAA", newGuy ? "200" : "210", fga: 60, fta: 20, tov: 10, oreb: 9),
    line(3, "Opp One", "BBB", "120", fga: 50, fta: 10, tov: 5, oreb: 5),
    line(4, "Opp Two", "BBB", "120", fga: 40, fta: 10, tov: 5, oreb: 5),
  ] + (newGuy ? [line(5, "New Guy", "AAA", "10", fga: 0, fta: 0, tov: 0, oreb: 0)] : [])
    + (extra.contains("dnp") ? [line(6, "Zed Zero", "AAA", "0", fga: 0, fta: 0, tov: 0, oreb: 0)] : [])
}

@Suite struct CompositeFactorsTests {
  @Test func handMadeScheduleGivesTheDocumentedFactors() throws {
    let s = Scratch()
    defer { s.remove() }
    // Opening night 2022-10-18 (day 0); days 0–13 are bootstrap days. Pat plays days 0, 13, 14,
    // 15, 16, 17 (five nights in a row), rests, and plays day 21.
    var lines = [logHeader]
    for day in [0, 13, 14, 16, 17] { lines += scheduleGame(day: day) }
    lines += scheduleGame(day: 15, extra: ["dnp"])
    lines += scheduleGame(day: 21, extra: ["new"])
    let db = s.path("l.sqlite")
    let summary = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [
      s.write("sched.csv", lines.joined(separator: "\n") + "\n")
    ])
    let pat = try query(
      db,
      "SELECT game_date, game_id, fatigue_score, shot_zone_mismatch_score, calculation_version, processed_at FROM player_composite_factors WHERE player_lookup = 'patfocus' ORDER BY game_date"
    )
    #expect(
      pat == [
        // back-to-back −15; the day-0 game is 14 days back and no second night
        "2022-11-01|0000000114|85|NULL|boxscore_v1|2024-01-01T00:00:00Z",
        // −15, one back-to-back (day 14) in the 14 days before −5
        "2022-11-02|0000000115|80|NULL|boxscore_v1|2024-01-01T00:00:00Z",
        // −15, two back-to-backs −12
        "2022-11-03|0000000116|73|NULL|boxscore_v1|2024-01-01T00:00:00Z",
        // 4 in 5 nights: −15, 4 games in D−7…D−1 −10, back-to-backs −12
        "2022-11-04|0000000117|63|NULL|boxscore_v1|2024-01-01T00:00:00Z",
        // four days of rest +5, still 4 games in D−7…D−1 −10 and 4 back-to-backs −12
        "2022-11-08|0000000121|83|NULL|boxscore_v1|2024-01-01T00:00:00Z",
      ])
    let paces = try query(
      db,
      "SELECT player_lookup, pace_score, usage_spike_score, total_composite_adjustment, fatigue_score FROM player_composite_factors ORDER BY game_date, player_lookup"
    )
    for row in paces {
      let c = row.split(separator: "|").map(String.init)
      let expectedPace = c[0] == "oppone" || c[0] == "opptwo" ? 2.9 : -2.9
      #expect(abs(Double(c[1])! - expectedPace) < 1e-9, "\(row)")
      if c[0] == "newguy" {
        #expect(c[2] == "NULL", "no history → usage_spike NULL")
        #expect(c[4] == "100")
        #expect(abs(Double(c[3])! - expectedPace) < 1e-9)
      } else {
        // Every player's usage is the same each night: season mean = last-7 mean.
        #expect(abs(Double(c[2])!) < 1e-9, "\(row)")
        #expect(abs(Double(c[3])! - ((Double(c[4])! - 100) / 20 + expectedPace + Double(c[2])!)) < 1e-12)
      }
    }
    // 4 players on each of 5 dates, New Guy once; the DNP row and the bootstrap days give none.
    #expect(paces.count == 21)
    #expect(summary.pcfInserted == 21)
    #expect(
      try query(
        db, "SELECT COUNT(*) FROM player_composite_factors WHERE player_lookup = 'zedzero' OR game_date < '2022-11-01'")
        == ["0"])
  }

  func history(usages: [Double?], every days: Int) -> HistoryRows {
    var h = HistoryRows()
    let opening = Date32(iso: "2022-10-18")!
    for (k, u) in usages.enumerated() {
      h.playerLookup.append("p")
      h.gameID.append("g\(k)")
      h.date.append(opening.adding(days: k * days))
      h.season.append(2022)
      h.team.append("AAA")
      h.opponent.append("BBB")
      h.minutes.append(30)
      h.isDNP.append(0)
      h.usage.append(u)
      h.possessions.append(0)
    }
    return h
  }

  @Test func usageSpikeComparesSeasonMeanWithTheLastSevenGames() {
    // Ten games two days apart; the 10th (day 18) has 9 games of history: two at 30, then
    // seven at 10. Season mean 130/9, last-7 mean 10 → 0.3 · (130/9 − 10) = 1.3333…
    let h = history(usages: [30, 30, 10, 10, 10, 10, 10, 10, 10, 20], every: 2)
    let rows = h.compositeFactors(season: 2022)
    #expect(rows.map(\.gameDate) == ["2022-11-01", "2022-11-03", "2022-11-05"])
    let last = rows.last!
    #expect(abs(last.usageSpike! - 0.3 * (130.0 / 9 - 10)) < 1e-12)
  }

  @Test func usageSpikeSkipsNullUsageAndClampsToThree() {
    // NULL usage games are not among the last seven: the window reaches back past them.
    let h = history(usages: [80, 80, 80, 5, nil, 5, 5, 5, 5, 5, nil, 5], every: 2)
    let rows = h.compositeFactors(season: 2022)
    let byDate = Dictionary(uniqueKeysWithValues: rows.map { ($0.gameDate, $0) })
    // 2022-11-09 (day 22, 12th game): history 80·3 + 5·7 → mean 275/10 = 27.5, last 7 mean 5 → 6.75 → 3.
    #expect(byDate["2022-11-09"]!.usageSpike == 3)
    // 2022-11-01 (day 14, 8th game): history 80,80,80,5,NULL,5,5 → mean 255/6, last 7 non-NULL = all 6.
    #expect(abs(byDate["2022-11-01"]!.usageSpike!) < 1e-12)
  }

  @Test func allNullUsageHistoryGivesNullSpike() {
    let h = history(usages: [nil, nil, nil, nil, nil, nil, nil, nil, nil], every: 2)
    // Days 14 and 16 are past bootstrap; both have 7–8 games of history, all NULL usage.
    #expect(h.compositeFactors(season: 2022).map(\.usageSpike) == [nil, nil])
  }
}
