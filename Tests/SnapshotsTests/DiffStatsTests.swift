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
    // 100 bins over [1, 4]: width 0.03; 2 → bin 33, 3 → bin 66, 4 (closed right) → bin 99.
    var counts = [Int](repeating: 0, count: 100)
    counts[0] = 1
    counts[33] = 1
    counts[66] = 1
    counts[99] = 1
    #expect(s.histogram == .init(lower: 1, upper: 4, counts: counts))

    let text = ColumnStats.compute([.utf8(StringColumn(["a", nil, "b", "a"]))])
    #expect(text == ColumnStats(nullCount: 1, nonFiniteCount: 0, min: nil, max: nil, mean: nil, std: nil, distinctCount: 2, histogram: nil))
    let constant = ColumnStats.compute([.int32(Column([5, 5, 5]))])
    #expect(constant.histogram == .init(lower: 5, upper: 5, counts: [3]))
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

  @Test func rebinPlacesFineBinsAtTheirMidpoints() {
    // 4 fine bins over [0, 4] (midpoints 0.5 … 3.5) onto 20 bins over [0, 10] (width 0.5).
    let h = ColumnStats.Histogram(lower: 0, upper: 4, counts: [1, 2, 3, 4])
    var expected = [Int](repeating: 0, count: 20)
    expected[1] = 1
    expected[3] = 2
    expected[5] = 3
    expected[7] = 4
    #expect(Differ.rebin(h, lower: 0, upper: 10) == expected)
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
