import Columnar
import Foundation
import Snapshots
import TestSupport

/// Deterministic test tables and a scratch folder per test.
enum Fixture {
  static let fields = [
    Field(name: "player_lookup", type: .utf8, nullable: false, meaning: "player key"),
    Field(name: "game_date", type: .date32, nullable: false, meaning: "date of the game"),
    Field(name: "points", type: .int32, nullable: false, meaning: "points scored"),
    Field(name: "minutes_avg", type: .float64, nullable: true, meaning: "mean minutes of prior games"),
  ]

  /// `rows` rows; `shift` moves minutes_avg, `nullEvery` makes every n-th minutes_avg NULL.
  static func table(rows: Int, seed: UInt64, shift: Double = 0, nullEvery: Int = 7) -> Table {
    var rng = SplitMix(seed: seed)
    var lookups: [String] = [], dates: [Date32] = [], points: [Int32] = [], minutes: [Double?] = []
    for i in 0..<rows {
      lookups.append("player\(i % 13)")
      dates.append(Date32(daysSinceEpoch: 19_300 + Int32(i / 13)))
      points.append(Int32(rng.next() % 40))
      minutes.append(i % nullEvery == 0 ? nil : 20 + Double(rng.next() % 1000) / 100 + shift)
    }
    return Table(
      fields: fields,
      columns: [
        .utf8(StringColumn(nonNull: lookups)), .date32(Column(dates)), .int32(Column(points)),
        .float64(Column(optionals: minutes)),
      ])
  }

  static let featureSet = Manifest.FeatureSetRef(
    name: "props_v1", version: "1", sha256: String(repeating: "a", count: 64))

  static func inputs(dataset: String = "props", seasons: [(String, Table)], seed: UInt64 = 7) -> SnapshotInputs {
    SnapshotInputs(
      dataset: dataset, seasons: seasons.map { (label: $0.0, table: $0.1) },
      featureSet: featureSet,
      config: .init(
        seasons: seasons.map(\.0), dates: .init(), thresholds: ["usage_rate_coverage": 0.95], overrides: [],
        includeBootstrap: false, batchRows: 64, pointInTimeSeed: seed),
      source: .init(
        file: "league.sqlite", sha256: String(repeating: "b", count: 64),
        tables: [
          "player_game_summary": .init(
            rowCount: 10, contentSHA256: String(repeating: "c", count: 64), newestProcessedAt: nil)
        ]),
      gates: [
        .init(
          name: "usage_rate_coverage", status: "pass", figure: "97.1% of active rows", value: 0.971,
          threshold: "≥ 95 %", evidence: [], evidenceTotal: 0, override: nil)
      ],
      tool: .init(name: "dataset", version: "test"))
  }

  static func builder(root: String) -> SnapshotBuilder {
    SnapshotBuilder(
      store: SnapshotStore(root: root), format: ArrowDataFileFormat(),
      now: { Date(timeIntervalSince1970: 1_790_000_000) })
  }

  static func scratch(_ name: String = #function) -> String {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    return TestScratch.folder("snapshots-\(clean)-\(UInt32.random(in: 0...UInt32.max))")
  }

  static func bytes(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map(Array.init) ?? [] }
  static func write(_ path: String, _ bytes: [UInt8]) {
    precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)), "could not write \(path)")
  }
}

typealias SplitMix = SeededRandom
