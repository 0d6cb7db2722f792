// Benchmark for the Snapshots side of a build (not a test: speed is measured here, never
// asserted).
//   SnapshotsBench --db FILE --season 2022 [--season 2023 …] [--spec FILE] [--runs 5] [--batch-rows 8192]
//                  [--manifest FILE]
// Reads the seasons and computes their features once, then times, best of N in CPU time of
// this thread: the database file's SHA-256, the whole source fingerprint, the column
// statistics of every season (per season, merged in season order) and each season's data
// file (Arrow + LZ4 + SHA-256); with --manifest, also encoding that manifest. Every run must
// give the same results as the first; a digest of each result is printed so two builds of the
// code can be compared for identical output.
import BenchSupport
import Columnar
import Crypto
import Features
import Foundation
import SQLiteSource
import Snapshots

let arguments = BenchArguments(
  usage:
    "usage: SnapshotsBench --db FILE --season YYYY [--season YYYY …] [--spec FILE] [--runs N] [--batch-rows N] [--manifest FILE]",
  defaultRuns: 5, valueOptions: ["--spec", "--batch-rows", "--manifest"])
let db = arguments.db, runs = arguments.runs
let specPath = arguments.values["--spec"] ?? "Schemas/features/props_v1.json"
guard let batchRows = Int(arguments.values["--batch-rows"] ?? "8192"), batchRows > 0 else {
  Bench.fail("--batch-rows: expected a positive integer")
}
func cpu() -> Double { Bench.threadCPU() }
func ms(_ s: Double) -> String { Bench.ms(s, decimals: 1) }
func sha(_ bytes: [UInt8]) -> String { Digest.hex(bytes) }

/// Best CPU time of `runs` calls of `body`; every call must return what the first did.
func measure<R: Equatable>(_ name: String, _ body: () throws -> R) rethrows -> (best: Double, result: R) {
  var best = Double.infinity
  var first: R?
  for run in 0..<runs {
    let t0 = cpu()
    let r = try body()
    best = min(best, cpu() - t0)
    if let first, first != r { Bench.fail("\(name): run \(run + 1) gave a different result: the benchmark is void") }
    first = r
  }
  return (best, first!)
}

do {
  let spec = try FeatureSetSpec.load(path: specPath)
  let source = try SourceReader(path: db).read(seasons: arguments.seasons)
  let seasons = try FeatureEngine(spec: spec).compute(source: source)
  let outputRows = seasons.reduce(0) { $0 + $1.table.rowCount }
  print(
    "\(source.pgs.count) PGS + \(source.pcf.count) PCF rows, \(seasons.count) season(s), \(outputRows) feature rows; best of \(runs), CPU time of one thread"
  )

  let file = try measure("file hash") { try Digest.file(atPath: db) }
  let fingerprint = try measure("fingerprint") { try SourceFingerprinter.fingerprint(source) }
  let stats = measure("statistics") { () -> [String: ColumnStats] in
    let perSeason = seasons.map { ColumnStats.TableAccumulator(table: $0.table) }
    var all = ColumnStats.TableAccumulator(fields: seasons[0].table.fields)
    for s in perSeason { all.merge(s) }
    return all.finish()
  }
  let format = ArrowDataFileFormat()
  let files = try measure("encode") { () -> [String] in
    try seasons.map { try sha(format.encode($0.table, batchRows: batchRows)) }
  }

  print("  database file SHA-256:  \(ms(file.best)) ms  (\(file.result.prefix(16))…)")
  print(
    "  source fingerprint:     \(ms(fingerprint.best)) ms  (file hash included; rows alone ≈ \(ms(fingerprint.best - file.best)) ms)"
  )
  for (name, t) in fingerprint.result.tables.sorted(by: { $0.key < $1.key }) {
    print("    \(name): \(t.rowCount) rows \(t.contentSHA256)")
  }
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  let statsJSON = try encoder.encode(stats.result)
  print(
    "  column statistics:      \(ms(stats.best)) ms  (\(stats.result.count) columns, JSON sha256 \(sha(Array(statsJSON)).prefix(16))…)"
  )
  print(
    "  encode + LZ4 + SHA-256: \(ms(files.best)) ms  (files sha256 \(sha(Array(files.result.joined(separator: "\n").utf8)).prefix(16))…)"
  )
  if let path = arguments.values["--manifest"] {
    let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    let encoded = try measure("manifest") { try manifest.encoded() }
    print(
      "  manifest JSON:          \(ms(encoded.best)) ms  (\(encoded.result.count) bytes, sha256 \(sha(encoded.result).prefix(16))…)"
    )
  }
} catch {
  Bench.fail("error: \(error)")
}
