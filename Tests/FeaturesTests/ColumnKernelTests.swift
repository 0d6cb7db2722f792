import Columnar
import Foundation
import SQLiteSource
import Testing

@testable import Features

/// Windows longer than any history the generator makes, beside short ones, over an integer,
/// a float and a derived source, every aggregate. (A 1-day window takes min_periods 1: a spec
/// asking 2 games of 1 day is refused, as valid data holds one game a player a day.)
let longWindowSpec: FeatureSetSpec = {
  var columns: [String] = [
    #"{"name": "game_date", "kind": "key", "source": "game_date", "type": "date32", "nullable": false}"#,
    #"{"name": "player_lookup", "kind": "key", "source": "player_lookup", "type": "utf8", "nullable": false}"#,
  ]
  let windows = [
    #"{"kind": "last_games", "n": 2}"#, #"{"kind": "last_games", "n": 60}"#, #"{"kind": "last_days", "n": 1}"#,
    #"{"kind": "last_days", "n": 200}"#,
  ]
  for (wi, w) in windows.enumerated() {
    for source in ["assists", "minutes_played", "rebounds"] {
      for agg in ["mean", "std", "sum", "count", "slope", "last"] {
        let type = agg == "count" ? "int32" : "float64"
        columns.append(
          #"{"name": "\#(source)_\#(agg)_w\#(wi)", "kind": "window", "source": "\#(source)", "window": \#(w), "aggregate": "\#(agg)", "min_periods": \#(agg == "std" || agg == "slope" ? (wi == 2 ? 1 : 2) : 0), "type": "\#(type)"}"#
        )
      }
    }
    columns.append(
      #"{"name": "games_w\#(wi)", "kind": "window", "window": \#(w), "aggregate": "count", "min_periods": 0, "type": "int32"}"#
    )
  }
  columns.append(#"{"name": "days_rest", "kind": "schedule", "measure": "days_rest", "type": "int32"}"#)
  columns.append(#"{"name": "back_to_back", "kind": "schedule", "measure": "back_to_back", "type": "bool"}"#)
  let text =
    #"{"name": "long_windows", "version": 1, "derived_sources": [{"name": "rebounds", "op": "sum", "of": ["offensive_rebounds", "defensive_rebounds"]}], "columns": [\#(columns.joined(separator: ",\n"))]}"#
  return try! FeatureSetSpec.parse(bytes: Array(text.utf8))
}()

/// League data built to stress the column kernels: runs of NULLs in every stat (so a window
/// can hold no value at all), DNPs and 0-minute games inside histories, players with one game,
/// games on consecutive days and two rows of one player on one date, minutes with fractions
/// (a lane that is not exact) and integer stats (exact lanes).
func awkwardSource(seed: UInt64, seasons: [Int] = [2020, 2021]) -> SourceData {
  var rng = SplitMix64(seed: seed)
  func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) / 10_000 < p }
  func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
  var rows: [GameRow] = []
  for season in seasons {
    let opening = CivilDate(year: season, month: 10, day: 18)!.date32
    for p in 0..<10 {
      let games = p % 4 == 1 ? 1 : int(0...45)
      var day = int(0...3)
      // Remaining length of the current NULL run, per stat.
      var nullRun = [Int](repeating: 0, count: 4)
      func stat(_ s: Int, _ r: ClosedRange<Int>) -> Int32? {
        if nullRun[s] == 0, chance(0.12) { nullRun[s] = int(1...8) }
        if nullRun[s] > 0 {
          nullRun[s] -= 1
          return nil
        }
        return Int32(int(r))
      }
      for _ in 0..<games {
        day += chance(0.1) ? 0 : (chance(0.4) ? 1 : int(2...9))
        let date = CivilDate(opening.adding(days: day)).description
        var r = GameRow(player: "p\(p)", date: date, season: Int32(season))
        r.isDnp = chance(0.06)
        r.minutes = stat(0, 0...1) == nil ? nil : (chance(0.05) ? 0 : Double(int(1...4800)) / 100)
        r.assists = stat(1, 0...15)
        r.oreb = stat(2, 0...7)
        r.dreb = stat(3, 0...12)
        rows.append(r)
      }
    }
  }
  for i in stride(from: rows.count - 1, to: 0, by: -1) { rows.swapAt(i, int(0...i)) }
  return makeSource(rows, seasons: seasons)
}

/// Every cell of every season, as text that tells float bit patterns apart.
func cellsBySeason(_ out: [SeasonFeatures]) -> [[[String]]] { out.map { cells($0.table) } }

@Suite struct ColumnKernelTests {
  /// Property test: the column kernels against the scalar row kernel and the naive reference,
  /// bit for bit, on seeded awkward histories and on windows longer than any history.
  @Test(arguments: Array(UInt64(1)...UInt64(4)))
  func columnKernelsEqualScalarKernelOnAwkwardHistories(seed: UInt64) throws {
    let source = awkwardSource(seed: seed)
    for spec in [longWindowSpec, everyAggregateSpec] {
      let options = FeatureOptions(includeBootstrap: true)
      let columns = try FeatureEngine(spec: spec, kernel: .columns).compute(source: source, options: options)
      let scalar = try FeatureEngine(spec: spec, kernel: .scalar).compute(source: source, options: options)
      #expect(columns.map(\.sourceRows) == scalar.map(\.sourceRows))
      #expect(cellsBySeason(columns) == cellsBySeason(scalar), "spec \(spec.name), seed \(seed)")
      #expect(columns.reduce(0) { $0 + $1.table.rowCount } > 0)
      for s in columns { for c in s.table.columns { c.checkInvariants() } }
      try expectMatchesReference(spec, source, kernel: .columns, options: options)
    }
  }

  /// Integer stats make exact lanes (sums as differences of running sums); fractional minutes
  /// do not. Integers so large that a running sum rounds must not count as exact either: there
  /// the difference of running sums would lose the small games next to a huge one.
  @Test func exactLanesAreDecidedFromTheValues() throws {
    var games: [GameRow] = [GameRow(player: "opener", date: "2022-10-18", season: 2022)]
    // usage_rate: 1e17, then ones. A window of the last 3 ones sums to 3; 1e17 + 1 + 1 + 1
    // rounds back to 1e17, so S[hi] − S[lo] would give 0.
    let usage: [Double] = [1e17, 1, 1, 1, 1]
    for (k, u) in usage.enumerated() {
      var g = GameRow(
        player: "big", date: CivilDate(Date32(iso: "2022-11-01")!.adding(days: 2 * k)).description, season: 2022)
      g.usage = u
      g.minutes = 30.25
      games.append(g)
    }
    let spec = try FeatureSetSpec.parse(
      bytes: Array(
        #"""
        {"name": "t", "version": 1, "columns": [
          {"name": "player_lookup", "kind": "key", "source": "player_lookup", "type": "utf8", "nullable": false},
          {"name": "usage_sum_last_3", "kind": "window", "source": "usage_rate", "window": {"kind": "last_games", "n": 3}, "aggregate": "sum", "min_periods": 3, "type": "float64"},
          {"name": "minutes_avg_last_3", "kind": "window", "source": "minutes_played", "window": {"kind": "last_games", "n": 3}, "aggregate": "mean", "min_periods": 3, "type": "float64"},
          {"name": "points_avg_last_3", "kind": "window", "source": "points", "window": {"kind": "last_games", "n": 3}, "aggregate": "mean", "min_periods": 3, "type": "float64"}
        ]}
        """#.utf8))
    let source = makeSource(games)
    let engine = FeatureEngine(spec: spec)
    let run = engine.start(source: source, options: FeatureOptions(includeBootstrap: true))
    let plan = run.plans[0]
    var lane = LaneColumn(rows: plan.batch.rows.count)
    defer { lane.deallocate() }
    let laneNames = engine.plan.lanes.map { engine.plan.sources[$0] }
    #expect(laneNames == ["usage_rate", "minutes_played", "points"])
    let exact = laneNames.indices.map { l in
      lane.fill(lane: l, plan.batch, prepared: run.prepared)
      return lane.exact
    }
    // 30.25 is not an integer; 1e17 + 4 ones is beyond 2^52; points (10 each) are exact.
    #expect(exact == [false, false, true])
    let t = try engine.compute(season: 0, of: run).table
    let big = (0..<t.rowCount).filter { PointInTimeCheck.cellText(t.column(named: "player_lookup")!, $0) == "\"big\"" }
    #expect(big.map { t.column(named: "usage_sum_last_3")!.numericValue(at: $0) } == [nil, nil, nil, 1e17 + 1 + 1, 3])
    try expectMatchesReference(spec, source, kernel: .columns, options: FeatureOptions(includeBootstrap: true))
  }

  /// `compute(season:of:)` on two threads at once, over one shared run, gives what it gives
  /// one season after another.
  @Test func seasonsComputedConcurrentlyEqualSequential() async throws {
    let spec = try FeatureSetSpec.load(path: specPath("props_v1"))
    let source = randomSource(seed: 77, seasons: [2019, 2020, 2021, 2022], players: 12)
    let engine = FeatureEngine(spec: spec)
    let run = engine.start(source: source)
    let sequential = try run.seasons.indices.map { try engine.compute(season: $0, of: run) }
    #expect(sequential.allSatisfy { $0.table.rowCount > 0 })
    for (a, b) in [(0, 1), (3, 2), (1, 1)] {
      let first = Task.detached { try engine.compute(season: a, of: run) }
      let second = Task.detached { try engine.compute(season: b, of: run) }
      let (x, y) = (try await first.value, try await second.value)
      #expect(x.sourceRows == sequential[a].sourceRows && cells(x.table) == cells(sequential[a].table))
      #expect(y.sourceRows == sequential[b].sourceRows && cells(y.table) == cells(sequential[b].table))
    }
  }
}
