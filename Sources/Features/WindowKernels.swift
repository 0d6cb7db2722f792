// Rolling-window kernels for features-props-v1.md ("Feature columns").
//
// The sweep lays one season's histories out as a `LaneMatrix`: a row per game, groups (one
// player's active games of the season, oldest first) back to back, and in each row one lane
// per stat source that a window reads. A NULL stat holds +0.0 in its lane and all-zero mask
// bits; a present one holds its value and all-one mask bits. NULL never travels as NaN.
//
// Every float reduction runs oldest → newest over the window's own games, so a value depends
// only on the window's contents and never on how much history came before; the scalar and the
// SIMD kernel use the identical order and formulas, so both agree bit for bit:
//   count = number of non-NULL values          sum = Σ v
//   mean  = sum / count                        m2  = Σ (v − mean)²      std = √(m2 / (count − 1))
//   x = position in the window (0 = oldest game), x̄ = Σ x / count
//   slope = Σ (x − x̄)(v − mean) / Σ (x − x̄)²   (ordinary least squares)
// Accumulators start at +0.0 and never become −0.0 (+0.0 + −0.0 = +0.0), so adding a NULL
// lane's +0.0 (SIMD) and skipping it (scalar) give the same bits.
//
// Two exact shortcuts, both identical to the direct reduction bit for bit:
// - counts of a range are differences of running counts: counts are integers far below 2^53,
//   exact in any order;
// - a `season` window covers games 0..<end of its group, so its sum is the running sum stored
//   at row `end`, which was accumulated oldest → newest from +0.0: the very same additions in
//   the very same order as reducing 0..<end directly. (The point-in-time check recomputes
//   season windows directly, without running sums, so the shortcut is checked on every build.)

/// A season's games as lanes; see the file comment. A plain bundle of pointers (no reference
/// counting in the sweep's inner loop); whoever allocates it calls `deallocate()`.
struct LaneMatrix {
  let rows: Int
  /// Lanes in use, and the row stride in Doubles (lanes rounded up to an even count so every
  /// SIMD2 chunk of a row lies inside the row).
  let lanes: Int
  let stride: Int
  /// Stat values, +0.0 where NULL.
  let values: UnsafeMutablePointer<Double>
  /// All-one bits where the value is present, zero where NULL.
  let masks: UnsafeMutablePointer<Int64>
  /// Per row, the count (and sum) of each lane over the rows of its group before it.
  let priorCount: UnsafeMutablePointer<Double>
  let priorSum: UnsafeMutablePointer<Double>

  /// Memory is left uninitialised (no zero-fill pass over megabytes that are written next):
  /// the caller fills every lane of every row, padding included, and `runningTotals` fills
  /// `priorCount` (and `priorSum` when `runningSums`) for every group.
  init(rows: Int, lanes: Int, runningSums: Bool) {
    self.rows = rows
    self.lanes = lanes
    stride = Swift.max(2, (lanes + 1) & ~1)
    let n = Swift.max(1, rows * stride)
    values = .allocate(capacity: n)
    masks = .allocate(capacity: n)
    priorCount = .allocate(capacity: n)
    priorSum = .allocate(capacity: runningSums ? n : 1)
  }

  func deallocate() {
    values.deallocate()
    masks.deallocate()
    priorCount.deallocate()
    priorSum.deallocate()
  }

  @inline(__always) func isPresent(row: Int, lane: Int) -> Bool { masks[row * stride + lane] != 0 }
  @inline(__always) func value(row: Int, lane: Int) -> Double { values[row * stride + lane] }
}

/// Per-lane results of one window, written by a kernel. `count` is a Double so it divides
/// without conversion. Whoever allocates it calls `deallocate()`.
struct LaneStats {
  let count, sum, mean, m2, slopeNumerator, slopeDenominator: UnsafeMutablePointer<Double>

  init(lanes: Int) {
    let capacity = Swift.max(2, (lanes + 1) & ~1)
    let all = UnsafeMutablePointer<Double>.allocate(capacity: 6 * capacity)
    all.initialize(repeating: 0, count: 6 * capacity)
    count = all
    sum = all + capacity
    mean = all + 2 * capacity
    m2 = all + 3 * capacity
    slopeNumerator = all + 4 * capacity
    slopeDenominator = all + 5 * capacity
  }

  func deallocate() { count.deallocate() }
}

/// How `FeatureEngine` computes window columns; every choice gives the same bits.
public enum KernelChoice: String, Sendable, CaseIterable {
  /// Column at a time, straight into the output arrays (ColumnKernels.swift): the default.
  case columns
  /// Row at a time with `SIMDKernel`, through a scratch row per output row.
  case simd
  /// Row at a time with `ScalarKernel`: the plain reference (the point-in-time check uses it).
  case scalar
}

/// The reductions the sweep needs. `lanes` is how many lanes (from lane 0) the caller reads
/// back; a kernel may compute a few more, up to the matrix stride.
protocol LaneKernel {
  /// Fills `priorCount` (and `priorSum` when `sums`) for the rows of one group.
  static func runningTotals(_ m: LaneMatrix, group: Range<Int>, lanes: Int, sums: Bool)
  /// count over `rows` from the running counts; `rows.upperBound` must lie inside the same
  /// group (a window always ends at a row's own position or before, never past its group).
  static func counts(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats)
  /// Σ v over `rows`, oldest → newest.
  static func sums(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats)
  /// mean = sum / count (any value where count is 0; callers never read it there).
  static func means(_ s: LaneStats, lanes: Int)
  /// m2 and the slope sums over `rows`, given `s.count` and `s.sum` of the same rows.
  static func moments(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats)
}

/// Lanes as `SIMD8/4/2<Double>` chunks (on baseline x86-64 each SIMD2 is one SSE register, and
/// a SIMD8 is four independent ones). NULL handling is arithmetic-free: values already hold
/// +0.0, and masks are applied with a bitwise AND, never a compare or a blend.
enum SIMDKernel: LaneKernel {
  static func runningTotals(_ m: LaneMatrix, group: Range<Int>, lanes: Int, sums: Bool) {
    var b = 0
    while lanes - b >= 8 { runningPass(SIMD8<Double>.self, m, group, b, sums); b += 8 }
    if lanes - b >= 4 { runningPass(SIMD4<Double>.self, m, group, b, sums); b += 4 }
    while b < lanes { runningPass(SIMD2<Double>.self, m, group, b, sums); b += 2 }
  }

  static func counts(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats) {
    var b = 0
    while lanes - b >= 8 { countPass(SIMD8<Double>.self, m, rows, b, s); b += 8 }
    if lanes - b >= 4 { countPass(SIMD4<Double>.self, m, rows, b, s); b += 4 }
    while b < lanes { countPass(SIMD2<Double>.self, m, rows, b, s); b += 2 }
  }

  static func sums(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats) {
    var b = 0
    while lanes - b >= 8 { sumPass(SIMD8<Double>.self, m, rows, b, s); b += 8 }
    if lanes - b >= 4 { sumPass(SIMD4<Double>.self, m, rows, b, s); b += 4 }
    while b < lanes { sumPass(SIMD2<Double>.self, m, rows, b, s); b += 2 }
  }

  static func means(_ s: LaneStats, lanes: Int) {
    var b = 0
    while lanes - b >= 8 { meanPass(SIMD8<Double>.self, s, b); b += 8 }
    if lanes - b >= 4 { meanPass(SIMD4<Double>.self, s, b); b += 4 }
    while b < lanes { meanPass(SIMD2<Double>.self, s, b); b += 2 }
  }

  static func moments(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats) {
    var b = 0
    while lanes - b >= 8 { momentPass(SIMD8<Double>.self, m, rows, b, s); b += 8 }
    if lanes - b >= 4 { momentPass(SIMD4<Double>.self, m, rows, b, s); b += 4 }
    while b < lanes { momentPass(SIMD2<Double>.self, m, rows, b, s); b += 2 }
  }

  @inline(__always)
  static func load<V: SIMD>(_ p: UnsafePointer<Double>, _ v: V.Type) -> V where V.Scalar == Double {
    UnsafeRawPointer(p).loadUnaligned(as: V.self)
  }

  @inline(__always)
  static func store<V: SIMD>(_ x: V, _ p: UnsafeMutablePointer<Double>) where V.Scalar == Double {
    UnsafeMutableRawPointer(p).storeBytes(of: x, as: V.self)
  }

  /// `x` where the mask bits are set, +0.0 elsewhere.
  @inline(__always)
  static func masked<V: SIMD>(_ x: V, _ maskAt: UnsafePointer<Int64>) -> V where V.Scalar == Double {
    let m = UnsafeRawPointer(maskAt).loadUnaligned(as: V.MaskStorage.self)
    return unsafeBitCast(unsafeBitCast(x, to: V.MaskStorage.self) & m, to: V.self)
  }

  @inline(__always)
  static func runningPass<V: SIMD>(_: V.Type, _ m: LaneMatrix, _ group: Range<Int>, _ b: Int, _ sums: Bool)
  where V.Scalar == Double {
    let one = V(repeating: 1)
    var count = V(), sum = V()
    for r in group {
      let at = r * m.stride + b
      store(count, m.priorCount + at)
      if sums { store(sum, m.priorSum + at) }
      count += masked(one, m.masks + at)
      sum += load(m.values + at, V.self)
    }
  }

  @inline(__always)
  static func countPass<V: SIMD>(_: V.Type, _ m: LaneMatrix, _ rows: Range<Int>, _ b: Int, _ s: LaneStats)
  where V.Scalar == Double {
    let hi = load(m.priorCount + rows.upperBound * m.stride + b, V.self)
    let lo = load(m.priorCount + rows.lowerBound * m.stride + b, V.self)
    store(hi - lo, s.count + b)
  }

  @inline(__always)
  static func sumPass<V: SIMD>(_: V.Type, _ m: LaneMatrix, _ rows: Range<Int>, _ b: Int, _ s: LaneStats)
  where V.Scalar == Double {
    var sum = V()
    var p = m.values + rows.lowerBound * m.stride + b
    for _ in rows {
      sum += load(p, V.self)
      p += m.stride
    }
    store(sum, s.sum + b)
  }

  @inline(__always)
  static func meanPass<V: SIMD>(_: V.Type, _ s: LaneStats, _ b: Int) where V.Scalar == Double {
    store(load(s.sum + b, V.self) / load(s.count + b, V.self), s.mean + b)
  }

  @inline(__always)
  static func momentPass<V: SIMD>(_: V.Type, _ m: LaneMatrix, _ rows: Range<Int>, _ b: Int, _ s: LaneStats)
  where V.Scalar == Double {
    let count = load(s.count + b, V.self)
    let mean = load(s.sum + b, V.self) / count
    var positionSum = V()
    for r in rows {
      positionSum += masked(V(repeating: Double(r - rows.lowerBound)), m.masks + r * m.stride + b)
    }
    let xMean = positionSum / count
    var m2 = V(), num = V(), den = V()
    for r in rows {
      let at = r * m.stride + b
      let d = masked(load(m.values + at, V.self) - mean, m.masks + at)
      let dx = masked(V(repeating: Double(r - rows.lowerBound)) - xMean, m.masks + at)
      m2 += d * d
      num += dx * d
      den += dx * dx
    }
    store(m2, s.m2 + b)
    store(num, s.slopeNumerator + b)
    store(den, s.slopeDenominator + b)
  }
}

/// The same reductions with plain loops, lane by lane, skipping NULLs: the reference the SIMD
/// kernel is measured and checked against.
enum ScalarKernel: LaneKernel {
  static func runningTotals(_ m: LaneMatrix, group: Range<Int>, lanes: Int, sums: Bool) {
    for lane in 0..<lanes {
      var count = 0.0, sum = 0.0
      for r in group {
        m.priorCount[r * m.stride + lane] = count
        if sums { m.priorSum[r * m.stride + lane] = sum }
        if m.isPresent(row: r, lane: lane) {
          count += 1
          sum += m.value(row: r, lane: lane)
        }
      }
    }
  }

  static func counts(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats) {
    for lane in 0..<lanes {
      s.count[lane] = m.priorCount[rows.upperBound * m.stride + lane] - m.priorCount[rows.lowerBound * m.stride + lane]
    }
  }

  static func sums(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats) {
    for lane in 0..<lanes {
      var sum = 0.0
      for r in rows where m.isPresent(row: r, lane: lane) { sum += m.value(row: r, lane: lane) }
      s.sum[lane] = sum
    }
  }

  static func means(_ s: LaneStats, lanes: Int) {
    for lane in 0..<lanes { s.mean[lane] = s.sum[lane] / s.count[lane] }
  }

  static func moments(_ m: LaneMatrix, _ rows: Range<Int>, lanes: Int, into s: LaneStats) {
    for lane in 0..<lanes {
      let count = s.count[lane]
      var m2 = 0.0, num = 0.0, den = 0.0
      if count > 0 {
        var positionSum = 0.0
        for r in rows where m.isPresent(row: r, lane: lane) { positionSum += Double(r - rows.lowerBound) }
        let mean = s.sum[lane] / count, xMean = positionSum / count
        for r in rows where m.isPresent(row: r, lane: lane) {
          let d = m.value(row: r, lane: lane) - mean
          let dx = Double(r - rows.lowerBound) - xMean
          m2 += d * d
          num += dx * d
          den += dx * dx
        }
      }
      s.m2[lane] = m2
      s.slopeNumerator[lane] = num
      s.slopeDenominator[lane] = den
    }
  }
}

extension FeatureWindow {
  /// The games of a history that this window covers, as positions: the history is
  /// `start..<end` (the games strictly before `date`, oldest first, dates in `dates`). The
  /// point-in-time rule lives here: no window reaches past `end`.
  @inline(__always)
  func bounds(dates: UnsafePointer<Int32>, start: Int, end: Int, date: Int32) -> Range<Int> {
    switch kind {
    case .season:
      return start..<end
    case .lastGames:
      return Swift.max(start, end - n)..<end
    case .lastDays:
      var lo = end
      let first = date - Int32(n)
      while lo > start, dates[lo - 1] >= first { lo -= 1 }
      return lo..<end
    }
  }
}
