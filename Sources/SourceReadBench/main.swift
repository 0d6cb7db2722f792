// Benchmark for SourceReader.read (not a test: speed is measured here, never asserted).
//   SourceReadBench --db FILE --season 2015 [--season 2016 …] [--runs 10]
// Reads the seasons N times; prints the best wall and CPU time and a digest of every column,
// validity bit, rowid and row order, so two versions of the reader can be checked to return
// the same SourceData on the same file before their times are compared.
import BenchSupport
import Columnar
import SQLiteSource

let arguments = BenchArguments(
  usage: "usage: SourceReadBench --db FILE --season YYYY [--season YYYY …] [--runs N]", defaultRuns: 10)
let db = arguments.db, seasons = arguments.seasons, runs = arguments.runs
func fail(_ message: String) -> Never { Bench.fail(message) }

/// FNV-1a over raw bytes, chained through every buffer in a fixed order.
struct Digest {
  var h: UInt64 = 0xcbf2_9ce4_8422_2325
  mutating func add<T>(_ array: [T]) {
    add(array.count)
    array.withUnsafeBytes { raw in for b in raw { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
  }
  mutating func add(_ n: Int) {
    withUnsafeBytes(of: n) { raw in for b in raw { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
  }
  mutating func add<E>(_ c: Column<E>) {
    add(c.values)
    add(c.validity.words)
  }
  mutating func add(_ c: StringColumn) {
    add(c.offsets)
    add(c.bytes)
    add(c.validity.words)
  }
}

func digest(_ d: SourceData) -> UInt64 {
  var g = Digest()
  let p = d.pgs
  g.add(p.rowid)
  for s in [p.playerLookup, p.playerFullName, p.universalPlayerId, p.gameId, p.teamAbbr, p.opponentTeamAbbr] {
    g.add(s)
  }
  g.add(p.gameDate)
  g.add(p.seasonYear)
  g.add(p.isHome)
  g.add(p.minutesPlayed)
  for c in p.integerStatColumns { g.add(c.column) }
  g.add(p.usageRate)
  g.add(p.isDnp)
  g.add(p.processedAt)
  let f = d.pcf
  g.add(f.rowid)
  g.add(f.playerLookup)
  g.add(f.gameDate)
  g.add(f.gameId)
  g.add(f.fatigueScore)
  for c in [f.shotZoneMismatchScore, f.paceScore, f.usageSpikeScore, f.totalCompositeAdjustment] { g.add(c) }
  g.add(f.calculationVersion)
  g.add(f.processedAt)
  if let s = d.schedule {
    g.add(s.gameId)
    g.add(s.gameDate)
    g.add(s.seasonYear)
    g.add(s.homeTeamAbbr)
    g.add(s.awayTeamAbbr)
  } else {
    g.add(-1)
  }
  return g.h
}

do {
  var bestWall = Double.infinity, bestCPU = Double.infinity, first = (wall: 0.0, cpu: 0.0)
  var data: SourceData?
  for run in 0..<runs {
    data = nil
    let w0 = Bench.wall(), c0 = Bench.processCPU()
    data = try SourceReader(path: db).read(seasons: seasons)
    let wall = Bench.wall() - w0, cpu = Bench.processCPU() - c0
    if run == 0 { first = (wall, cpu) }
    bestWall = min(bestWall, wall)
    bestCPU = min(bestCPU, cpu)
  }
  guard let data else { fail("no runs") }
  func ms(_ s: Double) -> String { Bench.ms(s, decimals: 1) }
  print(
    "\(data.pgs.count) PGS + \(data.pcf.count) PCF + \(data.schedule?.count ?? 0) schedule rows, seasons \(data.seasons)"
  )
  print(
    "best of \(runs): wall \(ms(bestWall)) ms, CPU \(ms(bestCPU)) ms  (first run wall \(ms(first.wall)) ms, CPU \(ms(first.cpu)) ms)"
  )
  print("digest \(String(digest(data), radix: 16))")
} catch {
  fail("error: \(error)")
}
