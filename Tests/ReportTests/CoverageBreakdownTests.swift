import Columnar
import Gates
import SQLiteSource
import Testing

/// A season from 2022-10-18 (opening night) with games every other day to 2022-12-20;
/// players a, b, c; one expected date without PCF, one with PCF for a third of the players,
/// and usage_rate NULL for player b in November.
func fixtureSeason() -> SourceData {
  var pgs: [PGSRow] = []
  var pcf: [(player: String, date: String)] = []
  var date = day("2022-10-18")
  while date <= day("2022-12-20") {
    let iso = date.description
    for player in ["a", "b", "c"] {
      let november = iso.hasPrefix("2022-11")
      pgs.append(PGSRow(player: player, date: iso, minutes: 20, usage: (november && player == "b") ? nil : 18.5))
      let skip = iso == "2022-11-15" || (iso == "2022-11-21" && player != "a")
      if !skip && date.days(since: day("2022-10-18")) >= 14 { pcf.append((player, iso)) }
    }
    // An inactive row on every date: it must count in no denominator.
    pgs.append(PGSRow(player: "d", date: iso, minutes: 0, usage: nil, dnp: true))
    date = date.adding(days: 2)
  }
  // A duplicated PCF key must not count player a twice.
  pcf.append(("a", "2022-12-01"))
  return makeSource(pgs: pgs, pcf: pcf)
}

@Suite struct CoverageBreakdownTests {
  @Test func daysFollowTheNaiveRuleForEveryCalendarDay() throws {
    let source = fixtureSeason()
    let breakdown = try #require(CoverageBreakdown.compute(source: source).first)
    // Whole months October to December: 31 + 30 + 31 days.
    #expect(breakdown.days.count == 92)
    #expect(breakdown.days.first?.date == day("2022-10-01"))
    #expect(breakdown.days.last?.date == day("2022-12-31"))

    // Naive reference: scan the rows for every calendar day.
    let opening = day("2022-10-18")
    for cell in breakdown.days {
      let gameDay = (0..<source.pgs.count).contains { source.pgs.gameDate[$0] == cell.date }
      let active = Set(
        (0..<source.pgs.count).filter { source.pgs.gameDate[$0] == cell.date && source.pgs.isActive($0) }
          .map { source.pgs.playerLookup.string(at: $0) })
      let pcfPlayers = Set(
        (0..<source.pcf.count).filter { source.pcf.gameDate[$0] == cell.date }
          .map { source.pcf.playerLookup.string(at: $0) })
      let offset = cell.date.days(since: opening)
      let expectedKind: CoverageBreakdown.DayKind =
        !gameDay ? .noGames : (offset < 14 ? .bootstrap : (pcfPlayers.isEmpty ? .missing : .covered))
      #expect(cell.kind == expectedKind, "\(cell.date)")
      #expect(cell.activePlayers == active.count, "\(cell.date)")
      #expect(cell.pcfPlayers == pcfPlayers.count, "\(cell.date)")
      #expect(cell.activeWithPCF == active.intersection(pcfPlayers).count, "\(cell.date)")
      #expect(cell.seasonDay == (offset >= 0 ? offset : nil), "\(cell.date)")
    }
    #expect(breakdown.missingDates == [day("2022-11-15")])
    let partial = try #require(breakdown.days.first { $0.date == day("2022-11-21") })
    #expect(partial.kind == .covered && partial.pcfPlayers == 1 && partial.activePlayers == 3)
    #expect(partial.activeWithPCF == 1)
    let duplicated = try #require(breakdown.days.first { $0.date == day("2022-12-01") })
    #expect(duplicated.pcfPlayers == 3)
  }

  @Test func monthsCountActiveRowsOnly() throws {
    let breakdown = try #require(CoverageBreakdown.compute(source: fixtureSeason()).first)
    #expect(breakdown.months.map(\.label) == ["2022-10", "2022-11", "2022-12"])
    // October 18…30 every other day: 7 dates; November 1…29: 15; December 1…19: 10.
    #expect(breakdown.months.map(\.activeRows) == [21, 45, 30])
    #expect(breakdown.months.map(\.usageRateRows) == [21, 30, 30])
    #expect(breakdown.months[1].sourceFieldRows == [Int](repeating: 45, count: 10))
    #expect(breakdown.expectedDates == 32 - 7)
    #expect(breakdown.coveredDates == 24)
  }

  @Test func weakestSourceFieldNamesTheFieldWithFewestValues() {
    let month = CoverageBreakdown.Month(
      year: 2023, month: 1, activeRows: 10, playedRows: 12, usageRateRows: 10,
      sourceFieldRows: [8, 9, 10, 7, 7, 10, 10, 10, 10, 10])
    // minutes_played 8 of 12 played rows (66.7 %) is weaker than ft_attempts 7 of 10 (70 %).
    #expect(month.weakestSourceField?.name == "minutes_played")
    #expect(month.weakestSourceField?.rows == 8 && month.weakestSourceField?.of == 12)
    let tie = CoverageBreakdown.Month(
      year: 2023, month: 2, activeRows: 10, playedRows: 10, usageRateRows: 10,
      sourceFieldRows: [10, 9, 10, 7, 7, 10, 10, 10, 10, 7])
    // On a tie the first field in spec order is named.
    #expect(tie.weakestSourceField?.name == "ft_attempts")
    let empty = CoverageBreakdown.Month(
      year: 2023, month: 3, activeRows: 0, playedRows: 0, usageRateRows: 0,
      sourceFieldRows: [Int](repeating: 0, count: 10))
    #expect(empty.weakestSourceField == nil)
    #expect(month.label == "2023-01")
  }

  @Test func seasonWithoutGamesHasNoDays() throws {
    let source = makeSource(
      pgs: [PGSRow(player: "a", date: "2022-11-01", minutes: 10, usage: 20)], pcf: [], seasons: [2022, 2023])
    let breakdowns = CoverageBreakdown.compute(source: source)
    #expect(breakdowns.map(\.season) == [2022, 2023])
    #expect(breakdowns[1].days.isEmpty && breakdowns[1].months.isEmpty)
    // Opening night itself is bootstrap day 0.
    #expect(breakdowns[0].days.first { $0.date == day("2022-11-01") }?.kind == .bootstrap)
  }
}

/// The page draws `CoverageBreakdown`; the gate table shows `GateRunner`'s report. They are
/// two walks over the same rows, so this pins them to the same numbers.
@Suite struct BreakdownMatchesGatesTests {
  @Test func dayAndMonthFiguresAreTheGateFigures() throws {
    let source = fixtureSeason()
    let breakdown = try #require(CoverageBreakdown.compute(source: source).first)
    let report = GateRunner.run(source: source)

    let dates = try #require(report.result(.pcfDateCoverage))
    #expect(dates.figure.hasPrefix("PCF covers \(breakdown.coveredDates) of \(breakdown.expectedDates) expected dates"))
    #expect(dates.evidence == breakdown.missingDates.map(\.description))

    let players = try #require(report.result(.pcfPlayerCoverage))
    // A date without any PCF row counts at 0 % (gates.md: warn on any date below 90 %).
    let low = breakdown.days.filter {
      ($0.kind == .covered || $0.kind == .missing) && $0.activePlayers > 0
        && $0.activeWithPCF * 10 < 9 * $0.activePlayers
    }.sorted { ($0.activeWithPCF * $1.activePlayers, $0.date) < ($1.activeWithPCF * $0.activePlayers, $1.date) }
    #expect(low.contains { $0.kind == .missing })
    #expect(
      players.evidence
        == low.map {
          "\($0.date): \($0.activeWithPCF) of \($0.activePlayers) active players have a PCF row (\(Self.pct($0.activeWithPCF, $0.activePlayers)))"
        })

    let usage = try #require(report.result(.usageRateCoverage))
    let lowMonths = breakdown.months.filter { $0.usageRateRows * 100 < 95 * $0.activeRows }
    #expect(!lowMonths.isEmpty)
    for m in lowMonths {
      #expect(
        usage.evidence.contains(
          "\(m.label): usage_rate on \(m.usageRateRows) of \(m.activeRows) active rows (\(Self.pct(m.usageRateRows, m.activeRows)))"
        ))
    }
    #expect(
      usage.figure.hasPrefix(
        "usage_rate on \(Self.pct(breakdown.usageRateRows, breakdown.activeRows)) of \(breakdown.activeRows) active rows"
      ))
  }

  @Test func aWindowLeavesTheSameDatesOutOfBoth() throws {
    let source = fixtureSeason()
    let start = day("2022-11-10"), end = day("2022-12-05")
    let breakdown = try #require(CoverageBreakdown.compute(source: source, start: start, end: end).first)
    let report = GateRunner.run(source: source, window: GateWindow(start: start, end: end))
    let dates = try #require(report.result(.pcfDateCoverage))
    #expect(dates.figure.hasPrefix("PCF covers \(breakdown.coveredDates) of \(breakdown.expectedDates) expected dates"))
    #expect(breakdown.expectedDates == 13)
    #expect(breakdown.days.first { $0.date == day("2022-11-09") }?.kind == .outsideWindow)
    #expect(breakdown.months.map(\.activeRows) == [30, 9])
  }

  /// One decimal, rounded down, as the gates print it.
  static func pct(_ part: Int, _ whole: Int) -> String {
    let tenths = part * 1000 / whole
    return "\(tenths / 10).\(tenths % 10) %"
  }
}
