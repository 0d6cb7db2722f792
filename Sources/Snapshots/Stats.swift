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

    /// Why this histogram, read from a manifest, cannot be merged, or nil. `Differ` does index
    /// arithmetic with `firstBin`, `widthLog2` and the counts, so a hand edit or damage past
    /// what `make` can write (|k| ≤ ~1030, |bin index| < 2^52, at most `maxBins` bins) would
    /// overflow there; it is refused here instead. Counts are bounded by 2^53 in total (more
    /// rows than any file can hold) so no sum over them can overflow.
    public var problem: String? {
      guard (-1100...1100).contains(widthLog2) else { return "width_log2 is \(widthLog2), expected -1100…1100" }
      guard (1...Self.maxBins).contains(counts.count) else { return "counts has \(counts.count) bins, expected 1…\(Self.maxBins)" }
      guard (-(1 << 53)...(1 << 53)).contains(firstBin) else { return "first_bin is \(firstBin), expected within ±2^53" }
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
      return ColumnStats(nullCount: 0, nonFiniteCount: 0, min: nil, max: nil, mean: nil, std: nil, distinctCount: nil, histogram: nil)
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
    public init(chunk column: AnyColumn) {
      isText = column.type == .utf8
      if case .utf8(let c) = column {
        nulls = c.nullCount
        distinct.insert(c)
        return
      }
      var values: [Double] = []
      values.reserveCapacity(column.count)
      var nulls = 0, nonFinite = 0
      func gather<E>(_ c: Column<E>, _ convert: (E) -> Double) {
        c.values.withUnsafeBufferPointer { v in
          c.validity.words.withUnsafeBufferPointer { bits in
            for i in 0..<v.count {
              guard (bits[i >> 6] >> UInt64(i & 63)) & 1 != 0 else {
                nulls += 1
                continue
              }
              let x = convert(v[i])
              guard x.isFinite else {
                nonFinite += 1
                continue
              }
              values.append(x)
            }
          }
        }
      }
      switch column {
      case .int32(let c): gather(c) { Double($0) }
      case .int64(let c): gather(c) { Double($0) }
      case .float64(let c): gather(c) { $0 }
      case .bool(let c): gather(c) { $0 ? 1 : 0 }
      case .date32(let c): gather(c) { Double($0.daysSinceEpoch) }
      case .utf8: break
      }
      self.nulls = nulls
      self.nonFinite = nonFinite
      guard !values.isEmpty else { return }
      var chunkLo = values[0], chunkHi = values[0], chunkSum = 0.0
      for v in values {
        chunkLo = Swift.min(chunkLo, v)
        chunkHi = Swift.max(chunkHi, v)
        chunkSum += v
      }
      let chunkMean = chunkSum / Double(values.count)
      var chunkSquares = 0.0
      for v in values { chunkSquares += (v - chunkMean) * (v - chunkMean) }
      count = values.count
      sum = chunkSum
      squares = chunkSquares
      lo = chunkLo
      hi = chunkHi
      if chunkLo == chunkHi {
        constants.append((chunkLo, values.count))
      } else {
        // A chunk's grid is never coarser than the whole range's when its range is not empty:
        // both start from ceil(log2(range / maxBins)) and grow under conditions that a
        // narrower range meets no later.
        histograms.append(Histogram.make(values, lo: chunkLo, hi: chunkHi))
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
        return ColumnStats(nullCount: nulls, nonFiniteCount: 0, min: nil, max: nil, mean: nil, std: nil,
                           distinctCount: distinct.count, histogram: nil)
      }
      guard count > 0 else {
        return ColumnStats(nullCount: nulls, nonFiniteCount: nonFinite, min: nil, max: nil, mean: nil, std: nil,
                           distinctCount: nil, histogram: nil)
      }
      let k = Histogram.widthLog2(lo: lo, hi: hi)
      let first = Histogram.index(of: lo, widthLog2: k)
      var counts = [Int](repeating: 0, count: Histogram.index(of: hi, widthLog2: k) - first + 1)
      for h in histograms {
        for (bin, n) in h.coarsened(to: k) { counts[bin - first] += n }
      }
      for c in constants { counts[Histogram.index(of: c.value, widthLog2: k) - first] += c.count }
      return ColumnStats(
        nullCount: nulls, nonFiniteCount: nonFinite, min: lo, max: hi, mean: sum / Double(count),
        std: (squares / Double(count)).squareRoot(), distinctCount: nil,
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
/// polars' `n_unique` compare): an open-addressing set of (hash, offset) into one byte buffer,
/// so counting a column creates no `String` per row.
struct DistinctStrings: Sendable {
  private var slots: [Int32] = Array(repeating: -1, count: 1024)
  private var hashes: [UInt64] = []
  private var offsets: [Int] = [0]
  private var bytes: [UInt8] = []

  var count: Int { hashes.count }

  /// FNV-1a: simple, deterministic, and good enough for short keys like player lookups.
  static func hash(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for x in b { h = (h ^ UInt64(x)) &* 0x100_0000_01b3 }
    return h ^ (h >> 29)
  }

  /// Adds every non-NULL value of `column`.
  mutating func insert(_ column: StringColumn) {
    for i in 0..<column.count where column.validity[i] {
      column.withBytes(at: i) { insert($0) }
    }
  }

  /// Adds every value of `other`.
  mutating func formUnion(_ other: DistinctStrings) {
    other.bytes.withUnsafeBufferPointer { b in
      for k in 0..<other.hashes.count {
        insert(UnsafeBufferPointer(rebasing: b[other.offsets[k]..<other.offsets[k + 1]]))
      }
    }
  }

  mutating func insert(_ value: UnsafeBufferPointer<UInt8>) {
    let h = Self.hash(value)
    var mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: h) & mask
    while slots[slot] >= 0 {
      let k = Int(slots[slot])
      if hashes[k] == h, offsets[k + 1] - offsets[k] == value.count,
        bytes[offsets[k]..<offsets[k + 1]].elementsEqual(value)
      {
        return
      }
      slot = (slot + 1) & mask
    }
    slots[slot] = Int32(hashes.count)
    hashes.append(h)
    bytes.append(contentsOf: value)
    offsets.append(bytes.count)
    if hashes.count * 2 > slots.count {
      // Keep the load under one half: rehash into twice the slots.
      slots = Array(repeating: -1, count: slots.count * 2)
      mask = slots.count - 1
      for (k, hk) in hashes.enumerated() {
        var s = Int(truncatingIfNeeded: hk) & mask
        while slots[s] >= 0 { s = (s + 1) & mask }
        slots[s] = Int32(k)
      }
    }
  }
}
