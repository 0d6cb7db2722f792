// The gates' array-based indexes (date slots, per-date player stamps, value counts, season
// calendars) against plain Set/Dictionary/sort computations on seeded random tables: several
// seasons, repeated (date, player) keys, rows out of scope, and dates spread wide enough to
// take the distinct-date path.
import Columnar
import SQLiteSource
import Testing

@testable import Gates
import TestSupport

/// A random table's key columns: dates over three seasons, players with repeats.
struct RandomKeys {
  var dates: [Date32] = []
  var players: [Int32] = []
  var flags: [UInt8] = []

  init(rows: Int, players playerCount: Int, wide: Bool, active: Bool, rng: inout SeededRandom) {
    let opening = [Date32(iso: "2021-10-19")!, Date32(iso: "2022-10-18")!, Date32(iso: "2023-10-24")!]
    for _ in 0..<rows {
      var date = opening[rng.below(3)].adding(days: rng.below(170))
      if wide && rng.chance(2) { date = Date32(iso: rng.chance(50) ? "1901-01-01" : "2150-06-30")! }
      dates.append(date)
      // A small player pool on few dates: many rows repeat a (date, player) key.
      players.append(Int32(rng.below(playerCount)))
      var f: UInt8 = rng.chance(85) ? RowFlag.inScope : 0
      if active && rng.chance(70) { f |= RowFlag.active }
      flags.append(f)
    }
  }
}

@Suite struct IndexPropertyTests {
  @Test(arguments: [(1, false), (2, false), (3, true), (4, true), (5, false)])
  func dayPlayersMatchSetsPerDate(seed: Int, wide: Bool) throws {
    var rng = SeededRandom(state: UInt64(seed))
    let playerCount = 40 + rng.below(60)
    let pgs = RandomKeys(rows: 3000 + rng.below(3000), players: playerCount, wide: wide, active: true, rng: &rng)
    let pcf = RandomKeys(rows: 2000 + rng.below(3000), players: playerCount, wide: wide, active: false, rng: &rng)
    let space = DaySpace([pgs.dates, pcf.dates])
    #expect((space.distinct != nil) == wide)
    let pgsByDay = ByDay(pgs.dates, in: space)
    let pcfByDay = ByDay(pcf.dates, in: space)
    let index = DayPlayers(
      space: space, playerCount: playerCount, pgsByDay: pgsByDay, pgsPlayer: pgs.players, pgsFlags: pgs.flags,
      pcfByDay: pcfByDay, pcfPlayer: pcf.players, pcfFlags: pcf.flags)

    // The naive reference: a Set of players per date, a Dictionary of rows per key.
    var active: [Date32: Set<Int32>] = [:]
    var covered: [Date32: Set<Int32>] = [:]
    var pgsRows: [DatePlayer: [Int]] = [:]
    var pcfRows: [DatePlayer: [Int]] = [:]
    for i in pgs.dates.indices where pgs.flags[i] & RowFlag.inScope != 0 {
      if pgs.flags[i] & RowFlag.active != 0 { active[pgs.dates[i], default: []].insert(pgs.players[i]) }
      pgsRows[DatePlayer(date: pgs.dates[i].daysSinceEpoch, player: pgs.players[i]), default: []].append(i)
    }
    for i in pcf.dates.indices where pcf.flags[i] & RowFlag.inScope != 0 {
      covered[pcf.dates[i], default: []].insert(pcf.players[i])
      pcfRows[DatePlayer(date: pcf.dates[i].daysSinceEpoch, player: pcf.players[i]), default: []].append(i)
    }

    // Every date with a row has a slot, slots ascend, and each slot's rows are that date's
    // rows in row order.
    for d in Set(pgs.dates + pcf.dates) { #expect(space.date(at: try #require(space.slot(of: d))) == d) }
    #expect(space.slot(of: Date32(iso: "1850-01-01")!) == nil)
    var seenDates: [Date32] = []
    let pgsOnDate = Dictionary(grouping: pgs.dates.indices, by: { pgs.dates[$0] })
    let pcfOnDate = Dictionary(grouping: pcf.dates.indices, by: { pcf.dates[$0] })
    for s in 0..<space.count {
      let date = space.date(at: s)
      if let last = seenDates.last { #expect(last < date) }
      seenDates.append(date)
      #expect(pgsByDay.range(s).map { Int(pgsByDay.rows[$0]) } == pgsOnDate[date] ?? [])
      #expect(pcfByDay.range(s).map { Int(pcfByDay.rows[$0]) } == pcfOnDate[date] ?? [])
      let act = active[date] ?? []
      let pcfPlayers = covered[date] ?? []
      #expect(Int(index.activePlayers[s]) == act.count, "active players on \(date)")
      #expect(Int(index.pcfPlayers[s]) == pcfPlayers.count, "PCF players on \(date)")
      #expect(Int(index.activeWithPCF[s]) == act.intersection(pcfPlayers).count, "active with PCF on \(date)")
    }

    func groups(_ repeats: [(key: DatePlayer, rows: [Int])]) -> [String] {
      repeats.map { "\($0.key.date)/\($0.key.player): \($0.rows)" }.sorted()
    }
    func groups(_ rows: [DatePlayer: [Int]]) -> [String] {
      rows.filter { $0.value.count > 1 }.map { "\($0.key.date)/\($0.key.player): \($0.value)" }.sorted()
    }
    let expectedPGS = groups(pgsRows)
    let expectedPCF = groups(pcfRows)
    #expect(!expectedPGS.isEmpty && !expectedPCF.isEmpty, "the random tables must repeat keys to test anything")
    #expect(groups(index.pgsRepeats) == expectedPGS)
    #expect(groups(index.pcfRepeats) == expectedPCF)
  }

  /// Rows of unrequested seasons two centuries away push the date slots onto the distinct-date
  /// path; every gate and the coverage breakdown must read exactly as without them.
  @Test func strayRowsFarOutsideTheSeasonsChangeNothing() throws {
    let dates = ["2021-10-19", "2021-11-05", "2021-11-07", "2022-10-18", "2022-11-04", "2022-11-06"]
    let pcfDates: Set = ["2021-11-05", "2022-11-06", "1800-03-01", "2150-06-30"]
    let plain = handBuiltSource(dates: dates, pcfDates: pcfDates)
    var stray = handBuiltSource(dates: dates + ["1800-03-01", "2150-06-30"], pcfDates: pcfDates)
    stray.seasons = plain.seasons
    #expect(Context(source: plain, config: .defaults, window: .all).space.distinct == nil)
    #expect(Context(source: stray, config: .defaults, window: .all).space.distinct != nil)
    let report = GateRunner.run(source: plain)
    #expect(report.result(.pcfDateCoverage)?.status == .fail, "the comparison needs findings to compare")
    #expect(GateRunner.run(source: stray).json() == report.json())
    #expect(CoverageBreakdown.compute(source: stray) == CoverageBreakdown.compute(source: plain))
  }

  @Test func emptyTablesHaveNoSlots() {
    let space = DaySpace([[], []])
    #expect(space.count == 0)
    let index = DayPlayers(
      space: space, playerCount: 0, pgsByDay: ByDay([], in: space), pgsPlayer: [], pgsFlags: [],
      pcfByDay: ByDay([], in: space), pcfPlayer: [], pcfFlags: [])
    #expect(index.activePlayers.isEmpty && index.pgsRepeats.isEmpty && index.pcfRepeats.isEmpty)
  }

  /// The sort-and-count-runs computation the gate used before ValueCounts.
  static func dominantBySorting(_ values: [Double]) -> (key: Double, count: Int, distinct: Int) {
    let sorted = values.map { $0 == 0 ? 0 : $0 }.sorted()
    var best = (key: sorted[0], count: 0)
    var distinct = 0
    var start = 0
    while start < sorted.count {
      var end = start + 1
      while end < sorted.count && sorted[end] == sorted[start] { end += 1 }
      distinct += 1
      if end - start > best.count { best = (sorted[start], end - start) }
      start = end
    }
    return (best.key, best.count, distinct)
  }

  @Test(arguments: 1...8)
  func valueCountsMatchSorting(seed: Int) {
    var rng = SeededRandom(state: UInt64(1000 + seed))
    // Pools from one value to thousands, with ties, −0.0 and infinities.
    let poolSize = [1, 2, 3, 17, 400, 3000][seed % 6]
    let specials: [Double] = [0, -0.0, .infinity, -.infinity, 1e-300, -2.5]
    let pool = (0..<poolSize).map { k -> Double in
      k < specials.count && rng.chance(50) ? specials[k] : Double(rng.below(2000) - 1000) / 8
    }
    let values = (0..<(1 + rng.below(6000))).map { _ in pool[rng.below(pool.count)] }
    let got = Context.dominantValue(values)
    let want = Self.dominantBySorting(values)
    #expect(got.top.key == want.key && got.top.value == want.count && got.distinct == want.distinct)
    // Reused across calls as the gate reuses it per factor and season.
    var table = ValueCounts()
    for round in 0..<3 {
      let part = Array(values.prefix(values.count / (round + 1)))
      table.reset()
      part.map { $0 == 0 ? 0 : $0 }.withUnsafeBufferPointer { table.add(contentsOf: $0) }
      let r = table.result()
      let w = Self.dominantBySorting(part)
      #expect(r.top.key == w.key && r.top.value == w.count && r.distinct == w.distinct, "round \(round)")
    }
  }

  @Test func valueCountsTieGoesToTheSmallest() {
    let got = Context.dominantValue([3, 1, 2, 3, 1, 2, -0.0, 0])
    #expect(got.top.key == 0 && got.top.value == 2 && got.distinct == 4)
  }

  @Test(arguments: [(11, false), (12, true), (13, false)])
  func seasonCalendarsMatchSetsPerSeason(seed: Int, wide: Bool) {
    var rng = SeededRandom(state: UInt64(seed))
    var pgs = PlayerGameSummary()
    var naive: [Int: Set<Date32>] = [:]
    for i in 0..<5000 {
      let season = 2020 + rng.below(3)
      var date = Date32(iso: "\(season)-10-20")!.adding(days: rng.below(180))
      if wide && rng.chance(1) { date = Date32(iso: "1905-03-01")! }
      // A few rows filed under a neighbouring season: a day with rows of two seasons.
      let filed = rng.chance(3) ? season + 1 : season
      let nullSeason = rng.chance(2)
      let nullDate = rng.chance(2)
      pgs.rowid.append(Int64(i + 1))
      pgs.seasonYear.append(nullSeason ? nil : Int32(filed))
      pgs.gameDate.append(nullDate ? nil : date)
      if !nullSeason && !nullDate { naive[filed, default: []].insert(date) }
    }
    let source = SourceData(
      path: "random", seasons: [2020, 2021, 2022, 2023], pgs: pgs, pcf: PlayerCompositeFactors(), schedule: nil)
    let calendars = SeasonCalendar.calendars(for: source)
    for season in source.seasons {
      #expect(calendars[season]?.gameDates == (naive[season] ?? []).sorted(), "season \(season)")
      #expect(calendars[season]?.dateSource == .pgs)
    }
  }
}
