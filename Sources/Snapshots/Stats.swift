import Foundation
import Columnar

/// Per-column statistics stored in the manifest; `Differ` compares them.
///
/// Numeric columns (int32, int64, float64, bool as 0/1, date32 as days since 1970-01-01) get
/// min, max, mean, population standard deviation and a histogram. utf8 columns get only the
/// null count and the number of distinct values.
///
/// Histogram decision (the spec asks for "fixed bins" but fixes no range): bins have a width
/// that is a power of two, 2^k, and sit on multiples of it: bin j covers [j·2^k, (j+1)·2^k).
/// k is the smallest with at most 64 bins over the column's [min, max]. Any two such grids are
/// nested (a bin of the coarser one is exactly 2^(k1−k2) bins of the finer one), so `Differ`
/// merges both snapshots' bins onto one common grid with no approximation at all, whatever
/// each snapshot's range. Integer-valued columns keep each integer in its own bin as long as
/// the range allows, and equal inputs give equal histograms, so a self-diff has PSI 0.
public struct ColumnStats: Codable, Sendable, Equatable {
  public var nullCount: Int
  /// NaN and ±infinity in float64 columns: excluded from min/max/mean/std/histogram (JSON has
  /// no spelling for them) and counted here instead.
  public var nonFiniteCount: Int
  public var min: Double?
  public var max: Double?
  public var mean: Double?
  public var std: Double?
  public var distinctCount: Int?
  public var histogram: Histogram?

  enum CodingKeys: String, CodingKey {
    case nullCount = "null_count"
    case nonFiniteCount = "non_finite_count"
    case min, max, mean, std
    case distinctCount = "distinct_count"
    case histogram
  }

  public init(nullCount: Int, nonFiniteCount: Int, min: Double?, max: Double?, mean: Double?, std: Double?,
              distinctCount: Int?, histogram: Histogram?) {
    self.nullCount = nullCount
    self.nonFiniteCount = nonFiniteCount
    self.min = min
    self.max = max
    self.mean = mean
    self.std = std
    self.distinctCount = distinctCount
    self.histogram = histogram
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(nullCount, forKey: .nullCount)
    try c.encode(nonFiniteCount, forKey: .nonFiniteCount)
    try c.encode(min, forKey: .min)
    try c.encode(max, forKey: .max)
    try c.encode(mean, forKey: .mean)
    try c.encode(std, forKey: .std)
    try c.encode(distinctCount, forKey: .distinctCount)
    try c.encode(histogram, forKey: .histogram)
  }

  /// Bins of width 2^`widthLog2` starting at bin index `firstBin`: bin i covers
  /// [(firstBin+i)·2^widthLog2, (firstBin+i+1)·2^widthLog2).
  public struct Histogram: Codable, Sendable, Equatable {
    public static let maxBins = 64
    public var widthLog2: Int
    public var firstBin: Int
    public var counts: [Int]

    enum CodingKeys: String, CodingKey {
      case widthLog2 = "width_log2"
      case firstBin = "first_bin"
      case counts
    }

    public init(widthLog2: Int, firstBin: Int, counts: [Int]) {
      self.widthLog2 = widthLog2
      self.firstBin = firstBin
      self.counts = counts
    }

    /// 2^k, exact for the clamped range of k.
    static func width(_ k: Int) -> Double { Double(sign: .plus, exponent: k, significand: 1) }

    /// Index of the bin holding `v` on the grid of width 2^k (division by a power of two is
    /// exact, so the floor is too).
    static func index(of v: Double, widthLog2 k: Int) -> Int { Int((v / width(k)).rounded(.down)) }

    /// The smallest k giving at most `maxBins` bins over [lo, hi], and bin indices that fit in
    /// an Int with room to spare.
    static func widthLog2(lo: Double, hi: Double) -> Int {
      var k = hi > lo ? Int((log2((hi - lo) / Double(maxBins))).rounded(.up)) : 0
      k = Swift.min(Swift.max(k, -1000), 1000)
      while index(of: hi, widthLog2: k) - index(of: lo, widthLog2: k) + 1 > maxBins { k += 1 }
      while Swift.max(abs(lo), abs(hi)) / width(k) >= 0x1p52 { k += 1 }
      return k
    }

    static func make(_ values: [Double], lo: Double, hi: Double) -> Histogram {
      let k = widthLog2(lo: lo, hi: hi)
      let first = index(of: lo, widthLog2: k)
      var counts = [Int](repeating: 0, count: index(of: hi, widthLog2: k) - first + 1)
      for v in values { counts[index(of: v, widthLog2: k) - first] += 1 }
      return Histogram(widthLog2: k, firstBin: first, counts: counts)
    }

    /// Counts by bin index on the coarser grid 2^k (k ≥ widthLog2): each bin moves whole.
    func coarsened(to k: Int) -> [Int: Int] {
      precondition(k >= widthLog2, "can only merge onto a coarser grid")
      let shift = k - widthLog2
      var out: [Int: Int] = [:]
      for (i, n) in counts.enumerated() where n > 0 {
        // Arithmetic shift is floor division by 2^shift, also for negative indices.
        out[(firstBin + i) >> shift, default: 0] += n
      }
      return out
    }
  }

  /// Statistics of one column over all of a snapshot's tables, in table order then row order
  /// (sums in a fixed order, so the figures are reproducible bit for bit).
  public static func compute(_ columns: [AnyColumn]) -> ColumnStats {
    var nulls = 0
    var nonFinite = 0
    guard let first = columns.first else {
      return ColumnStats(nullCount: 0, nonFiniteCount: 0, min: nil, max: nil, mean: nil, std: nil, distinctCount: nil, histogram: nil)
    }
    if case .utf8 = first {
      var distinct = Set<String>()
      for case .utf8(let c) in columns {
        for i in 0..<c.count {
          if let s = c[i] { distinct.insert(s) } else { nulls += 1 }
        }
      }
      return ColumnStats(nullCount: nulls, nonFiniteCount: 0, min: nil, max: nil, mean: nil, std: nil,
                         distinctCount: distinct.count, histogram: nil)
    }
    var values: [Double] = []
    for column in columns {
      values.reserveCapacity(values.count + column.count)
      for i in 0..<column.count {
        guard let v = column.numericValue(at: i) else { nulls += 1; continue }
        guard v.isFinite else { nonFinite += 1; continue }
        values.append(v)
      }
    }
    guard !values.isEmpty else {
      return ColumnStats(nullCount: nulls, nonFiniteCount: nonFinite, min: nil, max: nil, mean: nil, std: nil,
                         distinctCount: nil, histogram: nil)
    }
    var lo = values[0], hi = values[0], sum = 0.0
    for v in values {
      lo = Swift.min(lo, v)
      hi = Swift.max(hi, v)
      sum += v
    }
    let mean = sum / Double(values.count)
    // Two-pass variance (population, divide by n): numerically safer than sum of squares.
    var squares = 0.0
    for v in values { squares += (v - mean) * (v - mean) }
    let std = (squares / Double(values.count)).squareRoot()
    return ColumnStats(nullCount: nulls, nonFiniteCount: nonFinite, min: lo, max: hi, mean: mean, std: std,
                       distinctCount: nil, histogram: Histogram.make(values, lo: lo, hi: hi))
  }

  /// Stats for every column of `tables` (which share one schema), keyed by column name.
  public static func compute(tables: [Table]) -> [String: ColumnStats] {
    guard let first = tables.first else { return [:] }
    var out: [String: ColumnStats] = [:]
    for (index, field) in first.fields.enumerated() {
      out[field.name] = compute(tables.map { $0.columns[index] })
    }
    return out
  }
}
