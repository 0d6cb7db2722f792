import Columnar

// Lane-at-a-time feature computation (`KernelChoice.columns`, the default).
//
// The row sweep (`FeatureEngine.sweep`) computes every window of every lane for one target
// before moving to the next, into a scratch row of all 49 computed columns per target (≈ 9 MB
// per season, fresh memory), then transposes the scratch into columns. Here the season is
// taken one lane (stat source) at a time: the lane is laid out in one reused buffer
// (`LaneColumn`, ≈ 0.5 MB, warm in L2), one pass over the targets computes every window column
// of that lane into a narrow row per target (≈ 6 columns), and one gather moves those rows into
// output order, straight into the arrays that become the output columns.
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

/// The output rows of one season as the lane passes read them: in target order (ascending
/// batch position, so the passes read the lane buffer front to back), each row's date, group
/// start and history end, and per window the first position of the window (the window is
/// `lo..<historyEnd`).
///
/// Why target order and not output order: output order is by date, so consecutive output rows
/// belong to different players and their histories lie far apart in the lane buffer; a first
/// version read them in that order and stalled on a cache miss per cell. In target order the
/// reads stream, and the gather into output order is independent loads (which overlap), one
/// cache line per target serving all of a lane's columns.
struct OutputRows {
  let count: Int
  var date: [Int32]
  var start: [Int32]
  var end: [Int32]
  /// Window w's first positions are `lo + w * count`; owned here (`deallocate()`), so the
  /// passes can hold plain pointers into it.
  let lo: UnsafeMutablePointer<Int32>

  init(_ batch: Batch, targets: [Int32], order: [Int32], windows: [Plan.FlatWindow]) {
    count = targets.count
    let date = targets.map { batch.dates[Int($0)] }
    let start = targets.map { batch.groupStart[Int($0)] }
    let end = targets.map { batch.historyEnd[Int($0)] }
    let n = count
    let lo = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(1, windows.count * n))
    batch.dates.withUnsafeBufferPointer { dates in
      for (wi, w) in windows.enumerated() {
        let out = lo + wi * n
        for k in 0..<n {
          let r = w.window.bounds(dates: dates.baseAddress!, start: Int(start[k]), end: Int(end[k]), date: date[k])
          out[k] = Int32(r.lowerBound)
        }
      }
    }
    self.lo = lo
    self.date = date
    self.start = start
    self.end = end
  }

  func deallocate() { lo.deallocate() }
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
    defer { rows.deallocate() }
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
    // Validity words in target order for `emit`; for a lane's columns, each column's words in
    // output order. Sized for the widest lane.
    let widestLane =
      plan.windows.reduce(into: [Int: Int]()) { c, w in for u in w.uses { c[u.lane, default: 0] += 1 } }.values.max()
      ?? 1
    let stagingBits = UnsafeMutablePointer<UInt64>.allocate(
      capacity: Swift.max(1, wordCount * Swift.max(1, widestLane)))
    defer { stagingBits.deallocate() }

    func emit(_ builder: Int, _ pass: (UnsafeMutablePointer<Double>, inout BitWriter) -> Void) {
      var writer = BitWriter(words: stagingBits)
      pass(staging, &writer)
      writer.finish()
      // Output row k is target order[k].
      let validity = p.order.withUnsafeBufferPointer { order in
        // No rows, no words: `[]` rather than an uninitialized array of capacity 0 (which
        // writes to the shared empty-array object; see ArrowFileReader.fixed).
        let words: [UInt64] =
          wordCount == 0
          ? []
          : [UInt64](unsafeUninitializedCapacity: wordCount) { w, c in
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
      case .int32: out[builder] = Int32Output.column(gather { $0 }, validity: validity)
      case .bool: out[builder] = .bool(Column(values: gather { $0 != 0 }, validity: validity))
      default: out[builder] = .float64(Column(values: gather { $0 }, validity: validity))
      }
    }

    // Lane by lane (−1: columns that count games and read no lane): every window column of
    // the lane in one pass, target by target, into a row per target; then one gather moves
    // the rows into output order, a cache line of a target's row serving all its columns.
    var byLane = [[(use: Plan.WindowUse, window: Int)]](repeating: [], count: plan.lanes.count + 1)
    for (wi, w) in plan.windows.enumerated() { for u in w.uses { byLane[u.lane + 1].append((u, wi)) } }
    let widest = byLane.map(\.count).max() ?? 0
    let rowValues = UnsafeMutablePointer<Double>.allocate(capacity: Swift.max(1, n * widest))
    defer { rowValues.deallocate() }
    let rowValid = UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(1, n * widest))
    defer { rowValid.deallocate() }
    let wordsOf = UnsafeMutablePointer<UInt64>.allocate(capacity: Swift.max(1, widest))
    defer { wordsOf.deallocate() }
    rows.end.withUnsafeBufferPointer { end in
      for l in -1..<plan.lanes.count where !byLane[l + 1].isEmpty {
        let group = byLane[l + 1]
        if l >= 0 { lane.fill(lane: l, p.batch, prepared: prepared) }
        let uses = group.map { g in
          LaneUse(
            aggregate: g.use.aggregate, minPeriods: Double(g.use.minPeriods),
            seasonWindow: plan.windows[g.window].window.kind == .season, lo: rows.lo + g.window * n)
        }
        uses.withUnsafeBufferPointer { u in
          Self.lanePass(u, lane: l >= 0 ? lane : nil, hi: end.baseAddress!, n: n, values: rowValues, valid: rowValid)
        }
        let width = group.count
        let gathered = p.order.withUnsafeBufferPointer { order in
          OutputColumns.build(count: width, rows: n) { columns in
            var k = 0
            while k < n {
              let m = Swift.min(64, n - k)
              for j in 0..<width { wordsOf[j] = 0 }
              for i in 0..<m {
                let t = Int(order[k + i])
                let row = rowValues + t * width, valid = rowValid + t * width
                for j in 0..<width {
                  columns[j][k + i] = row[j]
                  wordsOf[j] |= UInt64(valid[j]) << UInt64(i)
                }
              }
              for j in 0..<width { stagingBits[j * wordCount + k >> 6] = wordsOf[j] }
              k += 64
            }
          }
        }
        for (j, g) in group.enumerated() {
          let validity = Gather.bitmap(
            UnsafeBufferPointer(start: stagingBits + j * wordCount, count: wordCount), count: n)
          let b = g.use.builder
          switch types[b] {
          case .int32: out[b] = Int32Output.column(gathered[j], validity: validity)
          case .bool: out[b] = .bool(Column(values: gathered[j].map { $0 != 0 }, validity: validity))
          default: out[b] = .float64(Column(values: gathered[j], validity: validity))
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

  /// Every window column of one lane (nil: columns that count games), for every target k:
  /// column j over positions uses[j].lo[k]..<hi[k], into row k of `values`/`valid` (width
  /// `uses.count`): the aggregate, or NULL (+0.0, valid 0) unless the window holds at least
  /// `minPeriods` values and the aggregate is defined.
  static func lanePass(
    _ uses: UnsafeBufferPointer<LaneUse>, lane: LaneColumn?, hi: UnsafePointer<Int32>, n: Int,
    values out: UnsafeMutablePointer<Double>, valid: UnsafeMutablePointer<UInt8>
  ) {
    let width = uses.count
    guard let m = lane else {
      for k in 0..<n {
        for (j, u) in uses.enumerated() {
          let games = Double(hi[k] - u.lo[k])
          let ok = games >= u.minPeriods
          out[k * width + j] = ok ? games : 0
          valid[k * width + j] = ok ? 1 : 0
        }
      }
      return
    }
    let values = m.values, present = m.present, priorCount = m.priorCount, priorSum = m.priorSum
    let exact = m.exact
    for k in 0..<n {
      let b = Int(hi[k])
      let countHi = priorCount[b], sumHi = priorSum[b]
      for (j, u) in uses.enumerated() {
        let a = Int(u.lo[k])
        let c = Double(countHi - priorCount[a])
        @inline(__always) func sum() -> Double {
          if u.seasonWindow { return sumHi }
          if exact { return sumHi - priorSum[a] }
          var s = 0.0
          for r in a..<b { s += values[r] }
          return s
        }
        var value: Double? = nil
        switch u.aggregate {
        case .count:
          if c >= u.minPeriods { value = c }
        case .sum:
          if c >= u.minPeriods { value = sum() }
        case .mean:
          if c >= u.minPeriods, c > 0 { value = sum() / c }
        case .last:
          if c >= u.minPeriods {
            // The newest present value of the window; none when every value is NULL.
            var r = b - 1
            while r >= a {
              if present[r] != 0 {
                value = values[r]
                break
              }
              r -= 1
            }
          }
        case .std, .slope:
          if c >= u.minPeriods, c >= 2 {
            // ScalarKernel.moments, term for term.
            var positionSum = 0.0
            for r in a..<b where present[r] != 0 { positionSum += Double(r - a) }
            let mean = sum() / c, xMean = positionSum / c
            var m2 = 0.0, num = 0.0, den = 0.0
            for r in a..<b where present[r] != 0 {
              let d = values[r] - mean
              let dx = Double(r - a) - xMean
              m2 += d * d
              num += dx * d
              den += dx * dx
            }
            if u.aggregate == .std {
              value = (m2 / (c - 1)).squareRoot()
            } else if den != 0 {
              value = num / den
            }
          }
        }
        out[k * width + j] = value ?? 0
        valid[k * width + j] = value != nil ? 1 : 0
      }
    }
  }
}

/// One window column as `lanePass` reads it.
struct LaneUse {
  var aggregate: Aggregate
  var minPeriods: Double
  var seasonWindow: Bool
  /// Per target, the first position of the window.
  var lo: UnsafePointer<Int32>
}
