import Columnar
import SQLiteSource

/// The `point_in_time` gate (gates.md): recompute a seeded sample of output rows from the
/// inputs cut off at each row's date (every PGS row on or after D removed; PCF is kept, since
/// the row's factors legitimately come from the PCF row of date D) and require every feature
/// to be bit-for-bit identical.
public struct PointInTimeResult: Sendable, Equatable {
  public struct Mismatch: Sendable, Equatable, CustomStringConvertible {
    public var season: Int
    public var playerLookup: String
    public var gameDate: Date32
    public var column: String
    /// The value in the output being checked, and the one recomputed from the cut inputs
    /// ("NULL" for NULL; floats with round-trip precision).
    public var expected: String
    public var got: String
    public var description: String {
      "\(Season.label(season)) \(playerLookup) \(gameDate) \(column): output \(expected), recomputed from inputs cut at the row's date \(got)"
    }
  }
  public var seed: UInt64
  public var checkedRows: Int
  public var mismatches: [Mismatch]
  public var passed: Bool { mismatches.isEmpty }
}

public enum PointInTimeCheck {
  public static func run(
    spec: FeatureSetSpec, source: SourceData, output: [SeasonFeatures], sampleSize: Int = 500, seed: UInt64
  ) -> PointInTimeResult {
    let engine = FeatureEngine(spec: spec)
    let prepared = Prepared(source: source, plan: engine.plan, groupRows: false)
    let pgs = source.pgs
    // Active rows by date, so "inputs cut at D" is a prefix of this list.
    let d = prepared.dates
    let byDate = (0..<pgs.count).filter { pgs.isActive($0) && pgs.seasonYear.validity[$0] }.sorted {
      d[$0] != d[$1] ? d[$0] < d[$1] : pgs.rowid[$0] < pgs.rowid[$1]
    }
    var all: [(season: Int, row: Int)] = []
    for s in output { for r in 0..<s.table.rowCount { all.append((s.season, r)) } }
    var rng = SplitMix64(seed: seed)
    // Partial Fisher–Yates: the first `take` entries become a uniform sample without replacement.
    let take = Swift.min(sampleSize, all.count)
    for i in 0..<take {
      let j = i + Int(rng.next() % UInt64(all.count - i))
      all.swapAt(i, j)
    }
    let sample = all[0..<take].sorted { $0.season != $1.season ? $0.season < $1.season : $0.row < $1.row }
    // The sampled rows' (player, season) groups, each in `byDate` order, so a row's cut history is
    // a prefix of its group found by binary search instead of a filter over every row before D
    // (500 scans of 2M rows was most of this check on a large database).
    func groupKey(_ i: Int) -> Int64 {
      Int64(prepared.playerID[i]) << 32 | Int64(UInt32(bitPattern: pgs.seasonYear.values[i]))
    }
    var groups: [Int64: [Int]] = [:]
    for (season, r) in sample {
      guard let features = output.first(where: { $0.season == season }) else { continue }
      groups[groupKey(features.sourceRows[r])] = []
    }
    for i in byDate {
      let k = groupKey(i)
      if groups[k] != nil { groups[k]!.append(i) }
    }

    var mismatches: [PointInTimeResult.Mismatch] = []
    for (season, r) in sample {
      guard let features = output.first(where: { $0.season == season }) else { continue }
      let t = features.sourceRows[r]
      let date = d[t]
      // The cut inputs: of the rows dated before D, this player's rows of this season.
      let group = groups[groupKey(t)] ?? []
      let history = Array(group[0..<lowerBoundRows(group, d, date)])
      var builders = engine.plan.makeBuilders(rowCount: 1)
      engine.sweep(history: history, targets: [(pgsRow: t, output: 0)], prepared: prepared, into: &builders)
      let recomputed: Table
      do {
        recomputed = try engine.assemble(order: [t], builders: builders, prepared: prepared, season: season)
      } catch {
        mismatches.append(
          .init(
            season: season, playerLookup: pgs.playerLookup.string(at: t), gameDate: Date32(daysSinceEpoch: date),
            column: "(row)", expected: "a row", got: error.description))
        continue
      }
      for (ci, field) in features.table.fields.enumerated() {
        let expected = cellText(features.table.columns[ci], r)
        guard ci < recomputed.columns.count else { break }
        let got = cellText(recomputed.columns[ci], 0)
        if expected != got {
          mismatches.append(
            .init(
              season: season, playerLookup: pgs.playerLookup.string(at: t), gameDate: Date32(daysSinceEpoch: date),
              column: field.name, expected: expected, got: got))
        }
      }
    }
    return PointInTimeResult(seed: seed, checkedRows: take, mismatches: mismatches)
  }

  static func lowerBoundRows(_ rows: [Int], _ d: [Int32], _ date: Int32) -> Int {
    var lo = 0, hi = rows.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if d[rows[mid]] < date { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// A cell as text that distinguishes every bit pattern of a float (hex bits), so "equal" is
  /// bit-for-bit equality.
  static func cellText(_ c: AnyColumn, _ i: Int) -> String {
    switch c {
    case .float64(let col): col[i].map { "\($0) (bits 0x\(String($0.bitPattern, radix: 16)))" } ?? "NULL"
    case .int32(let col): col[i].map { "\($0)" } ?? "NULL"
    case .int64(let col): col[i].map { "\($0)" } ?? "NULL"
    case .bool(let col): col[i].map { "\($0)" } ?? "NULL"
    case .date32(let col): col[i].map { "\($0)" } ?? "NULL"
    case .utf8(let col): col[i].map { "\"\($0)\"" } ?? "NULL"
    }
  }
}

/// Sebastiano Vigna's SplitMix64: a tiny, fully specified generator, so a seed recorded in a
/// manifest reproduces the same sample on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
