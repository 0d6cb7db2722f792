import Columnar

// Column-at-a-time feature computation (`KernelChoice.columns`, the default).
//
// The row sweep (`FeatureEngine.sweep`) computes every window of one target before moving to
// the next, into a scratch row per target, and then transposes the scratch into columns in
// output order. Here each output column is one pass over the season's output rows, in output
// order, written straight into the array that becomes the output column: no scratch, no
// transposition, no type-conversion copy for float64 columns. The passes read a season's
// histories lane by lane (`LaneColumn`: one stat source at a time, in one reused buffer), so a pass
// touches one lane's arrays only (a few hundred KB per season, which stay in L2).
//
// The values are the very bits the row kernels give (see WindowKernels.swift for the
// formulas and the summation order):
// - count of a window = difference of running counts (integers, exact);
// - sum of a `season` window = running sum at the history end (accumulated oldest → newest
//   from +0.0: the same additions in the same order as the direct reduction);
// - sum of any other window: reduced oldest → newest from +0.0 over the window's own games,
//   except for an *exact* lane (below), whose sum is the difference of two running sums;
// - m2 and slope: reduced over the window's present games exactly as `ScalarKernel.moments`.
//
// Exact lanes. When every present value of a lane in the season is an integer and Σ|v| over the
// season is at most 2^52, every partial sum of every run of games is an integer of magnitude
// ≤ 2^52: each addition is exact, so the direct oldest → newest sum of a window *is* the exact
// integer sum, and so is S[hi] − S[lo] (two exactly represented integers whose difference is
// representable). Neither is ever −0.0 (an accumulation from +0.0 cannot give −0.0 under
// round-to-nearest, and x − x = +0.0). Integer stat columns (points, attempts, rebounds …)
// qualify; minutes and usage rate in general do not and are reduced directly. The check is
// made on the data, per season and lane, never assumed from the source's name or type.

/// One lane (stat source) of a season's histories, positions as in `Batch`. One buffer serves
/// every lane in turn: `fill` overwrites it, and the lane's columns are computed before the
/// next lane is filled. (Fresh memory costs ≈ 0.7 ms per MB in page faults on this VM; one
/// reused lane of ~0.5 MB per season stays warm in L2, where all lanes at once were 5 MB.)
/// Whoever allocates it calls `deallocate()`.
struct LaneColumn {
  let rows: Int
  /// +0.0 where NULL.
  let values: UnsafeMutablePointer<Double>
  /// 1 where the value is present.
  let present: UnsafeMutablePointer<UInt8>
  /// Per position p: present values of its group before p, and their sum (oldest → newest from +0.0).
  let priorCount: UnsafeMutablePointer<Int32>
  let priorSum: UnsafeMutablePointer<Double>
  /// Whether window sums may be taken as differences of `priorSum` (file comment).
  var exact = false

  init(rows: Int) {
    self.rows = rows
    let n = Swift.max(1, rows)
    values = .allocate(capacity: n)
    present = .allocate(capacity: n)
    priorCount = .allocate(capacity: n)
    priorSum = .allocate(capacity: n)
  }

  func deallocate() {
    values.deallocate()
    present.deallocate()
    priorCount.deallocate()
    priorSum.deallocate()
  }

  /// Loads lane `lane` of the plan for `batch` (which must have `rows` positions).
  mutating func fill(lane: Int, _ batch: Batch, prepared: Prepared) {
    let v = prepared.sources[prepared.plan.lanes[lane]]
    let (values, present, priorCount, priorSum) = (self.values, self.present, self.priorCount, self.priorSum)
    func fill<T>(_ source: UnsafeBufferPointer<T>, _ double: (T) -> Double) -> Bool {
      var integral = true
      var magnitude = 0.0
      v.validity.words.withUnsafeBufferPointer { valid in
        batch.rows.withUnsafeBufferPointer { pgsRows in
          for g in batch.groups {
            var count: Int32 = 0
            var sum = 0.0
            for p in g {
              let i = Int(pgsRows[p])
              let isPresent = (valid[i >> 6] >> UInt64(i & 63)) & 1 != 0
              let x = isPresent ? double(source[i]) : 0
              values[p] = x
              present[p] = isPresent ? 1 : 0
              priorCount[p] = count
              priorSum[p] = sum
              count += isPresent ? 1 : 0
              sum += x
              integral = integral && x.rounded(.towardZero) == x
              magnitude += x.magnitude
            }
          }
        }
      }
      return integral && magnitude <= 0x1p52
    }
    exact = v.withValues { values in
      switch values {
      case .int32(let b): fill(b) { Double($0) }
      case .double(let b): fill(b) { $0 }
      }
    }
  }
}

/// The output rows of one season as the column passes read them: in target order (ascending
/// batch position, so the passes read the lane arrays front to back), each row's output
/// date, group start and history end, and per window the first position of the
/// window (the window is `lo..<historyEnd`).
///
/// Why target order and not output order: output order is by date, so consecutive output rows
/// belong to different players and their histories lie far apart in the lane arrays; reading
/// them in that order stalled on a cache miss per cell. In target order the reads stream and
/// the results go to a staging column in the same order; a gather then moves it into output
/// order (independent loads from a buffer in L2, which overlap, where scattered stores queued).
struct OutputRows {
  let count: Int
  var date: [Int32]
  var start: [Int32]
  var end: [Int32]
  /// Per `plan.flatWindows` entry.
  var lo: [[Int32]]

  init(_ batch: Batch, targets: [Int32], order: [Int32], windows: [Plan.FlatWindow]) {
    count = targets.count
    let date = targets.map { batch.dates[Int($0)] }
    let start = targets.map { batch.groupStart[Int($0)] }
    let end = targets.map { batch.historyEnd[Int($0)] }
    let n = count
    lo = batch.dates.withUnsafeBufferPointer { dates in
      windows.map { w in
        [Int32](unsafeUninitializedCapacity: n) { out, initialized in
          for k in 0..<n {
            let r = w.window.bounds(dates: dates.baseAddress!, start: Int(start[k]), end: Int(end[k]), date: date[k])
            out[k] = Int32(r.lowerBound)
          }
          initialized = n
        }
      }
    }
    self.date = date
    self.start = start
    self.end = end
  }
}

/// Validity bits written in row order, a word at a time.
struct BitWriter {
  let words: UnsafeMutablePointer<UInt64>
  var word: UInt64 = 0
  var k = 0

  @inline(__always)
  mutating func append(_ bit: Bool) {
    word |= (bit ? 1 : 0) << UInt64(k & 63)
    k += 1
    if k & 63 == 0 {
      words[(k >> 6) - 1] = word
      word = 0
    }
  }

  mutating func finish() {
    if k & 63 != 0 { words[k >> 6] = word }
  }
}

extension FeatureEngine {
  /// Every window and schedule column of one season, by builder index, as the declared types.
  func computeColumns(_ p: FeatureRun.SeasonPlan, prepared: Prepared) -> [AnyColumn] {
    let plan = self.plan
    let rows = OutputRows(p.batch, targets: p.targets, order: p.order, windows: plan.flatWindows)
    var lane = LaneColumn(rows: p.batch.rows.count)
    defer { lane.deallocate() }
    var types = [ColumnType](repeating: .float64, count: plan.builderCount)
    for (ci, c) in spec.columns.enumerated() { if let b = plan.builderIndex[ci] { types[b] = c.type } }

    var out = [AnyColumn?](repeating: nil, count: plan.builderCount)
    let n = rows.count
    let wordCount = (n + 63) / 64
    // Each pass writes its values and validity in target order here; `emit` gathers them
    // into output order, straight into the column's final array.
    let staging = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, n))
    defer { staging.deallocate() }
    let stagingBits = UnsafeMutablePointer<UInt64>.allocate(capacity: Swift.max(1, wordCount))
    defer { stagingBits.deallocate() }

    func emit(_ builder: Int, _ pass: (UnsafeMutablePointer<Double>, inout BitWriter) -> Void) {
      var writer = BitWriter(words: stagingBits)
      pass(staging, &writer)
      writer.finish()
      // Output row k is target order[k].
      let validity = p.order.withUnsafeBufferPointer { order in
        let words = [UInt64](unsafeUninitializedCapacity: wordCount) { w, c in
          var k = 0
          while k < n {
            let m = Swift.min(64, n - k)
            var word: UInt64 = 0
            for j in 0..<m {
              let t = Int(order[k + j])
              word |= ((stagingBits[t >> 6] >> UInt64(t & 63)) & 1) << UInt64(j)
            }
            w[k >> 6] = word
            k += 64
          }
          c = wordCount
        }
        return words.withUnsafeBufferPointer { Gather.bitmap($0, count: n) }
      }
      func gather<T>(_ convert: (Double) -> T) -> [T] {
        p.order.withUnsafeBufferPointer { order in
          [T](unsafeUninitializedCapacity: n) { b, c in
            for k in 0..<n { b[k] = convert(staging[Int(order[k])]) }
            c = n
          }
        }
      }
      switch types[builder] {
      case .int32: out[builder] = .int32(Column(values: gather { Int32($0) }, validity: validity))
      case .bool: out[builder] = .bool(Column(values: gather { $0 != 0 }, validity: validity))
      default: out[builder] = .float64(Column(values: gather { $0 }, validity: validity))
      }
    }

    rows.end.withUnsafeBufferPointer { end in
      // Lane by lane (−1: columns that count games and read no lane), every window column of the lane.
      for l in -1..<plan.lanes.count {
        if l >= 0 { lane.fill(lane: l, p.batch, prepared: prepared) }
        for (wi, w) in plan.windows.enumerated() {
          let isSeason = w.window.kind == .season
          rows.lo[wi].withUnsafeBufferPointer { lo in
            for u in w.uses where u.lane == l {
              emit(u.builder) { values, bits in
                Self.windowPass(
                  u.aggregate, lane: l >= 0 ? lane : nil, minPeriods: Double(u.minPeriods), seasonWindow: isSeason,
                  lo: lo.baseAddress!, hi: end.baseAddress!, n: n, out: values, bits: &bits)
              }
            }
          }
        }
      }
      rows.start.withUnsafeBufferPointer { start in
        rows.date.withUnsafeBufferPointer { date in
          p.batch.dates.withUnsafeBufferPointer { dates in
            for s in plan.schedule {
              emit(s.builder) { values, bits in
                for k in 0..<n {
                  let hi = Int(end[k])
                  let rest: Int32? = hi > Int(start[k]) ? date[k] - dates[hi - 1] : nil
                  switch s.measure {
                  case .daysRest:
                    values[k] = rest.map(Double.init) ?? 0
                    bits.append(rest != nil)
                  case .backToBack:
                    values[k] = rest == 1 ? 1 : 0
                    bits.append(true)
                  }
                }
              }
            }
          }
        }
      }
    }
    return out.map { $0! }
  }

  /// One window column: for target k, the aggregate of `lane` (nil: the number of games) over
  /// positions lo[k]..<hi[k], or NULL (value +0.0, bit clear) unless the window holds at least
  /// `minPeriods` values and the aggregate is defined.
  static func windowPass(
    _ aggregate: Aggregate, lane: LaneColumn?, minPeriods: Double, seasonWindow: Bool,
    lo: UnsafePointer<Int32>, hi: UnsafePointer<Int32>, n: Int, out: UnsafeMutablePointer<Double>,
    bits: inout BitWriter
  ) {
    @inline(__always) func put(_ k: Int, _ value: Double, _ valid: Bool) {
      out[k] = valid ? value : 0
      bits.append(valid)
    }
    guard let m = lane else {
      for k in 0..<n {
        let games = Double(hi[k] - lo[k])
        put(k, games, games >= minPeriods)
      }
      return
    }
    let values = m.values, present = m.present, priorCount = m.priorCount, priorSum = m.priorSum
    let exact = m.exact

    @inline(__always) func count(_ k: Int) -> Double { Double(priorCount[Int(hi[k])] - priorCount[Int(lo[k])]) }
    @inline(__always) func sum(_ k: Int) -> Double {
      let a = Int(lo[k]), b = Int(hi[k])
      if seasonWindow { return priorSum[b] }
      if exact { return priorSum[b] - priorSum[a] }
      var s = 0.0
      for r in a..<b { s += values[r] }
      return s
    }

    switch aggregate {
    case .count:
      for k in 0..<n {
        let c = count(k)
        put(k, c, c >= minPeriods)
      }
    case .sum:
      for k in 0..<n {
        let c = count(k)
        let valid = c >= minPeriods
        put(k, valid ? sum(k) : 0, valid)
      }
    case .mean:
      for k in 0..<n {
        let c = count(k)
        let valid = c >= minPeriods && c > 0
        put(k, valid ? sum(k) / c : 0, valid)
      }
    case .last:
      for k in 0..<n {
        var value: Double? = nil
        if count(k) >= minPeriods {
          // The newest present value of the window; none when every value is NULL.
          var r = Int(hi[k]) - 1
          let a = Int(lo[k])
          while r >= a {
            if present[r] != 0 {
              value = values[r]
              break
            }
            r -= 1
          }
        }
        put(k, value ?? 0, value != nil)
      }
    case .std, .slope:
      for k in 0..<n {
        let c = count(k)
        var value: Double? = nil
        if c >= minPeriods, c >= 2 {
          // ScalarKernel.moments, term for term.
          let a = Int(lo[k]), b = Int(hi[k])
          var positionSum = 0.0
          for r in a..<b where present[r] != 0 { positionSum += Double(r - a) }
          let mean = sum(k) / c, xMean = positionSum / c
          var m2 = 0.0, num = 0.0, den = 0.0
          for r in a..<b where present[r] != 0 {
            let d = values[r] - mean
            let dx = Double(r - a) - xMean
            m2 += d * d
            num += dx * d
            den += dx * dx
          }
          if aggregate == .std {
            value = (m2 / (c - 1)).squareRoot()
          } else if den != 0 {
            value = num / den
          }
        }
        put(k, value ?? 0, value != nil)
      }
    }
  }
}
