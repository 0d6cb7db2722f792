import Columnar
import Foundation
import Testing

@testable import Snapshots

@Suite struct DiffStatsTests {
  @Test func statsMatchHandFigures() {
    let s = ColumnStats.compute([.float64(Column(optionals: [1, 2, nil, 3, 4, .infinity]))])
    #expect(s.nullCount == 1)
    #expect(s.nonFiniteCount == 1)
    #expect(s.min == 1)
    #expect(s.max == 4)
    #expect(s.mean == 2.5)
    #expect(s.std == (1.25).squareRoot())  // population: ((1.5²+0.5²)·2)/4
    // Span 3 over at most 64 bins: width 2^-4 = 1/16 (2^-5 would need 97 bins). Bin j holds
    // [j/16, (j+1)/16): 1 → 16, 2 → 32, 3 → 48, 4 → 64, so bins 16…64.
    var counts = [Int](repeating: 0, count: 49)
    counts[0] = 1
    counts[16] = 1
    counts[32] = 1
    counts[48] = 1
    #expect(s.histogram == .init(widthLog2: -4, firstBin: 16, counts: counts))

    let text = ColumnStats.compute([.utf8(StringColumn(["a", nil, "b", "a"]))])
    #expect(
      text
        == ColumnStats(
          nullCount: 1, nonFiniteCount: 0, min: nil, max: nil, mean: nil, std: nil, distinctCount: 2, histogram: nil))
    let constant = ColumnStats.compute([.int32(Column([5, 5, 5]))])
    #expect(constant.histogram == .init(widthLog2: 0, firstBin: 5, counts: [3]))
    let negative = ColumnStats.compute([.float64(Column([-1.5, 0.25]))])
    // Span 1.75 → width 2^-5: -1.5·32 = -48, 0.25·32 = 8.
    #expect(negative.histogram?.widthLog2 == -5)
    #expect(negative.histogram?.firstBin == -48)
    #expect(negative.histogram?.counts.count == 57)
    #expect(constant.std == 0)
  }

  @Test func psiMatchesHandComputation() throws {
    // (0.25−0.5)·ln(0.25/0.5) + (0.75−0.5)·ln(0.75/0.5)
    let expected = (0.25 - 0.5) * log(0.5) + (0.75 - 0.5) * log(1.5)
    let psi = try #require(Differ.psi([50, 50], [25, 75]))
    #expect(abs(psi - expected) < 1e-12)
    #expect(abs(psi - 0.2746530721670274) < 1e-12)
    // An empty bin takes the floor share 1e-4.
    let floored = (0.5 - 1) * log(0.5 / 1) + (0.5 - 1e-4) * log(0.5 / 1e-4)
    #expect(abs(try #require(Differ.psi([100, 0], [50, 50])) - floored) < 1e-12)
    #expect(Differ.psi([0, 0], [1, 1]) == nil)
  }

  /// Regression: with bins of 1/100 of each snapshot's own range re-binned at their
  /// midpoints, games_last_7_days (0…4 in 2021-22, 0…5 in 2022-23) showed PSI 2.9 for a mean
  /// shift of 0.015 sd, because the top integer fell on opposite sides of a common edge.
  @Test func discreteColumnWithWiderRangeIsNotFalseDrift() throws {
    let a = ColumnStats.compute([.int32(Column([Int32](repeating: 0, count: 10) + [1, 1, 2, 2, 3, 3, 3, 3]))])
    let b = ColumnStats.compute([.int32(Column([Int32](repeating: 0, count: 10) + [1, 1, 2, 2, 3, 3, 3, 5]))])
    let ha = try #require(a.histogram), hb = try #require(b.histogram)
    // a spans 0…3: width 2^-4 (49 bins); b spans 0…5: width 2^-3 (41 bins).
    #expect(ha.widthLog2 == -4)
    #expect(hb.widthLog2 == -3)
    let (ca, cb) = Differ.commonGrid(ha, hb)
    // Common grid: width 2^-2 (2^-3 would need 41 bins), integers at every 4th bin.
    var expectA = [Int](repeating: 0, count: 21), expectB = expectA
    for (v, n) in [(0, 10), (1, 2), (2, 2), (3, 4)] { expectA[v * 4] = n }
    for (v, n) in [(0, 10), (1, 2), (2, 2), (3, 3), (5, 1)] { expectB[v * 4] = n }
    #expect(ca == expectA)
    #expect(cb == expectB)
    // One value of 18 moved from 3 to 5: PSI from the two changed bins only.
    let pa4 = 4.0 / 18, pb4 = 3.0 / 18, pa5 = 1e-4, pb5 = 1.0 / 18
    let expected = (pb4 - pa4) * log(pb4 / pa4) + (pb5 - pa5) * log(pb5 / pa5)
    #expect(abs(try #require(Differ.psi(ca, cb)) - expected) < 1e-12)
  }

  @Test func histogramsOfDisjointRangesMergeExactly() {
    // Dates of two seasons: no overlap, so every value is in a bin the other side lacks.
    let a = ColumnStats.Histogram(widthLog2: 2, firstBin: 4733, counts: [5, 0, 5])
    let b = ColumnStats.Histogram(widthLog2: 3, firstBin: 2383, counts: [4, 6])
    let (ca, cb) = Differ.commonGrid(a, b)
    // Width 2^3: a's bins 4733, 4735 → 2366, 2367; b's 2383, 2384. Span 2366…2384 = 19 bins.
    var ea = [Int](repeating: 0, count: 19), eb = ea
    ea[0] = 5
    ea[1] = 5
    eb[17] = 4
    eb[18] = 6
    #expect(ca == ea)
    #expect(cb == eb)
  }

  func manifest(_ root: String, _ table: Table) throws -> Manifest {
    try Fixture.builder(root: root).build(Fixture.inputs(seasons: [("2022-23", table)])).manifest
  }

  @Test func snapshotDiffedWithItselfHasNoDrift() throws {
    let m = try manifest(Fixture.scratch(), Fixture.table(rows: 500, seed: 4))
    let report = Differ().diff(m, m, nameA: "props/v1", nameB: "props/v1")
    #expect(report.noDrift)
    #expect(report.columns.map(\.name) == ["player_lookup", "game_date", "points", "minutes_avg"])
    for c in report.columns {
      #expect(c.flags == [])
      #expect(c.nullShareChangePoints == 0)
      #expect(c.meanShiftSD == (c.name == "player_lookup" ? nil : 0))
      #expect(c.psi == (c.name == "player_lookup" ? nil : 0))
    }
  }

  /// A changed season can hide in a whole snapshot's statistics (a review saw "no drift" for
  /// three changed seasons of 75): the report names the seasons whose files differ.
  @Test func seasonsWhoseFilesDifferAreNamed() throws {
    func build(_ seasons: [(String, Table)]) throws -> Manifest {
      try Fixture.builder(root: Fixture.scratch()).build(Fixture.inputs(seasons: seasons)).manifest
    }
    let a = try build([
      ("2020-21", Fixture.table(rows: 300, seed: 1)), ("2021-22", Fixture.table(rows: 300, seed: 2)),
      ("2022-23", Fixture.table(rows: 300, seed: 3)),
    ])
    let b = try build([
      ("2021-22", Fixture.table(rows: 300, seed: 2, shift: 0.01)), ("2022-23", Fixture.table(rows: 300, seed: 3)),
      ("2023-24", Fixture.table(rows: 300, seed: 4)),
    ])
    #expect(Differ().diff(a, b, nameA: "a", nameB: "b").changedSeasons == ["2021-22"])
    #expect(Differ().diff(a, a, nameA: "a", nameB: "a").changedSeasons == [])
  }

  /// A review: `has_composite_factors` is 1 on every real row; one missing PCF row of 23,571
  /// made its shift −inf sd, past every threshold `--mean-shift` accepts. A constant baseline
  /// is measured in the other side's spread; both constant and apart is still infinite.
  @Test func aConstantBaselineIsMeasuredInTheOtherSidesSpread() throws {
    let ones = ColumnStats.compute([.int32(Column([Int32](repeating: 1, count: 1000)))])
    let oneZero = ColumnStats.compute([.int32(Column([Int32](repeating: 1, count: 999) + [0]))])
    let twos = ColumnStats.compute([.int32(Column([Int32](repeating: 2, count: 1000)))])
    let differ = Differ()
    let small = differ.drift(name: "has_composite_factors", ones, rowsA: 1000, oneZero, rowsB: 1000)
    let meanB = try #require(oneZero.mean), sdB = try #require(oneZero.std)
    #expect(small.meanShiftSD == (meanB - 1) / sdB)
    #expect(abs(try #require(small.meanShiftSD)) < 0.05)
    #expect(small.flags.isEmpty)
    let moved = differ.drift(name: "season_year", ones, rowsA: 1000, twos, rowsB: 1000)
    #expect(moved.meanShiftSD == .infinity)
    #expect(moved.flags.contains("mean_shift"))
    #expect(differ.drift(name: "x", ones, rowsA: 1000, ones, rowsB: 1000).meanShiftSD == 0)
  }

  /// A review deleted a week of games (1,054 of 23,571 rows) and read "no drift": a season
  /// both hold that lost rows is drift; one that gained rows (the season went on) is not.
  @Test func aSeasonThatLostRowsIsDrift() throws {
    func build(_ seasons: [(String, Table)]) throws -> Manifest {
      try Fixture.builder(root: Fixture.scratch()).build(Fixture.inputs(seasons: seasons)).manifest
    }
    let a = try build([("2021-22", Fixture.table(rows: 300, seed: 2)), ("2022-23", Fixture.table(rows: 300, seed: 3))])
    let b = try build([("2021-22", Fixture.table(rows: 260, seed: 2)), ("2022-23", Fixture.table(rows: 340, seed: 3))])
    let report = Differ().diff(a, b, nameA: "a", nameB: "b")
    #expect(report.seasonRowsFell == [Differ.SeasonRows(season: "2021-22", rowsA: 300, rowsB: 260)])
    #expect(!report.noDrift)
    #expect(Differ().diff(b, b, nameA: "b", nameB: "b").seasonRowsFell.isEmpty)
  }

  /// What the numbers mean: another feature set or a column's changed meaning or nullability
  /// is drift; settings that change no value are listed and are not.
  @Test func definitionsAndSettingsAreCompared() throws {
    let m = try manifest(Fixture.scratch(), Fixture.table(rows: 500, seed: 4))
    var otherSet = m
    otherSet.featureSet.version = m.featureSet.version + "-b"
    let bySet = Differ().diff(m, otherSet, nameA: "a", nameB: "b")
    #expect(bySet.featureSetChanged && !bySet.noDrift)

    var redefined = m
    let i = try #require(redefined.schema.firstIndex { $0.name == "points" })
    redefined.schema[i].meaning = "points, last 20 games"
    redefined.schema[i].nullable.toggle()
    let byMeaning = Differ().diff(m, redefined, nameA: "a", nameB: "b")
    #expect(
      byMeaning.definitionChanges == [
        "points: meaning changed", "points: nullable \(m.schema[i].nullable) → \(!m.schema[i].nullable)",
      ])
    #expect(!byMeaning.noDrift)

    var resettled = m
    resettled.config.batchRows = m.config.batchRows + 1
    resettled.config.pointInTimeSeed = m.config.pointInTimeSeed + 1
    let key = try #require(m.config.thresholds.keys.sorted().first)
    resettled.config.thresholds[key] = (m.config.thresholds[key] ?? 0) + 1
    let bySettings = Differ().diff(m, resettled, nameA: "a", nameB: "b")
    #expect(bySettings.configChanges.count == 3)
    #expect(bySettings.configChanges.contains("batch_rows \(m.config.batchRows) → \(m.config.batchRows + 1)"))
    #expect(bySettings.noDrift)
  }

  @Test func shiftedAndNullierColumnIsFlagged() throws {
    let a = try manifest(Fixture.scratch(), Fixture.table(rows: 2000, seed: 4))
    // Same generator, minutes shifted by 3 (≈ one sd of a uniform over 10) and a NULL every
    // 3rd row instead of every 7th: +19 points of NULLs.
    let b = try manifest(Fixture.scratch(), Fixture.table(rows: 2000, seed: 4, shift: 3, nullEvery: 3))
    let report = Differ().diff(a, b, nameA: "a", nameB: "b")
    let minutes = try #require(report.columns.first { $0.name == "minutes_avg" })
    #expect(minutes.flags == ["psi", "mean_shift", "null_share"])
    let shift = try #require(minutes.meanShiftSD)
    #expect(shift > 0.9 && shift < 1.2)
    #expect(abs(minutes.nullShareChangePoints - (Double(667 - 286) / 2000 * 100)) < 1e-9)
    let points = try #require(report.columns.first { $0.name == "points" })
    #expect(points.flags == [])
    #expect(!report.noDrift)
    // --ignore: the same figures, no flag, and no drift once nothing else is flagged.
    let ignoring = Differ(ignored: ["minutes_avg"]).diff(a, b, nameA: "a", nameB: "b")
    let quiet = try #require(ignoring.columns.first { $0.name == "minutes_avg" })
    #expect(quiet.flags == [] && quiet.meanShiftSD == minutes.meanShiftSD && quiet.psi == minutes.psi)
    #expect(ignoring.ignoredColumns == ["minutes_avg"])
    #expect(ignoring.noDrift)
  }

  @Test func schemaChangesAreReported() throws {
    let a = try manifest(Fixture.scratch(), Fixture.table(rows: 50, seed: 4))
    var b = a
    b.schema.removeLast()
    b.schema[2].type = "int64"
    b.schema.append(.init(name: "rebounds_avg", type: "float64", nullable: true, meaning: ""))
    let report = Differ().diff(a, b, nameA: "a", nameB: "b")
    #expect(report.addedColumns == ["rebounds_avg"])
    #expect(report.removedColumns == ["minutes_avg"])
    #expect(report.typeChanges == [.init(name: "points", typeA: "int32", typeB: "int64")])
  }
}
