import Columnar

/// Per-column statistics stored in the manifest; `Differ` compares them.
///
/// Numeric columns (int32, int64, float64, bool as 0/1, date32 as days since 1970-01-01) get
/// min, max, mean, population standard deviation and a histogram. utf8 columns get only the
/// null count and the number of distinct values.
///
/// Histogram decision (the spec asks for "fixed bins" but fixes no range): each snapshot stores
/// `ColumnStats.histogramBins` (100) equal-width bins over its own [min, max]. Two snapshots'
/// bins differ in edges, so `Differ` re-bins both onto one common grid spanning the union of
/// the two ranges (`Differ.commonBins` bins), placing each fine bin's count at its midpoint.
/// The placement error is at most half a fine bin (0.5 % of a snapshot's range), and a
/// snapshot compared with itself re-bins identically, so its PSI is exactly 0.
public struct ColumnStats: Codable, Sendable, Equatable {
  public static let histogramBins = 100

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

  /// Equal-width bins over [lower, upper]; the last bin is closed on the right. When
  /// lower == upper every value is in the single bin.
  public struct Histogram: Codable, Sendable, Equatable {
    public var lower: Double
    public var upper: Double
    public var counts: [Int]

    public init(lower: Double, upper: Double, counts: [Int]) {
      self.lower = lower
      self.upper = upper
      self.counts = counts
    }

    /// The bin `value` falls in, for a histogram of `bins` bins over [lower, upper].
    static func bin(of value: Double, lower: Double, upper: Double, bins: Int) -> Int {
      guard upper > lower else { return 0 }
      let i = Int(((value - lower) / (upper - lower) * Double(bins)).rounded(.down))
      return Swift.min(Swift.max(i, 0), bins - 1)
    }

    /// The midpoint of fine bin `i`.
    func midpoint(_ i: Int) -> Double {
      guard counts.count > 1, upper > lower else { return lower }
      let width = (upper - lower) / Double(counts.count)
      return lower + (Double(i) + 0.5) * width
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
    let bins = hi > lo ? histogramBins : 1
    var counts = [Int](repeating: 0, count: bins)
    for v in values { counts[Histogram.bin(of: v, lower: lo, upper: hi, bins: bins)] += 1 }
    return ColumnStats(nullCount: nulls, nonFiniteCount: nonFinite, min: lo, max: hi, mean: mean, std: std,
                       distinctCount: nil, histogram: Histogram(lower: lo, upper: hi, counts: counts))
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
