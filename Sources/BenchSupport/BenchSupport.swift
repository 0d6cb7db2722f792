// What the benchmark executables (FeaturesBench, GatesBench, SourceReadBench) share: their
// common options, clocks and error exit. Speed is measured by these programs, never asserted
// in tests.
import Clocks

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

public enum Bench {
  /// Prints `message` on stderr and exits 1.
  public static func fail(_ message: String) -> Never {
    var text = message + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
  }

  /// Wall time. The benchmark machine is shared, so the CPU clocks below are the comparable
  /// figures; wall time measures the neighbours as much as the code.
  public static func wall() -> Double { Clocks.monotonicSeconds() }
  /// CPU time of the whole process (every thread).
  public static func processCPU() -> Double { Clocks.processCPUSeconds() }
  /// CPU time of the calling thread.
  public static func threadCPU() -> Double { Clocks.threadCPUSeconds() }

  /// Seconds as milliseconds with `decimals` digits after the point (truncated).
  public static func ms(_ s: Double, decimals: Int = 2) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    return String(Double(Int(s * 1000 * scale)) / scale)
  }

  /// Peak resident memory of this process so far, in MiB.
  public static func maxRSSMiB() -> Double { Double(Clocks.resourceUsage()?.peakResidentKiB ?? 0) / 1024 }
}

/// `--db FILE --season YYYY [--season YYYY …] [--runs N]` plus a program's own options: value
/// options (`--spec FILE`) and flags (`--coverage`). Any problem exits with the usage line.
public struct BenchArguments {
  public var db: String
  public var seasons: [Int]
  public var runs: Int
  public var values: [String: String] = [:]
  public var flags: Set<String> = []

  public init(usage: String, defaultRuns: Int, valueOptions: Set<String> = [], flagOptions: Set<String> = []) {
    var db: String?
    var seasons: [Int] = []
    var runs = defaultRuns
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
      if flagOptions.contains(a) {
        flags.insert(a)
        continue
      }
      guard let v = args.next() else { Bench.fail("\(a) needs a value; \(usage)") }
      switch a {
      case "--db": db = v
      case "--season":
        guard let year = Int(v.prefix(4)) else { Bench.fail("--season: expected a start year like 2022, got \(v)") }
        seasons.append(year)
      case "--runs":
        guard let n = Int(v), n >= 1 else { Bench.fail("--runs: expected a positive integer, got \(v)") }
        runs = n
      case _ where valueOptions.contains(a): values[a] = v
      default: Bench.fail("unknown option \(a); \(usage)")
      }
    }
    guard let db, !seasons.isEmpty else { Bench.fail(usage) }
    self.db = db
    self.seasons = seasons
    self.runs = runs
  }
}
