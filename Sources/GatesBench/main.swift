// Benchmark for GateRunner (not a test: speed is measured here, never asserted).
//   GatesBench --db FILE --season 2022 [--season 2023 …] [--runs 10] [--coverage]
// Reads the seasons once, then times GateRunner.run (and with --coverage
// CoverageBreakdown.compute) best of N in CPU time, and checks every run's JSON report is the
// same bytes as the first.
import Columnar
import Gates
import SQLiteSource

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

func fail(_ message: String) -> Never {
  var text = message + "\n"
  text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
  exit(1)
}

let usage = "usage: GatesBench --db FILE --season YYYY [--season YYYY …] [--runs N] [--coverage]"
var db: String?
var seasons: [Int] = []
var runs = 10
var coverage = false
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
  if a == "--coverage" {
    coverage = true
    continue
  }
  guard let v = args.next() else { fail("\(a) needs a value; \(usage)") }
  switch a {
  case "--db": db = v
  case "--season":
    guard let year = Int(v.prefix(4)) else { fail("--season: expected a start year like 2022, got \(v)") }
    seasons.append(year)
  case "--runs":
    guard let n = Int(v), n >= 1 else { fail("--runs: expected a positive integer, got \(v)") }
    runs = n
  default: fail("unknown option \(a); \(usage)")
  }
}
guard let db, !seasons.isEmpty else { fail(usage) }

/// CPU time of this thread and wall time: the machine is shared, and wall time there measures
/// the neighbours as much as the gates.
func cpu() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
func wall() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
func maxRSSMiB() -> Double {
  var u = rusage()
  #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &u)
  #else
    getrusage(RUSAGE_SELF, &u)
  #endif
  return Double(u.ru_maxrss) / 1024
}
func ms(_ s: Double) -> String { String(Double(Int(s * 1e5)) / 100) }

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
