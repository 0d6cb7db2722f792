import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Wall-clock time per build phase on stderr when `DATASET_TIMINGS=1`: the first thing to look
/// at when a build is slower than it should be (docs/BENCH.md). Off by default, and free then.
///
/// Each line also gives the CPU time of the thread that did the phase: the build's threads
/// outnumber the two cores, so a phase's wall time includes the time its thread waited for a
/// core, and only the CPU time says what the phase itself costs.
struct PhaseTimer {
  let enabled: Bool
  private var last: Double
  private var lastCPU: Double
  private let start: Double

  init(environment: [String: String] = ProcessInfo.processInfo.environment) {
    enabled = environment["DATASET_TIMINGS"].map { $0 != "" && $0 != "0" } ?? false
    start = Self.now()
    last = start
    lastCPU = Self.threadCPU()
  }

  static func now() -> Double { clock(CLOCK_MONOTONIC) }

  /// CPU time of the calling thread.
  static func threadCPU() -> Double { clock(CLOCK_THREAD_CPUTIME_ID) }

  private static func clock(_ id: clockid_t) -> Double {
    var ts = timespec()
    clock_gettime(id, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  /// Prints the time since the previous mark under `phase`, with this thread's CPU time.
  mutating func mark(_ phase: String) {
    guard enabled else { return }
    let t = Self.now(), cpu = Self.threadCPU()
    FileHandleOutput.standardError.write(
      "timing: \(Self.label(phase)) \(Self.ms(t - last)) ms  cpu \(Self.ms(cpu - lastCPU)) ms  (total \(String(format: "%.1f", (t - start) * 1000)) ms)\n"
    )
    last = t
    lastCPU = cpu
  }

  private static func label(_ phase: String) -> String { phase.padding(toLength: 34, withPad: " ", startingAt: 0) }
  private static func ms(_ seconds: Double) -> String { String(format: "%8.1f", seconds * 1000) }

  /// Prints the process's CPU time, peak resident memory and page faults so far: a build that
  /// is slow with idle cores, or slow in the kernel, shows it here. First-touch page faults
  /// cost several microseconds each on virtual machines (docs/BENCH.md, session 5).
  func resources() {
    guard enabled else { return }
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return }
    func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
    let wall = (Self.now() - start) * 1000
    let cpu = ms(usage.ru_utime) + ms(usage.ru_stime)
    FileHandleOutput.standardError.write(
      "timing: process: \(String(format: "%.1f", ms(usage.ru_utime))) ms user + \(String(format: "%.1f", ms(usage.ru_stime))) ms system"
        + " (\(String(format: "%.2f", wall > 0 ? cpu / wall : 0)) cores busy), peak RSS \(usage.ru_maxrss / 1024) MiB,"
        + " \(usage.ru_minflt) page faults (\(usage.ru_majflt) from disk)\n")
  }

  /// Prints CPU time spent by threads that are not one phase's (the writer threads'), with
  /// no wall time: their work overlaps every phase after the first season.
  func note(_ phase: String, cpu: Double) {
    guard enabled else { return }
    FileHandleOutput.standardError.write("timing: \(Self.label(phase))            cpu \(Self.ms(cpu)) ms\n")
  }

  /// Prints a duration measured elsewhere (on the other core) without moving the mark, and
  /// the CPU time of the thread that measured it when given.
  func note(_ phase: String, seconds: Double, cpu: Double? = nil) {
    guard enabled else { return }
    FileHandleOutput.standardError.write(
      "timing: \(Self.label(phase)) \(Self.ms(seconds)) ms\(cpu.map { "  cpu \(Self.ms($0)) ms" } ?? "")\n")
  }
}
