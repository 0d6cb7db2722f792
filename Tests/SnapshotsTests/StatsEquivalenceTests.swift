import Columnar
import Foundation
import Testing

@testable import Snapshots

/// The fused statistics passes (`Accumulator(chunk:)`: integer sums and shift binning,
/// multiply-and-truncate binning for doubles) against `ReferenceStats`, the implementation
/// they replaced, bit for bit: every chunk's figures and the merged manifest statistics, on
/// seeded random columns of every type with NULLs, NaN and ±inf, -0.0 and 0.0, subnormals,
/// extremes, constant and empty columns.
@Suite struct StatsEquivalenceTests {
  struct Gen {
    var rng: SplitMix
    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ oneIn: Int) -> Bool { int(oneIn) == 0 }
  }

  /// One column of `rows` values of `type` in one of several shapes: wide random, narrow
  /// integer-valued, constant, signed zeros, subnormal, extreme.
  static func column(_ type: ColumnType, rows: Int, g: inout Gen) -> AnyColumn {
    let shape = g.int(6)
    // 0: NULLs in runs, as a season's first games leave a rolling feature NULL, so that whole
    // words of valid rows sit beside words of NULLs and words of both.
    let nullOneIn = [2, 5, 1_000_000, 0][g.int(4)]
    var row = 0
    func null() -> Bool {
      defer { row += 1 }
      return nullOneIn == 0 ? row % 256 < 100 : g.chance(nullOneIn)
    }
    switch type {
    case .int32:
      let pool: [Int32] = [Int32.min, Int32.max, -1, 0, 1, 7]
      return .int32(
        Column(
          optionals: (0..<rows).map { _ -> Int32? in
            if null() { return nil }
            switch shape {
            case 0: return pool[g.int(pool.count)]
            case 1: return 42
            case 2: return Int32(g.int(9)) - 4
            default: return Int32(truncatingIfNeeded: Int64(g.int(2_000_001)) - 1_000_000)
            }
          }))
    case .int64:
      let pool: [Int64] = [Int64.min, Int64.max, -(1 << 53) - 1, (1 << 62) + 1, 0, -3]
      return .int64(
        Column(
          optionals: (0..<rows).map { _ -> Int64? in
            if null() { return nil }
            return shape < 2 ? pool[g.int(pool.count)] : Int64(g.int(1_000_000)) - 500_000
          }))
    case .float64:
      let special: [Double] = [
        0.0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude, 0x1p-1030,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .nan, .infinity, -.infinity, 0.1, -2.5,
      ]
      return .float64(
        Column(
          optionals: (0..<rows).map { _ -> Double? in
            if null() { return nil }
            switch shape {
            case 0: return special[g.int(special.count)]
            case 1: return g.chance(2) ? 0.0 : -0.0
            case 2: return Double(g.int(50)) * .leastNonzeroMagnitude
            case 3: return 3.25
            case 4: return Double(g.int(64)) - 20
            default: return (Double(g.int(2_000_000)) / 997 - 1000) * [1.0, 1e-6, 1e9][g.int(3)]
            }
          }))
    case .bool:
      return .bool(Column(optionals: (0..<rows).map { _ -> Bool? in null() ? nil : shape == 0 ? true : g.chance(2) }))
    case .date32:
      let pool: [Int32] = [Int32.min, Int32.max, 0, -1, 19_300]
      return .date32(
        Column(
          optionals: (0..<rows).map { _ -> Date32? in
            if null() { return nil }
            return Date32(daysSinceEpoch: shape == 0 ? pool[g.int(pool.count)] : 19_000 + Int32(g.int(400)))
          }))
    case .utf8:
      let pool = ["", "a", "ab", "lebronjames", "lukadončić", "日本語の選手名前", "x\u{0}y", String(repeating: "z", count: 40)]
      return .utf8(
        StringColumn(
          (0..<rows).map { _ -> String? in
            if null() { return nil }
            return g.chance(3) ? "p\(g.int(5000))" : pool[g.int(pool.count)]
          }))
    }
  }

  /// Equal figures, doubles compared by bit pattern (0.0 and -0.0 differ in the manifest).
  static func same(_ a: ColumnStats.Accumulator, _ b: ColumnStats.Accumulator) -> Bool {
    a.isText == b.isText && a.nulls == b.nulls && a.nonFinite == b.nonFinite && a.distinct.count == b.distinct.count
      && a.count == b.count && a.sum.bitPattern == b.sum.bitPattern && a.lo.bitPattern == b.lo.bitPattern
      && a.hi.bitPattern == b.hi.bitPattern && a.squares.bitPattern == b.squares.bitPattern
      && a.histograms == b.histograms && a.constants.map(\.count) == b.constants.map(\.count)
      && a.constants.map(\.value.bitPattern) == b.constants.map(\.value.bitPattern)
  }

  static func json(_ s: ColumnStats) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    // A sum past the largest double makes the mean infinite, which JSON cannot spell: the
    // two sides must then fail alike (compared through the error text).
    do { return String(decoding: try encoder.encode(s), as: UTF8.self) } catch { return "not encodable: \(error)" }
  }

  static func sameFinish(_ a: ColumnStats, _ b: ColumnStats) -> Bool {
    func bits(_ d: Double?) -> UInt64? { d?.bitPattern }
    return a == b && bits(a.min) == bits(b.min) && bits(a.max) == bits(b.max) && bits(a.mean) == bits(b.mean)
      && bits(a.std) == bits(b.std) && json(a) == json(b)
  }

  static let types: [ColumnType] = [.int32, .int64, .float64, .bool, .date32, .utf8]
  static let sizes = [0, 1, 2, 63, 64, 65, 1000]

  @Test(arguments: types)
  func everyChunkAndTheMergedFiguresMatchTheReference(type: ColumnType) {
    for seed: UInt64 in 1...40 {
      var g = Gen(rng: SplitMix(seed: seed &* 7919 &+ UInt64(Self.types.firstIndex(of: type)!)))
      // Chunks of boundary sizes, merged in the order given (a build merges seasons in
      // manifest order whatever order the writer threads finished them in).
      let chunks = (0..<(1 + g.int(4))).map { _ in Self.column(type, rows: Self.sizes[g.int(Self.sizes.count)], g: &g) }
      var fast = ColumnStats.Accumulator(isText: type == .utf8)
      var reference = ColumnStats.Accumulator(isText: type == .utf8)
      for (k, chunk) in chunks.enumerated() {
        let f = ColumnStats.Accumulator(chunk: chunk)
        let r = ReferenceStats.chunk(chunk)
        #expect(Self.same(f, r), "seed \(seed) chunk \(k) of \(chunk.count) rows")
        fast.merge(f)
        reference.merge(r)
      }
      let got = fast.finish(), want = reference.finish()
      #expect(Self.sameFinish(got, want), "seed \(seed): \(Self.json(got)) vs \(Self.json(want))")
      if type == .utf8 {
        var all = Set<[UInt8]>()
        for case .utf8(let c) in chunks { all.formUnion(ReferenceStats.distinct(c)) }
        #expect(got.distinctCount == all.count, "seed \(seed)")
      }
    }
  }

  /// A table's statistics (`TableAccumulator(table:)`, what the writer computes per season)
  /// are each column's reference figures, bit for bit, for tables of up to nine float64
  /// columns among others, every value shape above and the boundary row counts. (Its first
  /// run found the subnormal-range crash below.)
  @Test func tableStatisticsMatchTheReferenceColumnByColumn() {
    for seed: UInt64 in 1...200 {
      var g = Gen(rng: SplitMix(seed: seed &* 104_729))
      let rows = Self.sizes[g.int(Self.sizes.count)]
      var types = [ColumnType](repeating: .float64, count: g.int(10))
      for _ in 0..<g.int(3) { types.insert(Self.types[g.int(Self.types.count)], at: g.int(types.count + 1)) }
      let columns = types.map { Self.column($0, rows: rows, g: &g) }
      let fields = types.enumerated().map { Field(name: "c\($0.offset)", type: $0.element) }
      let table = ColumnStats.TableAccumulator(table: Table(fields: fields, columns: columns))
      for (k, column) in columns.enumerated() {
        #expect(
          Self.same(table.columns[k], ReferenceStats.chunk(column)),
          "seed \(seed) column \(k) of \(types), \(rows) rows")
      }
    }
  }

  /// Values a few subnormals apart: their range over 64 bins rounds to 0, and the width's
  /// logarithm was −infinity, which trapped converting to Int (a build crashed on such a
  /// column). Now one bin, as the reference bins it.
  @Test func aRangeOfAFewSubnormalsGetsAHistogram() {
    for values: [Double] in [[0, .leastNonzeroMagnitude], [-.leastNonzeroMagnitude, 0, 32 * .leastNonzeroMagnitude]] {
      let column = AnyColumn.float64(Column(values))
      let f = ColumnStats.Accumulator(chunk: column), r = ReferenceStats.chunk(column)
      #expect(Self.same(f, r), "\(values)")
      #expect(f.finish().histogram?.counts.reduce(0, +) == values.count, "\(values)")
    }
  }

  /// Values near the largest double overflow the sum: the mean and std have no double value,
  /// and JSON no infinity, so they are null (a manifest with them failed to encode, exit 1).
  @Test func anOverflowingSumLeavesMeanAndStdNull() throws {
    for values: [Double] in [[1e308, 1.7e308, 1.5e308], [1.7e308, 1.7e308, -1.7e308]] {
      let stats = ColumnStats.Accumulator(chunk: .float64(Column(values))).finish()
      #expect(stats.mean == nil && stats.std == nil, "\(values)")
      #expect(stats.min == values.min() && stats.max == values.max())
      #expect(stats.histogram?.counts.reduce(0, +) == values.count)
      _ = try PrettyJSONEncoder.encode(stats)
    }
    // A finite mean whose squares overflow: the std alone is null.
    let wide = ColumnStats.Accumulator(chunk: .float64(Column([-1.5e308, 1.5e308]))).finish()
    #expect(wide.mean == 0 && wide.std == nil)
  }

  /// Signed zeros: min keeps the first of equal values, max the last (`Swift.min`/`max`), and
  /// the manifest spells them differently.
  @Test func signedZerosKeepTheReferenceMinAndMax() {
    for values in [[0.0, -0.0], [-0.0, 0.0], [-0.0, 0.0, -0.0, 1], [0.0, -0.0, -1]] {
      let column = AnyColumn.float64(Column(values))
      let f = ColumnStats.Accumulator(chunk: column), r = ReferenceStats.chunk(column)
      #expect(Self.same(f, r), "\(values)")
      #expect(Self.json(f.finish()) == Self.json(r.finish()), "\(values)")
    }
  }

  /// An int32 column whose running sum passes 2^53, then adds ones that the doubles lose
  /// (past 2^53 a double only holds even integers): the exact Int64 sum differs from the
  /// row-order double sum, and the row-order sum is the one taken, as the reference does.
  @Test func integerSumPast2To53UsesTheRowOrderDoubleSum() {
    let big = (1 << 22) + 2, ones = 1000
    let values = [Int32](repeating: Int32.max, count: big) + [Int32](repeating: 1, count: ones)
    let column = AnyColumn.int32(Column(values))
    let f = ColumnStats.Accumulator(chunk: column), r = ReferenceStats.chunk(column)
    #expect(Self.same(f, r))
    let exact = Int64(big) * Int64(Int32.max) + Int64(ones)
    #expect(f.sum != Double(exact), "the case where the exact sum differs from the row-order one")
  }
}
