// Benchmark for the feature engine (not a test: speed is measured here, never asserted).
//   FeaturesBench --db FILE --season 2022 [--spec Schemas/features/props_v1.json] [--runs 20]
// Times FeatureEngine with each kernel (columns = the default, the SIMD row kernel, the scalar
// reference) on the same SourceData, best of N each, checks all outputs are identical, prints
// rows/s and speed-ups, and for the default kernel the split between `start` (indexing, once)
// and `compute(season:of:)` (per season).
import BenchSupport
import Columnar
import Features
import SQLiteSource

let arguments = BenchArguments(
  usage: "usage: FeaturesBench --db FILE --season YYYY [--spec FILE] [--runs N]", defaultRuns: 20,
  valueOptions: ["--spec"])
let db = arguments.db, season = arguments.seasons[0], runs = arguments.runs
let specPath = arguments.values["--spec"] ?? "Schemas/features/props_v1.json"
/// CPU time of this process, not wall time: the benchmark machine is shared.
func now() -> Double { Bench.processCPU() }
func fail(_ message: String) -> Never { Bench.fail(message) }

do {
  let spec = try FeatureSetSpec.load(path: specPath)
  let source = try SourceReader(path: db).read(seasons: [season])
  var results: [KernelChoice: (best: Double, first: Double, output: [SeasonFeatures])] = [:]
  var split = (start: Double.infinity, compute: Double.infinity)
  for kernel in [KernelChoice.columns, .simd, .scalar] {
    let engine = FeatureEngine(spec: spec, kernel: kernel)
    var best = Double.infinity, first = 0.0
    var output: [SeasonFeatures] = []
    for run in 0..<runs {
      let t0 = now()
      output = try engine.compute(source: source)
      let t = now() - t0
      if run == 0 { first = t }
      best = min(best, t)
      if kernel == .columns {
        let t0 = now()
        let r = engine.start(source: source)
        let t1 = now()
        for k in r.seasons.indices { _ = try engine.compute(season: k, of: r) }
        split = (min(split.start, t1 - t0), min(split.compute, now() - t1))
      }
    }
    results[kernel] = (best, first, output)
  }
  guard let columns = results[.columns], let simd = results[.simd], let scalar = results[.scalar] else {
    fail("no results")
  }
  guard simd.output == scalar.output, columns.output == scalar.output else {
    fail("the kernels disagree: the benchmark is void")
  }
  let rows = simd.output.reduce(0) { $0 + $1.table.rowCount }
  let pgsRows = source.pgs.count
  func ms(_ s: Double) -> String { Bench.ms(s) }
  print(
    "feature set \(spec.name), season \(Season.label(season)): \(rows) output rows from \(pgsRows) PGS rows, \(spec.columns.count) columns, best of \(runs), CPU time"
  )
  // The first run also pays for first-touch page faults on fresh memory (a one-shot
  // `dataset build` does too); later runs may reuse memory the allocator kept.
  print(
    "  column kernels: \(ms(columns.best)) ms  \(Int(Double(rows) / columns.best)) rows/s  (first run \(ms(columns.first)) ms)"
  )
  print("    of which start (index, once) \(ms(split.start)) ms, compute(season:of:) \(ms(split.compute)) ms")
  print(
    "  SIMD kernel:   \(ms(simd.best)) ms  \(Int(Double(rows) / simd.best)) rows/s  (first run \(ms(simd.first)) ms)")
  print(
    "  scalar kernel: \(ms(scalar.best)) ms  \(Int(Double(rows) / scalar.best)) rows/s  (first run \(ms(scalar.first)) ms)"
  )
  print(
    "  speed-up (whole engine, scalar/SIMD): \(Double(Int(scalar.best / simd.best * 100)) / 100)x, SIMD/columns: \(Double(Int(simd.best / columns.best * 100)) / 100)x"
  )
  // The point_in_time gate on the same real data, so a bench run also shows it passing.
  let t0 = now()
  let pit = PointInTimeCheck.run(spec: spec, source: source, output: columns.output, sampleSize: 500, seed: 20_221_018)
  print("  point_in_time: \(pit.checkedRows) rows checked, \(pit.mismatches.count) mismatches (\(ms(now() - t0)) ms)")
  for m in pit.mismatches.prefix(5) { print("    \(m)") }
} catch {
  fail("error: \(error)")
}
