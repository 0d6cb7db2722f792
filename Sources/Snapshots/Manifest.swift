import Columnar
import Foundation

/// The `manifest.json` of one snapshot version (spec/snapshot.md "manifest.json").
/// Field names on disk are snake_case; `Schemas/manifest.schema.json` describes the same shape
/// and `Verifier` rejects any manifest whose keys differ from it.
public struct Manifest: Codable, Sendable, Equatable {
  /// Bumped when the manifest's shape changes; readers refuse other values.
  public static let currentFormat = 1

  public var format: Int
  public var dataset: String
  public var version: String
  /// nil for v1: written as an explicit JSON null so the key is always present.
  public var parentVersion: String?
  /// UTC, `YYYY-MM-DDTHH:MM:SSZ`.
  public var createdAt: String
  public var tool: Tool
  public var featureSet: FeatureSetRef
  public var config: BuildConfig
  public var source: SourceFingerprint
  public var gates: [GateRecord]
  public var files: [FileEntry]
  public var schema: [SchemaColumn]
  public var stats: [String: ColumnStats]
  public var rowCount: Int
  public var contentSHA256: String
  public var builtWithOverrides: Bool

  enum CodingKeys: String, CodingKey {
    case format, dataset, version
    case parentVersion = "parent_version"
    case createdAt = "created_at"
    case tool
    case featureSet = "feature_set"
    case config, source, gates, files, schema, stats
    case rowCount = "row_count"
    case contentSHA256 = "content_sha256"
    case builtWithOverrides = "built_with_overrides"
  }

  public init(
    format: Int = Manifest.currentFormat, dataset: String, version: String, parentVersion: String?,
    createdAt: String, tool: Tool, featureSet: FeatureSetRef, config: BuildConfig,
    source: SourceFingerprint, gates: [GateRecord], files: [FileEntry], schema: [SchemaColumn],
    stats: [String: ColumnStats], rowCount: Int, contentSHA256: String, builtWithOverrides: Bool
  ) {
    self.format = format
    self.dataset = dataset
    self.version = version
    self.parentVersion = parentVersion
    self.createdAt = createdAt
    self.tool = tool
    self.featureSet = featureSet
    self.config = config
    self.source = source
    self.gates = gates
    self.files = files
    self.schema = schema
    self.stats = stats
    self.rowCount = rowCount
    self.contentSHA256 = contentSHA256
    self.builtWithOverrides = builtWithOverrides
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(format, forKey: .format)
    try c.encode(dataset, forKey: .dataset)
    try c.encode(version, forKey: .version)
    try c.encode(parentVersion, forKey: .parentVersion)  // explicit null for v1
    try c.encode(createdAt, forKey: .createdAt)
    try c.encode(tool, forKey: .tool)
    try c.encode(featureSet, forKey: .featureSet)
    try c.encode(config, forKey: .config)
    try c.encode(source, forKey: .source)
    try c.encode(gates, forKey: .gates)
    try c.encode(files, forKey: .files)
    try c.encode(schema, forKey: .schema)
    try c.encode(stats, forKey: .stats)
    try c.encode(rowCount, forKey: .rowCount)
    try c.encode(contentSHA256, forKey: .contentSHA256)
    try c.encode(builtWithOverrides, forKey: .builtWithOverrides)
  }

  public struct Tool: Codable, Sendable, Equatable {
    /// This builder. Bump `version` with every release that changes data files or manifests.
    /// 0.2.0 (session 16): data files carry the feature set in their schema metadata and each
    /// column's `kind` beside its `meaning`.
    /// 0.3.0 (session 17): JSON reasons and notes, verify's summary, the nothing-changed rule
    /// for date windows; data files unchanged.
    /// 0.4.0 (session 18): manifests record value_ranges' bounds among the thresholds (a
    /// manifest without them is read at their defaults); diff's verdict and --fail-on-drift;
    /// report exits 2 over a failed gate; data files unchanged.
    public static let current = Tool(name: "dataset", version: "0.4.0")
    public var name: String
    public var version: String
    public init(name: String, version: String) {
      self.name = name
      self.version = version
    }
  }

  public struct FeatureSetRef: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    /// SHA-256 of the spec file's bytes, lower-case hex.
    public var sha256: String
    public init(name: String, version: String, sha256: String) {
      self.name = name
      self.version = version
      self.sha256 = sha256
    }
  }

  public struct BuildConfig: Codable, Sendable, Equatable {
    /// Season labels as built, ascending ("2022-23").
    public var seasons: [String]
    public var dates: DateOptions
    /// Every gate threshold in force, by gate name (after `--config`).
    public var thresholds: [String: Double]
    public var overrides: [OverrideRecord]
    public var includeBootstrap: Bool
    public var batchRows: Int
    public var pointInTimeSeed: UInt64

    enum CodingKeys: String, CodingKey {
      case seasons, dates, thresholds, overrides
      case includeBootstrap = "include_bootstrap"
      case batchRows = "batch_rows"
      case pointInTimeSeed = "point_in_time_seed"
    }

    public init(
      seasons: [String], dates: DateOptions, thresholds: [String: Double], overrides: [OverrideRecord],
      includeBootstrap: Bool, batchRows: Int, pointInTimeSeed: UInt64
    ) {
      self.seasons = seasons
      self.dates = dates
      self.thresholds = thresholds
      self.overrides = overrides
      self.includeBootstrap = includeBootstrap
      self.batchRows = batchRows
      self.pointInTimeSeed = pointInTimeSeed
    }
  }

  /// Date options as the user typed them and as resolved. `resolvedAt` is when a keyword such
  /// as `yesterday` was resolved; it is the one config value the nothing-changed rule ignores.
  public struct DateOptions: Codable, Sendable, Equatable {
    public var startGiven: String?
    public var endGiven: String?
    public var startResolved: String?
    public var endResolved: String?
    public var timeZone: String
    public var resolvedAt: String?

    enum CodingKeys: String, CodingKey {
      case startGiven = "start_given"
      case endGiven = "end_given"
      case startResolved = "start_resolved"
      case endResolved = "end_resolved"
      case timeZone = "time_zone"
      case resolvedAt = "resolved_at"
    }

    public init(
      startGiven: String? = nil, endGiven: String? = nil, startResolved: String? = nil,
      endResolved: String? = nil, timeZone: String = "America/New_York", resolvedAt: String? = nil
    ) {
      self.startGiven = startGiven
      self.endGiven = endGiven
      self.startResolved = startResolved
      self.endResolved = endResolved
      self.timeZone = timeZone
      self.resolvedAt = resolvedAt
    }

    public func encode(to encoder: Encoder) throws {
      // Every key always present (null when unused) so the schema can require them all.
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(startGiven, forKey: .startGiven)
      try c.encode(endGiven, forKey: .endGiven)
      try c.encode(startResolved, forKey: .startResolved)
      try c.encode(endResolved, forKey: .endResolved)
      try c.encode(timeZone, forKey: .timeZone)
      try c.encode(resolvedAt, forKey: .resolvedAt)
    }
  }

  public struct OverrideRecord: Codable, Sendable, Equatable {
    public var gate: String
    public var reason: String
    public init(gate: String, reason: String) {
      self.gate = gate
      self.reason = reason
    }
  }

  public struct SourceFingerprint: Codable, Sendable, Equatable {
    /// The database file's name (not its path: the manifest must not depend on where the
    /// build ran).
    public var file: String
    public var sha256: String
    public var tables: [String: TableFingerprint]
    public init(file: String, sha256: String, tables: [String: TableFingerprint]) {
      self.file = file
      self.sha256 = sha256
      self.tables = tables
    }
  }

  public struct TableFingerprint: Codable, Sendable, Equatable {
    public var rowCount: Int
    /// SHA-256 over the rows read, in business-key order, canonically encoded
    /// (`SourceFingerprinter`): a re-export with identical rows gives the same value.
    public var contentSHA256: String
    /// Newest `processed_at` among the rows read, ISO 8601 UTC; nil when none had one.
    public var newestProcessedAt: String?

    enum CodingKeys: String, CodingKey {
      case rowCount = "row_count"
      case contentSHA256 = "content_sha256"
      case newestProcessedAt = "newest_processed_at"
    }

    public init(rowCount: Int, contentSHA256: String, newestProcessedAt: String?) {
      self.rowCount = rowCount
      self.contentSHA256 = contentSHA256
      self.newestProcessedAt = newestProcessedAt
    }

    public func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(rowCount, forKey: .rowCount)
      try c.encode(contentSHA256, forKey: .contentSHA256)
      try c.encode(newestProcessedAt, forKey: .newestProcessedAt)
    }
  }

  /// One gate's outcome, mirroring the Gates module's `GateResult` so the manifest format does
  /// not change when that type grows fields for its own printing.
  public struct GateRecord: Codable, Sendable, Equatable {
    public var name: String
    /// pass, warn or fail.
    public var status: String
    public var figure: String
    public var value: Double?
    /// The threshold as the gate states it ("≥ 95 %").
    public var threshold: String
    /// Summarised evidence (capped list); `evidenceTotal` is how many there were in all.
    public var evidence: [String]
    public var evidenceTotal: Int
    /// The reason given with `--override`, when this gate was overridden.
    public var override: String?

    enum CodingKeys: String, CodingKey {
      case name, status, figure, value, threshold, evidence
      case evidenceTotal = "evidence_total"
      case override
    }

    public init(
      name: String, status: String, figure: String, value: Double?, threshold: String,
      evidence: [String], evidenceTotal: Int, override: String?
    ) {
      self.name = name
      self.status = status
      self.figure = figure
      self.value = value
      self.threshold = threshold
      self.evidence = evidence
      self.evidenceTotal = evidenceTotal
      self.override = override
    }

    public func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(name, forKey: .name)
      try c.encode(status, forKey: .status)
      try c.encode(figure, forKey: .figure)
      try c.encode(value, forKey: .value)
      try c.encode(threshold, forKey: .threshold)
      try c.encode(evidence, forKey: .evidence)
      try c.encode(evidenceTotal, forKey: .evidenceTotal)
      try c.encode(override, forKey: .override)
    }
  }

  public struct FileEntry: Codable, Sendable, Equatable {
    /// Relative to the manifest's folder; a plain file name.
    public var path: String
    public var bytes: Int
    public var sha256: String
    public var rows: Int
    /// Season label ("2022-23").
    public var season: String
    public var format: String
    public var compression: String

    public static let arrowFormat = "arrow-ipc-file"
    public static let lz4Compression = "lz4-frame"

    public init(
      path: String, bytes: Int, sha256: String, rows: Int, season: String,
      format: String = FileEntry.arrowFormat, compression: String = FileEntry.lz4Compression
    ) {
      self.path = path
      self.bytes = bytes
      self.sha256 = sha256
      self.rows = rows
      self.season = season
      self.format = format
      self.compression = compression
    }
  }

  public struct SchemaColumn: Codable, Sendable, Equatable {
    public var name: String
    /// Arrow type name as Columnar spells it: int32, int64, float64, bool, utf8, date32.
    public var type: String
    public var nullable: Bool
    public var meaning: String

    public init(name: String, type: String, nullable: Bool, meaning: String) {
      self.name = name
      self.type = type
      self.nullable = nullable
      self.meaning = meaning
    }

    public init(_ field: Field) {
      self.init(name: field.name, type: field.type.rawValue, nullable: field.nullable, meaning: field.meaning)
    }
  }
}

extension Manifest {
  /// Foundation's encoder with the manifest's formatting: sorted keys and fixed indentation
  /// make the bytes a function of the value alone. `encoded()` writes the same bytes faster
  /// (`PrettyJSONEncoder`); the tests hold it to this one.
  public static func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return e
  }

  /// The manifest's bytes as written to disk (with a final newline).
  public func encoded() throws -> [UInt8] {
    var bytes = try PrettyJSONEncoder.encode(self)
    bytes.append(0x0A)
    return bytes
  }
}

extension Manifest {
  /// Histograms that `Differ` cannot merge safely, as "stats.<column>.histogram: why" lines,
  /// sorted by column.
  public func statsProblems() -> [String] {
    stats.sorted { $0.key < $1.key }.compactMap { name, s in
      s.histogram?.problem.map { "stats.\(name).histogram: \($0)" }
    }
  }
}
