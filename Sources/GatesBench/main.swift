// Benchmark for GateRunner (not a test: speed is measured here, never asserted).
//   GatesBench --db FILE --season 2022 [--season 2023 …] [--runs 10] [--coverage]
// Reads the seasons once, then times GateRunner.run (and with --coverage
// CoverageBreakdown.compute) best of N in CPU time, and checks every run's JSON report is the
// same bytes as the first.
import BenchSupport
import Columnar
import Gates
import SQLiteSource

let arguments = BenchArguments(
  usage: "usage: GatesBench --db FILE --season YYYY [--season YYYY …] [--runs N] [--coverage]", defaultRuns: 10,
  flagOptions: ["--coverage"])
let db = arguments.db, seasons = arguments.seasons, runs = arguments.runs
let coverage = arguments.flags.contains("--coverage")
/// CPU time of this thread, and wall time: the machine is shared.
func cpu() -> Double { Bench.threadCPU() }
func wall() -> Double { Bench.wall() }
func maxRSSMiB() -> Double { Bench.maxRSSMiB() }
func ms(_ s: Double) -> String { Bench.ms(s) }
func fail(_ message: String) -> Never { Bench.fail(message) }

do {
  let source = try SourceReader(path: db).read(seasons: seasons)
  let rssAfterRead = maxRSSMiB()
  var bestCPU = Double.infinity, bestWall = Double.infinity, firstCPU = 0.0
  var reference: String?
  for run in 0..<runs {
    let (c0, w0) = (cpu(), wall())
    let report = GateRunner.run(source: source)
    let (c, w) = (cpu() - c0, wall() - w0)
    if run == 0 { firstCPU = c }
    bestCPU = min(bestCPU, c)
    bestWall = min(bestWall, w)
    let json = report.json()
    if let reference, reference != json { fail("run \(run + 1) gave a different report: the benchmark is void") }
    reference = json
  }
  let rssAfterGates = maxRSSMiB()
  print(
    "gates: \(source.pgs.count) PGS + \(source.pcf.count) PCF rows, \(seasons.count) season(s), best of \(runs): CPU \(ms(bestCPU)) ms, wall \(ms(bestWall)) ms (first run CPU \(ms(firstCPU)) ms)"
  )
  print("  peak RSS after read \(Int(rssAfterRead)) MiB, after gates \(Int(rssAfterGates)) MiB")
  if coverage {
    var best = Double.infinity
    for _ in 0..<runs {
      let c0 = cpu()
      let b = CoverageBreakdown.compute(source: source)
      best = min(best, cpu() - c0)
      precondition(b.count == source.seasons.count)
    }
    print("  CoverageBreakdown.compute: CPU \(ms(best)) ms; peak RSS \(Int(maxRSSMiB())) MiB")
  }
} catch {
  fail("error: \(error)")
}
