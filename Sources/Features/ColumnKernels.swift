import Columnar

// Column-at-a-time feature computation (`KernelChoice.columns`, the default).
//
// The row sweep (`FeatureEngine.sweep`) computes every window of one target before moving to
// the next, into a scratch row per target, and then transposes the scratch into columns in
// output order. Here each output column is one pass over the season's output rows, in output
// order, written straight into the array that becomes the output column: no scratch, no
// transposition, no type-conversion copy for float64 columns. The passes read a season's
// histories lane by lane (`LaneColumns`: one contiguous array per stat source), so a pass
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

/// One season's histories lane by lane, positions as in `Batch`. Whoever allocates it calls
/// `deallocate()`.
struct LaneColumns {
  let rows: Int
  let lanes: Int
  /// `lanes` × `rows`, lane-major: +0.0 where NULL.
  let values: UnsafeMutablePointer<Double>
  /// 1 where the value is present.
  let present: UnsafeMutablePointer<UInt8>
  /// Per position p: present values of its group before p, and their sum (oldest → newest from +0.0).
  let priorCount: UnsafeMutablePointer<Int32>
  let priorSum: UnsafeMutablePointer<Double>
  /// Per lane: whether window sums may be taken as differences of `priorSum` (file comment).
  var exact: [Bool]

  init(_ batch: Batch, prepared: Prepared) {
    let plan = prepared.plan
    rows = batch.rows.count
    lanes = plan.lanes.count
    let n = Swift.max(1, rows * lanes)
    values = .allocate(capacity: n)
    present = .allocate(capacity: n)
    priorCount = .allocate(capacity: n)
    priorSum = .allocate(capacity: n)
    exact = Array(repeating: false, count: lanes)
    for lane in 0..<lanes {
      let v = prepared.sources[plan.lanes[lane]]
      let base = lane * rows
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
                values[base + p] = x
                present[base + p] = isPresent ? 1 : 0
                priorCount[base + p] = count
                priorSum[base + p] = sum
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
      exact[lane] = v.withValues { values in
        switch values {
        case .int32(let b): fill(b) { Double($0) }
        case .double(let b): fill(b) { $0 }
        }
      }
    }
  }

  func deallocate() {
    values.deallocate()
    present.deallocate()
    priorCount.deallocate()
    priorSum.deallocate()
  }
}

/// The output rows of one season as the column passes read them: in target order (ascending
/// batch position, so the passes read the lane arrays front to back), each row's output
/// position, date, group start and history end, and per window the first position of the
/// window (the window is `lo..<historyEnd`).
///
/// Why target order and not output order: output order is by date, so consecutive output rows
/// belong to different players and their histories lie far apart in the lane arrays; reading
/// them in that order stalled on a cache miss per cell. In target order the reads stream and
/// the writes scatter into one output column (a few hundred KB, in L2), and stores do not stall.
struct OutputRows {
  let count: Int
  /// Output row of each target.
  var output: [Int32]
  var date: [Int32]
  var start: [Int32]
  var end: [Int32]
  /// Per `plan.flatWindows` entry.
  var lo: [[Int32]]

  init(_ batch: Batch, targets: [Int32], order: [Int32], windows: [Plan.FlatWindow]) {
    count = targets.count
    var output = [Int32](repeating: 0, count: count)
    for (k, o) in order.enumerated() { output[Int(o)] = Int32(k) }
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
    self.output = output
    self.date = date
    self.start = start
    self.end = end
  }
}

/// Validity bits set at scattered output rows; the words start cleared.
struct BitSetter {
  let words: UnsafeMutablePointer<UInt64>

  @inline(__always)
  func set(_ k: Int, _ bit: Bool) {
    words[k >> 6] |= (bit ? 1 : 0) << UInt64(k & 63)
  }
}

extension FeatureEngine {
  /// Every window and schedule column of one season, by builder index, as the declared types.
  func computeColumns(_ p: FeatureRun.SeasonPlan, prepared: Prepared) -> [AnyColumn] {
    let plan = self.plan
    let rows = OutputRows(p.batch, targets: p.targets, order: p.order, windows: plan.flatWindows)
    let lanes = LaneColumns(p.batch, prepared: prepared)
    defer { lanes.deallocate() }
    var types = [ColumnType](repeating: .float64, count: plan.builderCount)
    for (ci, c) in spec.columns.enumerated() { if let b = plan.builderIndex[ci] { types[b] = c.type } }

    var out = [AnyColumn?](repeating: nil, count: plan.builderCount)
    let n = rows.count
    let wordCount = (n + 63) / 64
    // int32 and bool columns are computed as Doubles into this buffer, then converted.
    let staging = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, n))
    defer { staging.deallocate() }
    var words = [UInt64](repeating: 0, count: Swift.max(1, wordCount))

    /// Runs `pass` into the column's final storage and wraps it as `type`.
    func emit(_ builder: Int, _ pass: (UnsafeMutablePointer<Double>, BitSetter) -> Void) {
      let type = types[builder]
      for i in words.indices { words[i] = 0 }
      let validity: ValidityBitmap
      let column: AnyColumn
      switch type {
      case .int32, .bool:
        words.withUnsafeMutableBufferPointer { pass(staging, BitSetter(words: $0.baseAddress!)) }
        validity = words.withUnsafeBufferPointer { Gather.bitmap(UnsafeBufferPointer(rebasing: $0[0..<wordCount]), count: n) }
        if type == .int32 {
          let values = [Int32](unsafeUninitializedCapacity: n) { b, c in
            for k in 0..<n { b[k] = Int32(staging[k]) }
            c = n
          }
          column = .int32(Column(values: values, validity: validity))
        } else {
          let values = [Bool](unsafeUninitializedCapacity: n) { b, c in
            for k in 0..<n { b[k] = staging[k] != 0 }
            c = n
          }
          column = .bool(Column(values: values, validity: validity))
        }
      default:
        let values = [Double](unsafeUninitializedCapacity: n) { b, c in
          if n > 0 { words.withUnsafeMutableBufferPointer { pass(b.baseAddress!, BitSetter(words: $0.baseAddress!)) } }
          c = n
        }
        validity = words.withUnsafeBufferPointer { Gather.bitmap(UnsafeBufferPointer(rebasing: $0[0..<wordCount]), count: n) }
        column = .float64(Column(values: values, validity: validity))
      }
      out[builder] = column
    }

    rows.end.withUnsafeBufferPointer { end in
     rows.output.withUnsafeBufferPointer { output in
      for (wi, w) in plan.windows.enumerated() {
        let isSeason = w.window.kind == .season
        rows.lo[wi].withUnsafeBufferPointer { lo in
          for u in w.uses {
            let lane = u.lane
            emit(u.builder) { values, bits in
              Self.windowPass(
                u.aggregate, lane: lane, minPeriods: Double(u.minPeriods), lanes: lanes, seasonWindow: isSeason,
                lo: lo.baseAddress!, hi: end.baseAddress!, at: output.baseAddress!, n: n, out: values, bits: bits)
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
                  let hi = Int(end[k]), o = Int(output[k])
                  let rest: Int32? = hi > Int(start[k]) ? date[k] - dates[hi - 1] : nil
                  switch s.measure {
                  case .daysRest:
                    values[o] = rest.map(Double.init) ?? 0
                    bits.set(o, rest != nil)
                  case .backToBack:
                    values[o] = rest == 1 ? 1 : 0
                    bits.set(o, true)
                  }
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

  /// One window column: for target k (output row at[k]), the aggregate of lane `lane` (−1: the
  /// number of games) over positions lo[k]..<hi[k], or NULL (value +0.0, bit clear) unless the
  /// window holds at least `minPeriods` values and the aggregate is defined.
  static func windowPass(
    _ aggregate: Aggregate, lane: Int, minPeriods: Double, lanes m: LaneColumns, seasonWindow: Bool,
    lo: UnsafePointer<Int32>, hi: UnsafePointer<Int32>, at: UnsafePointer<Int32>, n: Int, out: UnsafeMutablePointer<Double>,
    bits: BitSetter
  ) {
    @inline(__always) func put(_ k: Int, _ value: Double, _ valid: Bool) {
      let o = Int(at[k])
      out[o] = valid ? value : 0
      bits.set(o, valid)
    }
    guard lane >= 0 else {
      for k in 0..<n {
        let games = Double(hi[k] - lo[k])
        put(k, games, games >= minPeriods)
      }
      return
    }
    let base = lane * m.rows
    let values = m.values + base, present = m.present + base
    let priorCount = m.priorCount + base, priorSum = m.priorSum + base
    let exact = m.exact[lane]

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
