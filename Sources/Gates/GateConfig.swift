// Gate thresholds (gates.md table, "default" column). The defaults live twice on purpose: in
// Schemas/gates.default.json, which an operator reads and copies, and here, so the binary works
// from any directory; GatesTests checks that the two agree.
import Columnar
import Foundation

/// The gates of gates.md, in report order. `point_in_time` runs after features (Features
/// module's `PointInTimeSession`); `build` records it last.
public enum GateName: String, CaseIterable, Codable, Sendable {
  case pcfDateCoverage = "pcf_date_coverage"
  case pcfPlayerCoverage = "pcf_player_coverage"
  case usageRateCoverage = "usage_rate_coverage"
  case sourceFieldCoverage = "source_field_coverage"
  case duplicateKeys = "duplicate_keys"
  case gameIntegrity = "game_integrity"
  case valueRanges = "value_ranges"
  case pcfStaleness = "pcf_staleness"
  case constantFeatures = "constant_features"
  case pointInTime = "point_in_time"

  public static var list: String { allCases.map(\.rawValue).joined(separator: ", ") }

  public static func parse(_ raw: String) throws(UsageError) -> GateName {
    guard let g = GateName(rawValue: raw) else { throw UsageError("unknown gate '\(raw)': the gates are \(list)") }
    return g
  }
}

/// Every threshold in force. Percentages are 0–100.
public struct GateConfig: Codable, Equatable, Sendable {
  public var pcfDateCoverageFailBelowPercent: Double
  public var pcfPlayerCoverageWarnDateBelowPercent: Double
  public var pcfPlayerCoverageFailDatesBelowPercent: Double
  public var usageRateSeasonFailBelowPercent: Double
  public var usageRateMonthWarnBelowPercent: Double
  public var sourceFieldFailBelowPercent: Double
  public var duplicateKeysFailAbove: Int
  public var gameIntegrityMinActivePlayersPerTeam: Int
  public var gameIntegrityMaxActivePlayersPerTeam: Int
  public var gameIntegrityFailAbove: Int
  public var valueRangesFailAbovePercent: Double
  public var valueRangesUsageMinMinutes: Double
  public var valueRangesUsageReportAbove: Double
  // The rules' bounds (gates.md's numbers, defaults like every other: "every threshold is
  // configurable"). The lower ends of minutes, points, usage and fatigue are 0, which no
  // export may go below, so only the upper ends are settings; the scores are symmetric.
  public var valueRangesUsageRateMax: Double = 100
  public var valueRangesMinutesPlayedMax: Double = 70
  public var valueRangesPointsMax: Double = 100
  public var valueRangesFatigueScoreMax: Double = 100
  public var valueRangesShotZoneMismatchAbsMax: Double = 10
  public var valueRangesPaceAbsMax: Double = 3
  public var valueRangesUsageSpikeAbsMax: Double = 3
  public var pcfStalenessFailAbove: Int
  public var constantFeaturesWarnDominantSharePercent: Double
  public var pointInTimeMinSampleRows: Int

  public static let defaults = GateConfig(
    pcfDateCoverageFailBelowPercent: 95,
    pcfPlayerCoverageWarnDateBelowPercent: 90,
    pcfPlayerCoverageFailDatesBelowPercent: 5,
    usageRateSeasonFailBelowPercent: 95,
    usageRateMonthWarnBelowPercent: 95,
    sourceFieldFailBelowPercent: 99,
    duplicateKeysFailAbove: 0,
    gameIntegrityMinActivePlayersPerTeam: 5,
    gameIntegrityMaxActivePlayersPerTeam: 20,
    gameIntegrityFailAbove: 0,
    valueRangesFailAbovePercent: 0.1,
    valueRangesUsageMinMinutes: 3,
    valueRangesUsageReportAbove: 50,
    pcfStalenessFailAbove: 0,
    constantFeaturesWarnDominantSharePercent: 90,
    pointInTimeMinSampleRows: 500)

  /// One settable threshold: where it sits in the JSON file, what values make sense, and how
  /// to set it.
  struct Setting: Sendable {
    var gate: GateName
    var key: String
    var range: ClosedRange<Double>
    var integer: Bool
    var get: @Sendable (GateConfig) -> Double
    var set: @Sendable (inout GateConfig, Double) -> Void
  }

  static func pct(_ gate: GateName, _ key: String, _ kp: WritableKeyPath<GateConfig, Double> & Sendable) -> Setting {
    Setting(
      gate: gate, key: key, range: 0...100, integer: false, get: { $0[keyPath: kp] }, set: { $0[keyPath: kp] = $1 })
  }
  static func real(
    _ gate: GateName, _ key: String, _ range: ClosedRange<Double>, _ kp: WritableKeyPath<GateConfig, Double> & Sendable
  )
    -> Setting
  {
    Setting(gate: gate, key: key, range: range, integer: false, get: { $0[keyPath: kp] }, set: { $0[keyPath: kp] = $1 })
  }
  static func count(
    _ gate: GateName, _ key: String, _ range: ClosedRange<Double>, _ kp: WritableKeyPath<GateConfig, Int> & Sendable
  )
    -> Setting
  {
    Setting(
      gate: gate, key: key, range: range, integer: true, get: { Double($0[keyPath: kp]) },
      set: { $0[keyPath: kp] = Int($1) })
  }

  static let settings: [Setting] = [
    pct(.pcfDateCoverage, "fail_below_percent", \.pcfDateCoverageFailBelowPercent),
    pct(.pcfPlayerCoverage, "warn_date_below_percent", \.pcfPlayerCoverageWarnDateBelowPercent),
    pct(.pcfPlayerCoverage, "fail_when_dates_below_exceed_percent", \.pcfPlayerCoverageFailDatesBelowPercent),
    pct(.usageRateCoverage, "season_fail_below_percent", \.usageRateSeasonFailBelowPercent),
    pct(.usageRateCoverage, "month_warn_below_percent", \.usageRateMonthWarnBelowPercent),
    pct(.sourceFieldCoverage, "fail_below_percent", \.sourceFieldFailBelowPercent),
    count(.duplicateKeys, "fail_above_count", 0...1e9, \.duplicateKeysFailAbove),
    count(.gameIntegrity, "min_active_players_per_team", 0...100, \.gameIntegrityMinActivePlayersPerTeam),
    count(.gameIntegrity, "max_active_players_per_team", 1...100, \.gameIntegrityMaxActivePlayersPerTeam),
    count(.gameIntegrity, "fail_above_count", 0...1e9, \.gameIntegrityFailAbove),
    pct(.valueRanges, "fail_above_percent", \.valueRangesFailAbovePercent),
    real(.valueRanges, "usage_rate_min_minutes", 0...70, \.valueRangesUsageMinMinutes),
    real(.valueRanges, "usage_rate_report_above", 0...1000, \.valueRangesUsageReportAbove),
    real(.valueRanges, "usage_rate_max", 1...1000, \.valueRangesUsageRateMax),
    real(.valueRanges, "minutes_played_max", 1...1000, \.valueRangesMinutesPlayedMax),
    real(.valueRanges, "points_max", 1...1000, \.valueRangesPointsMax),
    real(.valueRanges, "fatigue_score_max", 1...1000, \.valueRangesFatigueScoreMax),
    real(.valueRanges, "shot_zone_mismatch_score_abs_max", 0...1000, \.valueRangesShotZoneMismatchAbsMax),
    real(.valueRanges, "pace_score_abs_max", 0...1000, \.valueRangesPaceAbsMax),
    real(.valueRanges, "usage_spike_score_abs_max", 0...1000, \.valueRangesUsageSpikeAbsMax),
    count(.pcfStaleness, "fail_above_count", 0...1e9, \.pcfStalenessFailAbove),
    pct(.constantFeatures, "warn_dominant_share_percent", \.constantFeaturesWarnDominantSharePercent),
    count(.pointInTime, "min_sample_rows", 1...1e7, \.pointInTimeMinSampleRows),
  ]

  /// The config as the JSON file writes it: `{ gate: { key: value } }`.
  public var nested: [String: [String: Double]] {
    var out: [String: [String: Double]] = [:]
    for s in Self.settings { out[s.gate.rawValue, default: [:]][s.key] = s.get(self) }
    return out
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: DynamicKey.self)
    for (gate, values) in nested {
      var inner = c.nestedContainer(keyedBy: DynamicKey.self, forKey: DynamicKey(gate))
      for (key, value) in values {
        if value == value.rounded(), abs(value) < 1e15 {
          try inner.encode(Int64(value), forKey: DynamicKey(key))
        } else {
          try inner.encode(value, forKey: DynamicKey(key))
        }
      }
    }
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: DynamicKey.self)
    var config = GateConfig.defaults
    for gate in c.allKeys {
      let inner = try c.nestedContainer(keyedBy: DynamicKey.self, forKey: gate)
      for key in inner.allKeys {
        let value = try inner.decode(Double.self, forKey: key)
        try config.apply(gate: gate.stringValue, key: key.stringValue, value: value, source: "report")
      }
    }
    self = config
  }

  init(
    pcfDateCoverageFailBelowPercent: Double, pcfPlayerCoverageWarnDateBelowPercent: Double,
    pcfPlayerCoverageFailDatesBelowPercent: Double, usageRateSeasonFailBelowPercent: Double,
    usageRateMonthWarnBelowPercent: Double, sourceFieldFailBelowPercent: Double, duplicateKeysFailAbove: Int,
    gameIntegrityMinActivePlayersPerTeam: Int, gameIntegrityMaxActivePlayersPerTeam: Int, gameIntegrityFailAbove: Int,
    valueRangesFailAbovePercent: Double, valueRangesUsageMinMinutes: Double, valueRangesUsageReportAbove: Double,
    pcfStalenessFailAbove: Int, constantFeaturesWarnDominantSharePercent: Double, pointInTimeMinSampleRows: Int
  ) {
    self.pcfDateCoverageFailBelowPercent = pcfDateCoverageFailBelowPercent
    self.pcfPlayerCoverageWarnDateBelowPercent = pcfPlayerCoverageWarnDateBelowPercent
    self.pcfPlayerCoverageFailDatesBelowPercent = pcfPlayerCoverageFailDatesBelowPercent
    self.usageRateSeasonFailBelowPercent = usageRateSeasonFailBelowPercent
    self.usageRateMonthWarnBelowPercent = usageRateMonthWarnBelowPercent
    self.sourceFieldFailBelowPercent = sourceFieldFailBelowPercent
    self.duplicateKeysFailAbove = duplicateKeysFailAbove
    self.gameIntegrityMinActivePlayersPerTeam = gameIntegrityMinActivePlayersPerTeam
    self.gameIntegrityMaxActivePlayersPerTeam = gameIntegrityMaxActivePlayersPerTeam
    self.gameIntegrityFailAbove = gameIntegrityFailAbove
    self.valueRangesFailAbovePercent = valueRangesFailAbovePercent
    self.valueRangesUsageMinMinutes = valueRangesUsageMinMinutes
    self.valueRangesUsageReportAbove = valueRangesUsageReportAbove
    self.pcfStalenessFailAbove = pcfStalenessFailAbove
    self.constantFeaturesWarnDominantSharePercent = constantFeaturesWarnDominantSharePercent
    self.pointInTimeMinSampleRows = pointInTimeMinSampleRows
  }

  mutating func apply(gate: String, key: String, value: Double, source: String) throws(UsageError) {
    guard let g = GateName(rawValue: gate) else {
      throw UsageError("\(source): unknown gate '\(gate)': the gates are \(GateName.list)")
    }
    guard let s = Self.settings.first(where: { $0.gate == g && $0.key == key }) else {
      let keys = Self.settings.filter { $0.gate == g }.map(\.key).joined(separator: ", ")
      throw UsageError("\(source): gate \(gate) has no setting '\(key)' (its settings: \(keys))")
    }
    guard value.isFinite, s.range.contains(value), !s.integer || value == value.rounded() else {
      throw UsageError(
        "\(source): \(gate).\(key) = \(Self.show(value)) is not allowed: expected \(s.integer ? "a whole number" : "a number") from \(Self.show(s.range.lowerBound)) to \(Self.show(s.range.upperBound))"
      )
    }
    s.set(&self, value)
  }

  /// A setting's value as the config file writes it: `70`, `0.1`.
  public static func show(_ v: Double) -> String {
    v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
  }

  /// Applies a JSON file's settings over `self`. Keys left out keep their current value, so a
  /// config file names only what it changes. `source` names the file in error messages.
  public func overlaid(json data: Data, source: String) throws(UsageError) -> GateConfig {
    let expected = #"expected {"gate_name": {"setting": number}}"#
    let document: JSONValue
    do {
      document = try JSONValue.parse([UInt8](data))
    } catch {
      throw UsageError("\(source): not valid JSON (\(error)); \(expected)")
    }
    guard case .object(let top) = document else {
      throw UsageError("\(source): \(document.shown) is not a JSON object of gates; \(expected)")
    }
    var config = self
    for gate in top.keys.sorted() {
      if gate == "$comment" { continue }
      guard GateName(rawValue: gate) != nil else {
        throw UsageError("\(source): unknown gate '\(gate)': the gates are \(GateName.list)")
      }
      guard case .object(let inner) = top[gate] else {
        throw UsageError("\(source): \(gate) must be an object of settings, like {\"fail_below_percent\": 95}")
      }
      for key in inner.keys.sorted() {
        guard case .number(let number) = inner[key] else {
          throw UsageError("\(source): \(gate).\(key) = \(inner[key]?.shown ?? "nothing") is not a number")
        }
        try config.apply(gate: gate, key: key, value: number, source: source)
      }
    }
    // Each bound is in range alone; together they must still admit a team, or every game
    // would fail for a reason that is the file's, not the data's.
    let lo = config.gameIntegrityMinActivePlayersPerTeam, hi = config.gameIntegrityMaxActivePlayersPerTeam
    guard lo <= hi else {
      throw UsageError(
        "\(source): game_integrity.min_active_players_per_team = \(lo) is above game_integrity.max_active_players_per_team = \(hi); no team could pass"
      )
    }
    return config
  }

  /// The file of the running executable, from the kernel: `argv[0]` is only the bare name
  /// `dataset` when the shell found it on PATH, which made "beside the executable" the working
  /// directory and its parents (a review: a stray `Schemas/` two folders up changed the gates'
  /// verdict without a word).
  public static let runningExecutable: String? = {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return CommandLine.arguments.first }
    return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }()

  /// The settings `self` holds at other values than `reference`, as `gate.setting = value
  /// (built in: value)`, in the order of the defaults file.
  public func differences(from reference: GateConfig) -> [String] {
    Self.settings.compactMap { s in
      let mine = s.get(self), theirs = s.get(reference)
      guard mine != theirs else { return nil }
      return "\(s.gate.rawValue).\(s.key) = \(Self.show(mine)) (built in: \(Self.show(theirs)))"
    }
  }

  /// The defaults file shipped in the project, found beside the executable (a copied binary
  /// with its `Schemas/` folder), beside the executable's package (`<repo>/.build/<config>/dataset`
  /// → `<repo>/Schemas`) or under the working directory.
  public static func locateDefaultsFile(executablePath: String? = runningExecutable) -> String? {
    schemasFolders(executablePath: executablePath).map { $0 + "/gates.default.json" }
      .first { FileManager.default.isReadableFile(atPath: $0) }
  }

  /// Where a `Schemas/` folder is looked for, in order: beside the executable, two and three
  /// folders above it (a checkout's `.build/<config>/dataset`), the working directory. The
  /// gate defaults and the feature sets are both found through this one list.
  public static func schemasFolders(executablePath: String? = runningExecutable) -> [String] {
    var folders: [String] = []
    if let exe = executablePath {
      let dir = URL(fileURLWithPath: exe).resolvingSymlinksInPath().deletingLastPathComponent()
      for up in ["Schemas", "../../Schemas", "../../../Schemas"] {
        folders.append(dir.appendingPathComponent(up).standardized.path)
      }
    }
    folders.append(FileManager.default.currentDirectoryPath + "/Schemas")
    return folders
  }
}

extension JSONValue {
  /// The value as a config error message shows it.
  var shown: String {
    switch self {
    case .bool(let b): return String(b)
    case .number(let d): return GateConfig.show(d)
    case .string(let s): return "\"\(s)\""
    case .null: return "null"
    case .array: return "a list"
    case .object: return "an object"
    }
  }
}

struct DynamicKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init(_ s: String) { stringValue = s }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}
