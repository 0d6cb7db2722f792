import Columnar
import Foundation

/// How data files are written and read back; the Arrow IPC + LZ4 implementation is
/// `ArrowDataFileFormat`. Kept as a protocol so publish/verify logic is testable alone.
public protocol DataFileFormat: Sendable {
  /// The file's bytes: deterministic for equal tables and batch sizes.
  func encode(_ table: Table, batchRows: Int) throws -> [UInt8]
  /// Opens a file and decodes every batch, returning its schema and row count; throws with
  /// a readable message when the bytes are not a valid file.
  func inspect(_ bytes: [UInt8]) throws -> DataFileSummary
}

public struct DataFileSummary: Sendable, Equatable {
  public var fields: [Field]
  public var rowCount: Int
  public init(fields: [Field], rowCount: Int) {
    self.fields = fields
    self.rowCount = rowCount
  }
}

/// Everything a build has computed before it is stored.
public struct SnapshotInputs: Sendable {
  public var dataset: String
  /// One table per season, ascending by season; every table has the same fields.
  public var seasons: [(label: String, table: Table)]
  public var featureSet: Manifest.FeatureSetRef
  public var config: Manifest.BuildConfig
  public var source: Manifest.SourceFingerprint
  public var gates: [Manifest.GateRecord]
  public var tool: Manifest.Tool

  public init(dataset: String, seasons: [(label: String, table: Table)], featureSet: Manifest.FeatureSetRef,
              config: Manifest.BuildConfig, source: Manifest.SourceFingerprint, gates: [Manifest.GateRecord],
              tool: Manifest.Tool) {
    self.dataset = dataset
    self.seasons = seasons
    self.featureSet = featureSet
    self.config = config
    self.source = source
    self.gates = gates
    self.tool = tool
  }
}

public enum BuildInputError: Error, Equatable, CustomStringConvertible {
  case schemaMismatch(season: String, expected: [String], found: [String])
  case noSeasons
  case badSeasonLabel(String)

  public var description: String {
    switch self {
    case .schemaMismatch(let season, let expected, let found):
      return "season \(season) has columns \(found.joined(separator: ", ")) but the first season has \(expected.joined(separator: ", "))"
    case .noSeasons:
      return "nothing to build: no seasons were given"
    case .badSeasonLabel(let label):
      return "season label \"\(label)\" cannot be a file name: expected YYYY-YY"
    }
  }
}

/// What a build did: the version it published or the latest version that already has this
/// content, and that version's manifest.
public struct BuildResult: Sendable {
  public var outcome: SnapshotStore.PublishOutcome
  public var manifest: Manifest
}

/// Encodes the data files, writes the manifest and publishes them through `SnapshotStore`.
public struct SnapshotBuilder: Sendable {
  public var store: SnapshotStore
  public var format: DataFileFormat
  /// Injectable so tests control `created_at`.
  public var now: @Sendable () -> Date

  public init(store: SnapshotStore, format: DataFileFormat, now: @escaping @Sendable () -> Date = { Date() }) {
    self.store = store
    self.format = format
    self.now = now
  }

  /// The expensive part (encoding, hashing, statistics) runs before the lock is taken so a
  /// waiting build holds the lock only for the writes.
  public func build(
    _ inputs: SnapshotInputs, lockTimeout: Double = 600, onWait: (Int32?) -> Void = { _ in },
    beforeRename: () -> Void = {}
  ) throws -> BuildResult {
    try SnapshotStore.checkDatasetName(inputs.dataset)
    guard let first = inputs.seasons.first else { throw BuildInputError.noSeasons }
    let fields = first.table.fields
    var files: [SnapshotStore.PendingFile] = []
    var entries: [Manifest.FileEntry] = []
    for (label, table) in inputs.seasons {
      guard label.range(of: #"^[0-9]{4}-[0-9]{2}$"#, options: .regularExpression) != nil else {
        throw BuildInputError.badSeasonLabel(label)
      }
      guard table.fields.map(\.name) == fields.map(\.name), table.fields.map(\.type) == fields.map(\.type) else {
        throw BuildInputError.schemaMismatch(season: label, expected: fields.map(\.name), found: table.fields.map(\.name))
      }
      let bytes = try format.encode(table, batchRows: inputs.config.batchRows)
      let name = "\(label).arrow"
      files.append(.init(name: name, bytes: bytes))
      entries.append(.init(path: name, bytes: bytes.count, sha256: Digest.hex(bytes), rows: table.rowCount, season: label))
    }
    let schema = fields.map(Manifest.SchemaColumn.init)
    let content = Digest.content(files: entries, schema: schema)
    let stats = ColumnStats.compute(tables: inputs.seasons.map(\.table))
    let rowCount = entries.reduce(0) { $0 + $1.rows }
    let createdAt = Self.utcString(now())
    let withOverrides = !inputs.config.overrides.isEmpty || inputs.gates.contains { $0.override != nil }

    func manifest(version: String, parent: String?) -> Manifest {
      Manifest(
        dataset: inputs.dataset, version: version, parentVersion: parent, createdAt: createdAt, tool: inputs.tool,
        featureSet: inputs.featureSet, config: inputs.config, source: inputs.source, gates: inputs.gates,
        files: entries, schema: schema, stats: stats, rowCount: rowCount, contentSHA256: content,
        builtWithOverrides: withOverrides)
    }
    let candidate = manifest(version: "", parent: nil)
    var latestManifest: Manifest?
    let outcome = try store.publish(
      dataset: inputs.dataset, files: files, lockTimeout: lockTimeout, onWait: onWait,
      isUnchanged: { latest in
        latestManifest = latest
        return Self.sameContent(latest, candidate)
      },
      makeManifest: { manifest(version: $0, parent: $1) },
      beforeRename: beforeRename)
    switch outcome {
    case .published(let version, _):
      return BuildResult(outcome: outcome, manifest: manifest(version: version, parent: SnapshotStore.previous(version)))
    case .unchanged:
      return BuildResult(outcome: outcome, manifest: latestManifest ?? candidate)
    }
  }

  /// The nothing-changed rule: same data files and schema (content_sha256), same feature-set
  /// spec, same config apart from when date keywords were resolved.
  public static func sameContent(_ a: Manifest, _ b: Manifest) -> Bool {
    var ca = a.config, cb = b.config
    ca.dates.resolvedAt = nil
    cb.dates.resolvedAt = nil
    return a.contentSHA256 == b.contentSHA256 && a.featureSet == b.featureSet && ca == cb
  }

  /// `YYYY-MM-DDTHH:MM:SSZ`, whole seconds.
  public static func utcString(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: date)
  }
}

extension SnapshotStore {
  /// The version before `version` ("v3" → "v2"); nil for v1. Versions are never deleted, so
  /// the previous number is the parent.
  static func previous(_ version: String) -> String? {
    guard let n = versionNumber(version), n > 1 else { return nil }
    return "v\(n - 1)"
  }
}
