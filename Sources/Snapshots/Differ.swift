import Foundation
import Gates

/// `dataset diff A B`: the drift report between two snapshots, computed from their manifests.
///
/// Per column present in both with the same type:
/// - null share change, in percentage points of rows;
/// - mean shift, (mean_b − mean_a) / std_a; when A is constant (std_a = 0) the spread of B
///   stands in (a review: one changed row of 23,571 in an always-1 column was "−inf sd", past
///   every threshold), and only when both are constant is a moved mean infinite;
/// - PSI = Σ (b_i − a_i) · ln(b_i / a_i) over the shares of non-null finite values, on the
///   finest common power-of-two grid (see `ColumnStats`) that has at most `maxCommonBins` bins
///   over both snapshots' values; a share below `psiFloor` (an empty bin) counts as `psiFloor`, so the logarithm is defined
///   (the usual convention; it bounds one empty bin's contribution).
///
/// Beside the columns, what makes two snapshots' numbers incomparable or incomplete is drift
/// too: a season both hold that lost rows (games do not un-happen; a week deleted from the
/// source moved no column's statistics past a threshold), another feature set or a column's
/// changed definition. Settings that change no value (thresholds, batch size) are listed
/// apart and are not drift.
public struct Differ: Sendable {
  public struct Thresholds: Sendable, Equatable, Codable {
    public var psi: Double
    public var meanShiftSD: Double
    public var nullSharePoints: Double

    enum CodingKeys: String, CodingKey {
      case psi
      case meanShiftSD = "mean_shift_sd"
      case nullSharePoints = "null_share_points"
    }

    public init(psi: Double = 0.2, meanShiftSD: Double = 0.5, nullSharePoints: Double = 5) {
      self.psi = psi
      self.meanShiftSD = meanShiftSD
      self.nullSharePoints = nullSharePoints
    }
  }

  public static let maxCommonBins = 32
  public static let psiFloor = 1e-4

  public var thresholds: Thresholds
  /// Columns reported but never flagged (`diff --ignore`): a key such as `game_date` moves
  /// with the calendar, not with the data.
  public var ignored: Set<String>
  public init(thresholds: Thresholds = Thresholds(), ignored: Set<String> = []) {
    self.thresholds = thresholds
    self.ignored = ignored
  }

  public struct ColumnDrift: Sendable, Equatable, Codable {
    public var name: String
    public var nullShareA: Double
    public var nullShareB: Double
    /// (share_b − share_a) × 100.
    public var nullShareChangePoints: Double
    public var meanA: Double?
    public var meanB: Double?
    /// nil for string columns or when either side has no values; ±infinity is written as a
    /// string in JSON by `encode`.
    public var meanShiftSD: Double?
    public var psi: Double?
    /// Which thresholds this column passed: "psi", "mean_shift", "null_share".
    public var flags: [String]

    enum CodingKeys: String, CodingKey {
      case name, psi, flags
      case nullShareA = "null_share_a"
      case nullShareB = "null_share_b"
      case nullShareChangePoints = "null_share_change_points"
      case meanA = "mean_a"
      case meanB = "mean_b"
      case meanShiftSD = "mean_shift_sd"
    }

    public func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(name, forKey: .name)
      try c.encode(nullShareA, forKey: .nullShareA)
      try c.encode(nullShareB, forKey: .nullShareB)
      try c.encode(nullShareChangePoints, forKey: .nullShareChangePoints)
      try c.encode(meanA, forKey: .meanA)
      try c.encode(meanB, forKey: .meanB)
      if let s = meanShiftSD, !s.isFinite {
        try c.encode(s > 0 ? "inf" : "-inf", forKey: .meanShiftSD)
      } else {
        try c.encode(meanShiftSD, forKey: .meanShiftSD)
      }
      try c.encode(psi, forKey: .psi)
      try c.encode(flags, forKey: .flags)
    }
  }

  public struct TypeChange: Sendable, Equatable, Codable {
    public var name: String
    public var typeA: String
    public var typeB: String
    enum CodingKeys: String, CodingKey {
      case name
      case typeA = "type_a"
      case typeB = "type_b"
    }
  }

  /// A season both snapshots hold with fewer rows in B.
  public struct SeasonRows: Sendable, Equatable, Codable {
    public var season: String
    public var rowsA: Int
    public var rowsB: Int
    enum CodingKeys: String, CodingKey {
      case season
      case rowsA = "rows_a"
      case rowsB = "rows_b"
    }
  }

  public struct Report: Sendable, Equatable, Encodable {
    public var a: String
    public var b: String
    public var rowsA: Int
    public var rowsB: Int
    /// Seasons both hold whose row count fell from A to B.
    public var seasonRowsFell: [SeasonRows] = []
    public var featureSetA: Manifest.FeatureSetRef
    public var featureSetB: Manifest.FeatureSetRef
    /// Columns in both with the same type whose meaning or nullability differs:
    /// "points_avg_last_10: meaning changed".
    public var definitionChanges: [String] = []
    /// Build settings that differ: "batch_rows 8192 → 1000", and those that choose rows,
    /// marked so: "include_bootstrap false → true (chooses rows)".
    public var configChanges: [String] = []
    /// Whether a setting that chooses rows (include_bootstrap, the date window) differs: then
    /// fewer rows in a season are not data gone missing.
    public var rowChoiceChanged = false
    /// Columns `--ignore` left unflagged.
    public var ignoredColumns: [String] = []
    /// The seasons each snapshot holds (its files' seasons): a drift between different season
    /// sets is partly the calendar's.
    public var seasonsA: [String]
    public var seasonsB: [String]
    /// Seasons both snapshots hold whose files differ (their SHA-256), in A's order: the
    /// statistics of a whole snapshot can hide one changed season, and these are the seasons
    /// to compare alone (`diff --season`).
    public var changedSeasons: [String] = []
    public var addedColumns: [String]
    public var removedColumns: [String]
    public var typeChanges: [TypeChange]
    public var columns: [ColumnDrift]
    public var thresholds: Thresholds

    enum CodingKeys: String, CodingKey {
      case a, b, columns, thresholds, drift
      case rowsA = "rows_a"
      case rowsB = "rows_b"
      case seasonRowsFell = "season_rows_fell"
      case featureSetA = "feature_set_a"
      case featureSetB = "feature_set_b"
      case definitionChanges = "definition_changes"
      case configChanges = "config_changes"
      case ignoredColumns = "ignored_columns"
      case seasonsA = "seasons_a"
      case seasonsB = "seasons_b"
      case changedSeasons = "changed_seasons"
      case addedColumns = "added_columns"
      case removedColumns = "removed_columns"
      case typeChanges = "type_changes"
    }

    public func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(a, forKey: .a)
      try c.encode(b, forKey: .b)
      try c.encode(!noDrift, forKey: .drift)
      try c.encode(rowsA, forKey: .rowsA)
      try c.encode(rowsB, forKey: .rowsB)
      try c.encode(seasonRowsFell, forKey: .seasonRowsFell)
      try c.encode(featureSetA, forKey: .featureSetA)
      try c.encode(featureSetB, forKey: .featureSetB)
      try c.encode(definitionChanges, forKey: .definitionChanges)
      try c.encode(configChanges, forKey: .configChanges)
      try c.encode(ignoredColumns, forKey: .ignoredColumns)
      try c.encode(seasonsA, forKey: .seasonsA)
      try c.encode(seasonsB, forKey: .seasonsB)
      try c.encode(changedSeasons, forKey: .changedSeasons)
      try c.encode(addedColumns, forKey: .addedColumns)
      try c.encode(removedColumns, forKey: .removedColumns)
      try c.encode(typeChanges, forKey: .typeChanges)
      try c.encode(columns, forKey: .columns)
      try c.encode(thresholds, forKey: .thresholds)
    }

    public var flaggedColumns: [ColumnDrift] { columns.filter { !$0.flags.isEmpty } }
    public var schemaChanged: Bool { !addedColumns.isEmpty || !removedColumns.isEmpty || !typeChanges.isEmpty }
    public var featureSetChanged: Bool { featureSetA != featureSetB }
    /// True when nothing crossed a threshold, no season both hold lost rows, and the schema,
    /// the feature set and every column's definition are the same (`drift` in JSON is its
    /// negation).
    public var noDrift: Bool {
      !schemaChanged && flaggedColumns.isEmpty && seasonRowsFell.isEmpty && !featureSetChanged
        && definitionChanges.isEmpty
    }
  }

  public func diff(_ a: Manifest, _ b: Manifest, nameA: String, nameB: String) -> Report {
    let typesA = Dictionary(a.schema.map { ($0.name, $0.type) }, uniquingKeysWith: { x, _ in x })
    let typesB = Dictionary(b.schema.map { ($0.name, $0.type) }, uniquingKeysWith: { x, _ in x })
    let added = b.schema.map(\.name).filter { typesA[$0] == nil }
    let removed = a.schema.map(\.name).filter { typesB[$0] == nil }
    let fieldsB = Dictionary(b.schema.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
    var typeChanges: [TypeChange] = []
    var columns: [ColumnDrift] = []
    var definitionChanges: [String] = []
    for col in a.schema {
      guard let typeB = typesB[col.name] else { continue }
      guard typeB == col.type else {
        typeChanges.append(TypeChange(name: col.name, typeA: col.type, typeB: typeB))
        continue
      }
      if let other = fieldsB[col.name] {
        if other.meaning != col.meaning { definitionChanges.append("\(col.name): meaning changed") }
        if other.nullable != col.nullable {
          definitionChanges.append("\(col.name): nullable \(col.nullable) → \(other.nullable)")
        }
      }
      guard let sa = a.stats[col.name], let sb = b.stats[col.name] else { continue }
      columns.append(drift(name: col.name, sa, rowsA: a.rowCount, sb, rowsB: b.rowCount))
    }
    let shaB = Dictionary(b.files.map { ($0.season, $0.sha256) }, uniquingKeysWith: { x, _ in x })
    let changed = a.files.filter { f in shaB[f.season].map { $0 != f.sha256 } ?? false }.map(\.season)
    let rowsB = Dictionary(b.files.map { ($0.season, $0.rows) }, uniquingKeysWith: +)
    let fell = a.files.compactMap { f -> SeasonRows? in
      guard let n = rowsB[f.season], n < f.rows else { return nil }
      return SeasonRows(season: f.season, rowsA: f.rows, rowsB: n)
    }
    var report = Report(
      a: nameA, b: nameB, rowsA: a.rowCount, rowsB: b.rowCount, featureSetA: a.featureSet, featureSetB: b.featureSet,
      seasonsA: a.files.map(\.season), seasonsB: b.files.map(\.season), changedSeasons: changed,
      addedColumns: added, removedColumns: removed, typeChanges: typeChanges, columns: columns, thresholds: thresholds)
    report.seasonRowsFell = fell
    report.definitionChanges = definitionChanges
    report.configChanges = Self.configChanges(a.config, b.config)
    report.rowChoiceChanged = !Self.rowChoiceChanges(a.config, b.config).isEmpty
    report.ignoredColumns = columns.map(\.name).filter { ignored.contains($0) }
    return report
  }

  /// Settings that differ between two builds: the gate thresholds, the overrides, the batch
  /// size and the point-in-time seed, which change no value in the files, then
  /// `include_bootstrap` and the date window, which choose rows (a regression hunt: fewer rows
  /// from `--include-bootstrap` on one side only were called missing data). The seasons are
  /// compared apart (`seasons_a`, `seasons_b`).
  static func configChanges(_ a: Manifest.BuildConfig, _ b: Manifest.BuildConfig) -> [String] {
    settingChanges(a, b) + rowChoiceChanges(a, b)
  }

  static func rowChoiceChanges(_ a: Manifest.BuildConfig, _ b: Manifest.BuildConfig) -> [String] {
    var out: [String] = []
    if a.includeBootstrap != b.includeBootstrap {
      out.append("include_bootstrap \(a.includeBootstrap) → \(b.includeBootstrap) (chooses rows)")
    }
    func window(_ d: Manifest.DateOptions) -> String {
      d.startResolved == nil && d.endResolved == nil
        ? "no date window" : "\(d.startResolved ?? "the start") to \(d.endResolved ?? "the end")"
    }
    if window(a.dates) != window(b.dates) {
      out.append("dates \(window(a.dates)) → \(window(b.dates)) (chooses rows)")
    }
    return out
  }

  static func settingChanges(_ a: Manifest.BuildConfig, _ b: Manifest.BuildConfig) -> [String] {
    var out: [String] = []
    func number(_ x: Double?) -> String { x.map(GateConfig.show) ?? "unset" }
    let ta = a.thresholdsInForce, tb = b.thresholdsInForce
    for key in Set(ta.keys).union(tb.keys).sorted() where ta[key] != tb[key] {
      out.append("threshold \(key) \(number(ta[key])) → \(number(tb[key]))")
    }
    let overridesA = a.overrides.map(\.gate).sorted(), overridesB = b.overrides.map(\.gate).sorted()
    if overridesA != overridesB {
      func list(_ gates: [String]) -> String { gates.isEmpty ? "none" : gates.joined(separator: ", ") }
      out.append("overrides \(list(overridesA)) → \(list(overridesB))")
    }
    if a.batchRows != b.batchRows { out.append("batch_rows \(a.batchRows) → \(b.batchRows)") }
    if a.pointInTimeSeed != b.pointInTimeSeed {
      out.append("point_in_time_seed \(a.pointInTimeSeed) → \(b.pointInTimeSeed)")
    }
    return out
  }

  func drift(name: String, _ a: ColumnStats, rowsA: Int, _ b: ColumnStats, rowsB: Int) -> ColumnDrift {
    let nullA = rowsA > 0 ? Double(a.nullCount) / Double(rowsA) : 0
    let nullB = rowsB > 0 ? Double(b.nullCount) / Double(rowsB) : 0
    let points = (nullB - nullA) * 100
    var shift: Double?
    if let ma = a.mean, let mb = b.mean, let sdA = a.std {
      let sd = sdA > 0 ? sdA : (b.std ?? 0)
      if sd > 0 {
        shift = (mb - ma) / sd
      } else {
        shift = mb == ma ? 0 : (mb > ma ? Double.infinity : -Double.infinity)
      }
    }
    var psiValue: Double?
    if let ha = a.histogram, let hb = b.histogram {
      let (ca, cb) = Differ.commonGrid(ha, hb)
      psiValue = Differ.psi(ca, cb)
    }
    var flags: [String] = []
    guard !ignored.contains(name) else {
      return ColumnDrift(
        name: name, nullShareA: nullA, nullShareB: nullB, nullShareChangePoints: points,
        meanA: a.mean, meanB: b.mean, meanShiftSD: shift, psi: psiValue, flags: flags)
    }
    if let p = psiValue, p > thresholds.psi { flags.append("psi") }
    if let s = shift, abs(s) > thresholds.meanShiftSD { flags.append("mean_shift") }
    if abs(points) > thresholds.nullSharePoints { flags.append("null_share") }
    return ColumnDrift(
      name: name, nullShareA: nullA, nullShareB: nullB, nullShareChangePoints: points,
      meanA: a.mean, meanB: b.mean, meanShiftSD: shift, psi: psiValue, flags: flags)
  }

  /// Both histograms as count vectors over one grid: the coarser of the two widths, doubled
  /// until the bins spanning both fit in `maxCommonBins`. Exact: grids are nested.
  static func commonGrid(_ a: ColumnStats.Histogram, _ b: ColumnStats.Histogram) -> ([Int], [Int]) {
    var k = max(a.widthLog2, b.widthLog2)
    func span(_ k: Int) -> (Int, Int) {
      let lo = min(a.firstBin >> (k - a.widthLog2), b.firstBin >> (k - b.widthLog2))
      let hi = max(
        (a.firstBin + a.counts.count - 1) >> (k - a.widthLog2), (b.firstBin + b.counts.count - 1) >> (k - b.widthLog2))
      return (lo, hi)
    }
    while span(k).1 - span(k).0 + 1 > maxCommonBins { k += 1 }
    let (lo, hi) = span(k)
    func vector(_ h: ColumnStats.Histogram) -> [Int] {
      var v = [Int](repeating: 0, count: hi - lo + 1)
      for (j, n) in h.coarsened(to: k) { v[j - lo] += n }
      return v
    }
    return (vector(a), vector(b))
  }

  /// Population stability index of two count vectors over the same bins.
  public static func psi(_ a: [Int], _ b: [Int]) -> Double? {
    precondition(a.count == b.count, "PSI needs the same bins on both sides")
    let ta = a.reduce(0, +), tb = b.reduce(0, +)
    guard ta > 0, tb > 0 else { return nil }
    var sum = 0.0
    for i in a.indices {
      let pa = max(Double(a[i]) / Double(ta), psiFloor)
      let pb = max(Double(b[i]) / Double(tb), psiFloor)
      sum += (pb - pa) * log(pb / pa)
    }
    return sum
  }
}
