// Rolling-window kernels for features-props-v1.md ("Feature columns").
//
// One window of one player's history is reduced for up to 8 stat sources at once: lane k of a
// `SIMD8<Double>` is source k, rows are games oldest → newest. NULLs come from the validity
// bitmaps as a per-row lane mask, never from NaN: a NULL lane contributes nothing.
//
// Every float reduction runs oldest → newest over the window's own games (no prefix sums, no
// running updates), so a value depends only on the window's contents and never on how much
// history came before; the scalar kernel uses the identical order and formulas, so both agree
// bit for bit:
//   count = number of non-NULL values          sum = Σ v
//   mean  = sum / count                        m2  = Σ (v − mean)²      std = √(m2 / (count − 1))
//   x = position in the window (0 = oldest game), x̄ = Σ x / count
//   slope = Σ (x − x̄)(v − mean) / Σ (x − x̄)²   (ordinary least squares)
// Accumulators start at +0.0 and a masked lane adds +0.0, which leaves any sum unchanged,
// so skipping a NULL (scalar) and adding zero for it (SIMD) give the same bits.

/// Per-lane results of one window; `count` in lanes as Double so it divides without conversion.
public struct LaneStats: Equatable, Sendable {
  public var count = SIMD8<Double>()
  public var sum = SIMD8<Double>()
  public var last = SIMD8<Double>()
  public var hasLast = SIMD8<Int64>()
  public var m2 = SIMD8<Double>()
  public var slopeNumerator = SIMD8<Double>()
  public var slopeDenominator = SIMD8<Double>()
  public init() {}
}

/// A window's games for up to 8 sources: `values[r]` holds game r's lanes, bit k of
/// `validBits[r]` says whether lane k is present.
public struct LaneBlock: Sendable {
  public var values: [SIMD8<Double>] = []
  public var validBits: [UInt8] = []
  public init() {}
}

public enum KernelChoice: String, Sendable, CaseIterable {
  case simd, scalar
}

enum WindowKernel {
  static let laneBits = SIMD8<Int64>(1, 2, 4, 8, 16, 32, 64, 128)

  /// SIMD reduction of rows `range` of `block`. `moments` asks for m2 and the slope sums.
  @inline(__always)
  static func simd(_ block: LaneBlock, _ range: Range<Int>, moments: Bool) -> LaneStats {
    var s = LaneStats()
    guard !range.isEmpty else { return s }
    let zero = SIMD8<Double>()
    let one = SIMD8<Double>(repeating: 1)
    var positionSum = SIMD8<Double>()
    block.values.withUnsafeBufferPointer { values in
      block.validBits.withUnsafeBufferPointer { bits in
        // Safe: callers pass a range inside the block (FeatureWindow.bounds clamps to it).
        precondition(range.lowerBound >= 0 && range.upperBound <= values.count && values.count == bits.count)
        var hasLast = SIMDMask<SIMD8<Int64>>()
        for r in range {
          let valid = (SIMD8<Int64>(repeating: Int64(bits[r])) & laneBits) .!= 0
          let v = values[r]
          s.count += one.replacing(with: zero, where: .!valid)
          s.sum += v.replacing(with: zero, where: .!valid)
          s.last.replace(with: v, where: valid)
          hasLast .|= valid
          if moments {
            positionSum += SIMD8<Double>(repeating: Double(r - range.lowerBound)).replacing(with: zero, where: .!valid)
          }
        }
        s.hasLast = SIMD8<Int64>().replacing(with: 1, where: hasLast)
        guard moments else { return }
        let mean = s.sum / s.count
        let xMean = positionSum / s.count
        for r in range {
          let valid = (SIMD8<Int64>(repeating: Int64(bits[r])) & laneBits) .!= 0
          let d = (values[r] - mean).replacing(with: zero, where: .!valid)
          let dx = (SIMD8<Double>(repeating: Double(r - range.lowerBound)) - xMean).replacing(with: zero, where: .!valid)
          s.m2 += d * d
          s.slopeNumerator += dx * d
          s.slopeDenominator += dx * dx
        }
      }
    }
    return s
  }

  /// The same reduction with plain loops, lane by lane: the reference the SIMD kernel is
  /// measured and checked against.
  /// Adds rows `range` to `s` with exactly the operations of `simd`'s first pass (count, sum,
  /// last), so extending a running total gives the bits a fresh pass over the whole range gives.
  @inline(__always)
  static func extend(_ block: LaneBlock, _ range: Range<Int>, into s: inout LaneStats) {
    guard !range.isEmpty else { return }
    let zero = SIMD8<Double>()
    let one = SIMD8<Double>(repeating: 1)
    block.values.withUnsafeBufferPointer { values in
      block.validBits.withUnsafeBufferPointer { bits in
        precondition(range.lowerBound >= 0 && range.upperBound <= values.count && values.count == bits.count)
        for r in range {
          let valid = (SIMD8<Int64>(repeating: Int64(bits[r])) & laneBits) .!= 0
          let v = values[r]
          s.count += one.replacing(with: zero, where: .!valid)
          s.sum += v.replacing(with: zero, where: .!valid)
          s.last.replace(with: v, where: valid)
          s.hasLast.replace(with: 1, where: valid)
        }
      }
    }
  }

  static func scalar(_ block: LaneBlock, _ range: Range<Int>, moments: Bool) -> LaneStats {
    var s = LaneStats()
    for lane in 0..<8 {
      var count = 0.0, sum = 0.0, positionSum = 0.0
      var last = 0.0, hasLast = false
      for r in range where block.validBits[r] & (1 << lane) != 0 {
        count += 1
        sum += block.values[r][lane]
        last = block.values[r][lane]
        hasLast = true
        positionSum += Double(r - range.lowerBound)
      }
      s.count[lane] = count
      s.sum[lane] = sum
      s.last[lane] = last
      s.hasLast[lane] = hasLast ? 1 : 0
      guard moments, count > 0 else { continue }
      let mean = sum / count, xMean = positionSum / count
      var m2 = 0.0, num = 0.0, den = 0.0
      for r in range where block.validBits[r] & (1 << lane) != 0 {
        let d = block.values[r][lane] - mean
        let dx = Double(r - range.lowerBound) - xMean
        m2 += d * d
        num += dx * d
        den += dx * dx
      }
      s.m2[lane] = m2
      s.slopeNumerator[lane] = num
      s.slopeDenominator[lane] = den
    }
    return s
  }
}

extension FeatureWindow {
  /// The games of a history (dates ascending, `historyEnd` = number of games strictly before
  /// `date`) that this window covers. The point-in-time rule lives here: no window reaches
  /// past `historyEnd`.
  @inline(__always)
  func bounds(dates: UnsafeBufferPointer<Int32>, historyEnd: Int, date: Int32) -> Range<Int> {
    switch kind {
    case .season:
      return 0..<historyEnd
    case .lastGames:
      return Swift.max(0, historyEnd - n)..<historyEnd
    case .lastDays:
      var lo = historyEnd
      let first = date - Int32(n)
      while lo > 0, dates[lo - 1] >= first { lo -= 1 }
      return lo..<historyEnd
    }
  }
}

/// Index of the first element ≥ `value` in ascending `dates`: the number of games strictly
/// before that date.
@inline(__always)
func lowerBound(_ dates: UnsafeBufferPointer<Int32>, _ value: Int32) -> Int {
  var lo = 0, hi = dates.count
  while lo < hi {
    let mid = (lo + hi) / 2
    if dates[mid] < value { lo = mid + 1 } else { hi = mid }
  }
  return lo
}
