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
  /// The recomputation is independent of the engine's own sweep where it matters: each sampled
  /// row's history is cut here, by date, from all of the player's PGS rows (the engine's
  /// grouping and its history-end search are not used), windows run on the scalar kernel, and
  /// season windows are reduced game by game rather than read from running sums. All sampled
  /// rows are recomputed in one sweep, each over its own cut history.
  public static func run(
    spec: FeatureSetSpec, source: SourceData, output: [SeasonFeatures], sampleSize: Int = 500, seed: UInt64
  ) -> PointInTimeResult {
    var session = PointInTimeSession(
      spec: spec, source: source, seasons: output.map(\.season), rowCounts: output.map(\.table.rowCount),
      sampleSize: sampleSize, seed: seed)
    for s in output { session.check(s) }
    return session.result
  }
  /// Whether cell `ai[k]` of `a` equals cell `bi[k]` of `b`, as `cellText` would say, without
  /// formatting: NULL equals only NULL, floats compare by bit pattern.
  static func sameCells(_ a: AnyColumn, _ ai: [Int], _ b: AnyColumn, _ bi: [Int]) -> [Bool] {
    func same<E>(_ x: Column<E>, _ y: Column<E>, _ eq: (E, E) -> Bool) -> [Bool] {
      zip(ai, bi).map { i, j in
        let vx = x.validity[i], vy = y.validity[j]
        return vx == vy && (!vx || eq(x.values[i], y.values[j]))
      }
    }
    switch (a, b) {
    case (.float64(let x), .float64(let y)): return same(x, y) { $0.bitPattern == $1.bitPattern }
    case (.int32(let x), .int32(let y)): return same(x, y, ==)
    case (.int64(let x), .int64(let y)): return same(x, y, ==)
    case (.bool(let x), .bool(let y)): return same(x, y, ==)
    case (.date32(let x), .date32(let y)): return same(x, y, ==)
    case (.utf8(let x), .utf8(let y)):
      return zip(ai, bi).map { i, j in
        let vx = x.validity[i], vy = y.validity[j]
        // cellText compares Strings; bytes are equal exactly when the Strings they decode to
        // are, except for canonically equivalent spellings, which cellText would call equal.
        if vx != vy { return false }
        if !vx { return true }
        let bytesEqual = x.withBytes(at: i) { p in y.withBytes(at: j) { q in p.elementsEqual(q) } }
        return bytesEqual || cellText(a, i) == cellText(b, j)
      }
    default: return zip(ai, bi).map { cellText(a, $0) == cellText(b, $1) }
    }
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

/// `PointInTimeCheck.run` one season at a time, for a build that computes and writes seasons
/// one after another: the sample is drawn up front over every season's output rows (the same
/// rows `run` would draw from the same counts and seed), and each season is checked as it is
/// computed, then can be dropped.
public struct PointInTimeSession {
  let engine: FeatureEngine
  let prepared: Prepared
  /// Every PGS row by player, in row order: `byPlayer[start[p]..<start[p + 1]]`.
  let start: [Int]
  let byPlayer: [Int32]
  /// Rows that can be history at all: active, with a season and a date.
  let usable: [Bool]
  /// Sampled output rows by season, ascending.
  let sample: [Int: [Int]]
  public let seed: UInt64
  let checkedRows: Int
  var mismatches: [PointInTimeResult.Mismatch] = []

  /// `seasons` and `rowCounts` list the output tables to come, in the order they will be
  /// checked.
  public init(
    spec: FeatureSetSpec, source: SourceData, seasons: [Int], rowCounts: [Int], sampleSize: Int = 500, seed: UInt64
  ) {
    let engine = FeatureEngine(spec: spec, kernel: .scalar)
    self.init(
      engine: engine, prepared: Prepared(source: source, plan: engine.plan, groupRows: false), seasons: seasons,
      rowCounts: rowCounts, sampleSize: sampleSize, seed: seed)
  }

  /// The session of a build's `run`: its inputs converted once for both (the stat vectors are
  /// the largest thing a build holds besides the inputs). Only that conversion is shared; the
  /// grouping, history cut and kernel are still this check's own.
  public init(spec: FeatureSetSpec, run: FeatureRun, sampleSize: Int = 500, seed: UInt64) {
    self.init(
      engine: FeatureEngine(spec: spec, kernel: .scalar), prepared: run.prepared, seasons: run.seasons,
      rowCounts: run.rowCounts, sampleSize: sampleSize, seed: seed)
  }

  init(engine: FeatureEngine, prepared: Prepared, seasons: [Int], rowCounts: [Int], sampleSize: Int, seed: UInt64) {
    self.engine = engine
    self.prepared = prepared
    self.seed = seed
    let pgs = prepared.source.pgs
    // Output rows numbered season after season; a partial Fisher–Yates makes the first
    // `take` entries a uniform sample without replacement.
    let total = rowCounts.reduce(0, +)
    var all = [Int32](unsafeUninitializedCapacity: total) { buffer, n in
      for i in 0..<total { buffer[i] = Int32(i) }
      n = total
    }
    var rng = SplitMix64(seed: seed)
    let take = Swift.min(sampleSize, total)
    for i in 0..<take {
      let j = i + Int(rng.next() % UInt64(total - i))
      all.swapAt(i, j)
    }
    var firstRow: [Int] = [0]
    for n in rowCounts { firstRow.append(firstRow[firstRow.count - 1] + n) }
    var bySeason: [Int: [Int]] = [:]
    for flat in all[0..<take] {
      let f = Int(flat)
      // The season whose numbering range holds f (seasons are few: a linear scan is fine).
      var k = 0
      while firstRow[k + 1] <= f { k += 1 }
      bySeason[seasons[k], default: []].append(f - firstRow[k])
    }
    sample = bySeason.mapValues { $0.sorted() }
    checkedRows = take

    let players = prepared.players
    var start = [Int](repeating: 0, count: players.count + 1)
    for i in 0..<pgs.count { start[Int(players.rank[i]) + 1] += 1 }
    for p in 0..<players.count { start[p + 1] += start[p] }
    var byPlayer = [Int32](repeating: 0, count: pgs.count)
    var next = start
    for i in 0..<pgs.count {
      let p = Int(players.rank[i])
      byPlayer[next[p]] = Int32(i)
      next[p] += 1
    }
    self.start = start
    self.byPlayer = byPlayer
    usable = (0..<pgs.count).map { FeatureOptions.isHistoryRow(pgs, $0) }
  }

  /// Recomputes this season's sampled rows from inputs cut at each row's date and records
  /// every cell that differs from `output`.
  public mutating func check(_ output: SeasonFeatures) {
    guard let rowsToCheck = sample[output.season], !rowsToCheck.isEmpty else { return }
    let pgs = prepared.source.pgs
    let d = prepared.dates
    let players = prepared.players
    let seasons = pgs.seasonYear.values, rowid = pgs.rowid
    var batch = Batch()
    var targets: [Int32] = []
    var checked: [(row: Int, pgsRow: Int32)] = []
    for r in rowsToCheck {
      let t = output.sourceRows[r]
      let date = d[t], seasonYear = seasons[t], p = Int(players.rank[t])
      // The cut inputs: of the rows dated before D, this player's active rows of this season,
      // oldest first; then the row itself, whose history is all of them.
      var rows: [Int32] = []
      for i in byPlayer[start[p]..<start[p + 1]] {
        let i = Int(i)
        if d[i] < date, usable[i], seasons[i] == seasonYear { rows.append(Int32(i)) }
      }
      rows.sort { d[Int($0)] != d[Int($1)] ? d[Int($0)] < d[Int($1)] : rowid[Int($0)] < rowid[Int($1)] }
      rows.append(Int32(t))
      d.withUnsafeBufferPointer { dates in rows.withUnsafeBufferPointer { batch.appendGroup($0, dates: dates) } }
      targets.append(Int32(batch.rows.count - 1))
      checked.append((r, Int32(t)))
    }
    let columns = engine.sweep(
      batch, targets: targets, order: targets.indices.map(Int32.init), prepared: prepared, runningSeasonSums: false,
      kernel: .scalar)
    // An int32 value past its range cannot be in `output` (`compute` refuses it), so one here
    // differs from the output's cell, NULL against a value, and is reported as a mismatch.
    let recomputed = engine.assemble(order: checked.map(\.pgsRow), prepared: prepared) { columns.column($0, type: $1) }
      .table

    // Compare column by column (one type switch per column), report row by row.
    var differs: [(sample: Int, column: Int)] = []
    let ks = Array(checked.indices)
    let table = output.table
    for (ci, column) in table.columns.enumerated() {
      guard ci < recomputed.columns.count else { break }
      let same = PointInTimeCheck.sameCells(column, ks.map { checked[$0].row }, recomputed.columns[ci], ks)
      for (k, s) in zip(ks, same) where !s { differs.append((k, ci)) }
    }
    differs.sort { $0.sample != $1.sample ? $0.sample < $1.sample : $0.column < $1.column }
    for (k, ci) in differs {
      let c = checked[k]
      let t = Int(c.pgsRow)
      mismatches.append(
        PointInTimeResult.Mismatch(
          season: output.season, playerLookup: pgs.playerLookup.string(at: t),
          gameDate: Date32(daysSinceEpoch: d[t]), column: table.fields[ci].name,
          expected: PointInTimeCheck.cellText(table.columns[ci], c.row),
          got: PointInTimeCheck.cellText(recomputed.columns[ci], k)))
    }
  }

  /// Mismatches found so far (a build can stop at the first season that has any).
  public var mismatchCount: Int { mismatches.count }

  public var result: PointInTimeResult {
    PointInTimeResult(seed: seed, checkedRows: checkedRows, mismatches: mismatches)
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
