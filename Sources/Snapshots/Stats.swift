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

  public init(
    nullCount: Int, nonFiniteCount: Int, min: Double?, max: Double?, mean: Double?, std: Double?,
    distinctCount: Int?, histogram: Histogram?
  ) {
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
      // A range wider than the largest double (from near −max to near +max) is halved first,
      // so its logarithm stays finite instead of trapping on an infinite Int conversion.
      // A range of a few subnormals divided by 64 rounds to 0, whose logarithm is −infinity:
      // its logarithm is taken before the division instead (k is clamped to −1000 below).
      let range = hi - lo
      let scaled = range / Double(maxBins)
      let log =
        !range.isFinite
        ? log2(hi / 2 - lo / 2) + 1 - log2(Double(maxBins))
        : scaled > 0 || range == 0 ? log2(scaled) : log2(range) - log2(Double(maxBins))
      var k = hi > lo ? Int(log.rounded(.up)) : 0
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

    /// Why this histogram, read from a manifest, cannot be merged, or nil. `Differ` does index
    /// arithmetic with `firstBin`, `widthLog2` and the counts, so a hand edit or damage past
    /// what `make` can write (|k| ≤ ~1030, |bin index| < 2^52, at most `maxBins` bins) would
    /// overflow there; it is refused here instead. Counts are bounded by 2^53 in total (more
    /// rows than any file can hold) so no sum over them can overflow.
    public var problem: String? {
      guard (-1100...1100).contains(widthLog2) else { return "width_log2 is \(widthLog2), expected -1100…1100" }
      guard (1...Self.maxBins).contains(counts.count) else {
        return "counts has \(counts.count) bins, expected 1…\(Self.maxBins)"
      }
      guard (-(1 << 53)...(1 << 53)).contains(firstBin) else {
        return "first_bin is \(firstBin), expected within ±2^53"
      }
      var sum = 0
      for (i, n) in counts.enumerated() {
        guard n >= 0 else { return "counts[\(i)] is \(n), expected a count ≥ 0" }
        let (total, overflow) = sum.addingReportingOverflow(n)
        guard !overflow, total <= 1 << 53 else { return "counts add up to more than 2^53" }
        sum = total
      }
      return nil
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
    guard let first = columns.first else {
      return ColumnStats(
        nullCount: 0, nonFiniteCount: 0, min: nil, max: nil, mean: nil, std: nil, distinctCount: nil, histogram: nil)
    }
    var accumulator = Accumulator(isText: first.type == .utf8)
    for column in columns { accumulator.add(column) }
    return accumulator.finish()
  }

  /// Stats for every column of `tables` (which share one schema), keyed by column name.
  public static func compute(tables: [Table]) -> [String: ColumnStats] {
    guard let first = tables.first else { return [:] }
    var accumulator = TableAccumulator(fields: first.fields)
    for table in tables { accumulator.add(table) }
    return accumulator.finish()
  }

  /// One column's statistics gathered a chunk (a season's table) at a time, so a build never
  /// holds more than one season of features.
  ///
  /// Exactly what one pass over all values would give for null and non-finite counts, min,
  /// max and the histogram; the mean is the sum of the chunks' sums (each in row order), in
  /// chunk order, over the count (for one chunk exactly the one-pass mean). Each chunk's
  /// histogram is made on its own power-of-two grid, which nests in the final grid of the
  /// whole range (see `Histogram`), so re-binning it there is exact. The variance is merged
  /// chunk by chunk (Chan, Golub and LeVeque's pairwise update on each chunk's two-pass sum of
  /// squares), which is deterministic and, for a single chunk, the plain two-pass formula.
  public struct Accumulator: Sendable {
    let isText: Bool
    var nulls = 0
    var nonFinite = 0
    var distinct = DistinctStrings()
    var count = 0
    var sum = 0.0
    var lo = Double.infinity
    var hi = -Double.infinity
    var squares = 0.0
    var histograms: [Histogram] = []
    /// Chunks whose values are all equal, as (value, count): `Histogram.widthLog2` starts a
    /// zero-width range at k = 0, which can be coarser than the whole range's grid, so such a
    /// chunk is binned at the end instead.
    var constants: [(value: Double, count: Int)] = []

    public init(isText: Bool) { self.isText = isText }

    /// Adds one chunk: the same as merging `Accumulator(chunk:)` of it.
    public mutating func add(_ column: AnyColumn) { merge(Accumulator(chunk: column)) }

    /// One chunk's statistics. Chunks are independent, so writer threads compute them side by
    /// side; merging them in a fixed order keeps the result reproducible.
    ///
    /// Two passes over the column's own memory: the first counts NULLs and non-finite values
    /// and takes min, max and the sum in row order; the second, once the mean and the grid
    /// are known, sums the squares about the mean in row order and bins the values. Integer
    /// columns (int32, date32, bool) sum exactly in Int64 and bin by shifts. The figures are
    /// bit for bit those of gathering the values as doubles and running `Histogram.make` and
    /// the two-pass sums over them (the tests hold both to that reference).
    public init(chunk column: AnyColumn) {
      isText = column.type == .utf8
      switch column {
      case .utf8(let c):
        nulls = c.nullCount
        distinct.insert(c)
      case .int32(let c): gatherIntegers(c.values, c.validity) { Int64($0) }
      case .date32(let c): gatherIntegers(c.values, c.validity) { Int64($0.daysSinceEpoch) }
      case .bool(let c): gatherIntegers(c.values, c.validity) { $0 ? 1 : 0 }
      case .float64(let c): gatherDoubles(c.values, c.validity) { $0 }
      case .int64(let c): gatherDoubles(c.values, c.validity) { Double($0) }
      }
    }

    /// Records the figures of `count` finite values whose min, max and row-order sum are
    /// known; `squaresAndBins` gets the mean and, unless every value is equal, the chunk's
    /// grid to bin the values into, and returns their row-order sum of squares about the mean.
    private mutating func record(
      count: Int, lo: Double, hi: Double, sum: Double,
      _ squaresAndBins: (_ mean: Double, _ grid: inout Grid?) -> Double
    ) {
      guard count > 0 else { return }
      self.count = count
      self.sum = sum
      self.lo = lo
      self.hi = hi
      // A chunk's grid is never coarser than the whole range's when its range is not empty:
      // both start from ceil(log2(range / maxBins)) and grow under conditions that a
      // narrower range meets no later. An all-equal chunk is binned at `finish` instead.
      var grid: Grid? = lo == hi ? nil : Grid(lo: lo, hi: hi)
      squares = squaresAndBins(sum / Double(count), &grid)
      if var grid {
        histograms.append(Histogram(widthLog2: grid.k, firstBin: grid.first, counts: grid.takeCounts()))
      } else {
        constants.append((lo, count))
      }
    }

    /// int32, date32 and bool values, exactly representable as doubles.
    private mutating func gatherIntegers<E>(_ values: [E], _ validity: ValidityBitmap, _ convert: (E) -> Int64) {
      let n = values.count
      nulls = validity.nullCount
      let allValid = nulls == 0
      var count = 0, lo = Int64.max, hi = Int64.min, total: Int64 = 0
      values.withUnsafeBufferPointer { v in
        validity.words.withUnsafeBufferPointer { bits in
          for i in 0..<n where allValid || (bits[i &>> 6] &>> UInt64(i & 63)) & 1 != 0 {
            let x = convert(v[i])
            lo = Swift.min(lo, x)
            hi = Swift.max(hi, x)
            total &+= x
            count &+= 1
          }
        }
      }
      guard count > 0 else { return }
      // The row-order sum of doubles is exact, so equal to the Int64 sum, while no partial sum
      // passes 2^53 in magnitude, which count · max|x| ≤ 2^53 guarantees; past that, add the
      // doubles in row order as the definition does.
      let largest = UInt64(Swift.max(lo.magnitude, hi.magnitude))
      let (bound, overflow) = UInt64(count).multipliedReportingOverflow(by: largest)
      var sum = Double(total)
      if overflow || bound > 1 << 53 {
        sum = 0
        Self.forEachValid(values, validity) { sum += Double(convert($0)) }
      }
      record(count: count, lo: Double(lo), hi: Double(hi), sum: sum) { mean, grid in
        var squares = 0.0
        guard var g = grid else {
          Self.forEachValid(values, validity) { e in
            let v = Double(convert(e))
            squares += (v - mean) * (v - mean)
          }
          return squares
        }
        // Bin j of 2^k holds the x with floor(x / 2^k) = j: an arithmetic shift for k ≥ 0,
        // x · 2^-k for the few k < 0 (down to −6) that a narrow integer range gives.
        if (-8...62).contains(g.k) {
          let k = Int64(g.k), first = Int64(g.first)
          var table = 0
          Self.forEachValid(values, validity) { e in
            let x = convert(e)
            let v = Double(x)
            squares += (v - mean) * (v - mean)
            g.add(Int(truncatingIfNeeded: (k >= 0 ? x &>> k : x &<< -k) &- first), table: &table)
          }
        } else {
          var table = 0
          Self.forEachValid(values, validity) { e in
            let v = Double(convert(e))
            squares += (v - mean) * (v - mean)
            g.add(g.bin(v), table: &table)
          }
        }
        grid = g
        return squares
      }
    }

    /// float64 (and int64) values; NaN and ±infinity are counted and left out.
    private mutating func gatherDoubles<E>(_ values: [E], _ validity: ValidityBitmap, _ convert: (E) -> Double) {
      nulls = validity.nullCount
      var nonFinite = 0, count = 0
      var lo = Double.infinity, hi = -Double.infinity, sum = 0.0
      // Same comparisons as `Swift.min(lo, v)` and `Swift.max(hi, v)` from the first value,
      // so equal values that differ in sign (0.0 and -0.0) give the same min and max. From
      // ±infinity the first finite value wins both comparisons, as it would start them.
      Self.forEachValid(values, validity) { e in
        let v = convert(e)
        guard v.isFinite else {
          nonFinite &+= 1
          return
        }
        lo = v < lo ? v : lo
        hi = v >= hi ? v : hi
        sum += v
        count &+= 1
      }
      self.nonFinite = nonFinite
      let skipsNone = nulls == 0 && nonFinite == 0
      record(count: count, lo: lo, hi: hi, sum: sum) { mean, grid in
        var squares = 0.0
        guard var g = grid else {
          Self.forEachValid(values, validity) { e in
            let v = convert(e)
            guard skipsNone || v.isFinite else { return }
            squares += (v - mean) * (v - mean)
          }
          return squares
        }
        var table = 0
        Self.forEachValid(values, validity) { e in
          let v = convert(e)
          guard skipsNone || v.isFinite else { return }
          squares += (v - mean) * (v - mean)
          g.add(g.bin(v), table: &table)
        }
        grid = g
        return squares
      }
    }

    /// Calls `body` with each non-NULL value in row order: a word of 64 valid rows as a plain
    /// loop, any other word one set bit at a time (NULLs come in runs, at a season's start,
    /// so most words are all valid or all NULL).
    @inline(__always) private static func forEachValid<E>(
      _ values: [E], _ validity: ValidityBitmap, _ body: (E) -> Void
    ) {
      let allValid = validity.nullCount == 0
      values.withUnsafeBufferPointer { v in
        if allValid {
          for i in 0..<v.count { body(v[i]) }
          return
        }
        validity.words.withUnsafeBufferPointer { bits in
          // Bits past the count are zero (`ValidityBitmap`), so a full word is 64 rows.
          precondition(bits.count == (v.count + 63) / 64, "validity of \(bits.count) words for \(v.count) values")
          for w in 0..<bits.count {
            var word = bits[w]
            let base = w &<< 6
            if word == ~0 {
              for i in base..<base &+ 64 { body(v[i]) }
              continue
            }
            while word != 0 {
              body(v[base &+ word.trailingZeroBitCount])
              word &= word &- 1
            }
          }
        }
      }
    }

    /// A chunk's histogram grid while its values are binned: `Histogram.widthLog2` and
    /// `Histogram.index`, with the division by 2^k done as a multiplication by 2^-k (the same
    /// correctly rounded quotient, as 2^-k is exact for |k| ≤ 1000) and the floor by
    /// truncation and a correction, and the counts in fixed inline tables.
    struct Grid {
      var k: Int
      let first: Int
      let bins: Int
      let scale: Double
      /// Two tables of `Histogram.maxBins` counters (see `add`).
      var counts = InlineArray<128, Int>(repeating: 0)

      init(lo: Double, hi: Double) {
        k = Histogram.widthLog2(lo: lo, hi: hi)
        first = Histogram.index(of: lo, widthLog2: k)
        bins = Histogram.index(of: hi, widthLog2: k) - first + 1
        precondition((1...Histogram.maxBins).contains(bins), "histogram of \(bins) bins over [\(lo), \(hi)]")
        precondition(Histogram.maxBins == 64, "the two count tables hold 64 bins each")
        scale = (-1000...1000).contains(k) ? Double(sign: .plus, exponent: -k, significand: 1) : 0
      }

      /// The bin (relative to `first`) of a finite value within [lo, hi].
      @inline(__always) func bin(_ v: Double) -> Int {
        guard scale != 0 else { return Histogram.index(of: v, widthLog2: k) - first }
        let t = v * scale
        let i = Int(t)
        // Truncation rounds a negative fraction up; the correction is a 0/1 value, not a
        // branch, as the sign of t varies from value to value.
        return i &- Int(truncatingIfNeeded: (Double(i) > t).int) &- first
      }

      /// Counts a value into one of two tables, alternating (`table` is 0 or 64 and flips):
      /// runs of values in one bin are common (a rolling mean that holds still), and one
      /// counter taking every increment makes each wait for the last one's store.
      @inline(__always) mutating func add(_ bin: Int, table: inout Int) {
        precondition(UInt(bitPattern: bin) < UInt(bins), "value outside the histogram's [min, max]")
        let slot = bin &+ table
        table ^= 64
        counts[unchecked: slot] &+= 1
      }

      mutating func takeCounts() -> [Int] {
        (0..<bins).map { counts[$0] + counts[64 + $0] }
      }
    }

    /// Adds what `other` gathered after what this one has.
    public mutating func merge(_ other: Accumulator) {
      nulls += other.nulls
      nonFinite += other.nonFinite
      distinct.formUnion(other.distinct)
      guard other.count > 0 else { return }
      if count == 0 {
        squares = other.squares
      } else {
        // Chan, Golub and LeVeque: the sum of squares about the combined mean.
        let n = Double(count), m = Double(other.count)
        let delta = other.sum / m - sum / n
        squares += other.squares + delta * delta * n * m / (n + m)
      }
      sum += other.sum
      count += other.count
      lo = Swift.min(lo, other.lo)
      hi = Swift.max(hi, other.hi)
      histograms += other.histograms
      constants += other.constants
    }

    public func finish() -> ColumnStats {
      if isText {
        return ColumnStats(
          nullCount: nulls, nonFiniteCount: 0, min: nil, max: nil, mean: nil, std: nil,
          distinctCount: distinct.count, histogram: nil)
      }
      guard count > 0 else {
        return ColumnStats(
          nullCount: nulls, nonFiniteCount: nonFinite, min: nil, max: nil, mean: nil, std: nil,
          distinctCount: nil, histogram: nil)
      }
      let k = Histogram.widthLog2(lo: lo, hi: hi)
      let first = Histogram.index(of: lo, widthLog2: k)
      var counts = [Int](repeating: 0, count: Histogram.index(of: hi, widthLog2: k) - first + 1)
      for h in histograms {
        for (bin, n) in h.coarsened(to: k) { counts[bin - first] += n }
      }
      for c in constants { counts[Histogram.index(of: c.value, widthLog2: k) - first] += c.count }
      // Values near ±1.8e308 can overflow the sum or the squares: no double holds the answer,
      // and JSON cannot spell infinity, so the figure is null rather than a failed manifest.
      let mean = sum / Double(count), std = (squares / Double(count)).squareRoot()
      return ColumnStats(
        nullCount: nulls, nonFiniteCount: nonFinite, min: lo, max: hi, mean: mean.isFinite ? mean : nil,
        std: std.isFinite && mean.isFinite ? std : nil, distinctCount: nil,
        histogram: Histogram(widthLog2: k, firstBin: first, counts: counts))
    }
  }

  /// `Accumulator`s for every column of one schema.
  public struct TableAccumulator: Sendable {
    public let fields: [Field]
    var columns: [Accumulator]

    public init(fields: [Field]) {
      self.fields = fields
      columns = fields.map { Accumulator(isText: $0.type == .utf8) }
    }

    /// One table's statistics, to be merged later (`merge`) in table order.
    public init(table: Table) {
      fields = table.fields
      columns = table.columns.map { Accumulator(chunk: $0) }
    }

    /// `table` must have `fields`' columns, in that order.
    public mutating func add(_ table: Table) { merge(TableAccumulator(table: table)) }

    /// Adds what `other` (same fields) gathered after what this one has.
    public mutating func merge(_ other: TableAccumulator) {
      for k in columns.indices { columns[k].merge(other.columns[k]) }
    }

    public func finish() -> [String: ColumnStats] {
      var out: [String: ColumnStats] = [:]
      for (field, column) in zip(fields, columns) { out[field.name] = column.finish() }
      return out
    }
  }
}

/// The distinct values of string columns, compared as UTF-8 bytes (what Arrow readers such as
/// polars' `n_unique` compare): a `ByteStringSet`, so counting a column creates no `String`
/// per row.
struct DistinctStrings: Sendable {
  private var strings = ByteStringSet()

  var count: Int { strings.count }

  /// Adds every non-NULL value of `column`.
  mutating func insert(_ column: StringColumn) {
    CanonicalBlockEncoder.checkOffsets(column, name: "utf8 column")
    let allValid = column.nullCount == 0
    column.offsets.withUnsafeBufferPointer { off in
      column.bytes.withUnsafeBytes { raw in
        column.validity.words.withUnsafeBufferPointer { bits in
          let bytes = raw.baseAddress ?? CanonicalBlockEncoder.dummy
          for i in 0..<column.count where allValid || (bits[i &>> 6] &>> UInt64(i & 63)) & 1 != 0 {
            let start = Int(off[i])
            _ = strings.insert(bytes + start, Int(off[i + 1]) - start)
          }
        }
      }
    }
  }

  /// Adds every value of `other`.
  mutating func formUnion(_ other: DistinctStrings) { strings.formUnion(other.strings) }
}

extension Bool {
  /// 1 for true, 0 for false, as a select rather than a branch.
  @inline(__always) var int: UInt8 { unsafeBitCast(self, to: UInt8.self) }
}
