import Clocks
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
public struct PhaseTimer {
  public let enabled: Bool
  private var last: Double
  private var lastCPU: Double
  private let start: Double

  public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
    enabled = environment["DATASET_TIMINGS"].map { $0 != "" && $0 != "0" } ?? false
    start = Self.now()
    last = start
    lastCPU = Self.threadCPU()
  }

  public static func now() -> Double { Clocks.monotonicSeconds() }

  /// CPU time of the calling thread.
  public static func threadCPU() -> Double { Clocks.threadCPUSeconds() }

  /// Prints the time since the previous mark under `phase`, with this thread's CPU time.
  public mutating func mark(_ phase: String) {
    guard enabled else { return }
    let t = Self.now(), cpu = Self.threadCPU()
    Self.write(
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
  public func resources() {
    guard enabled, let usage = Clocks.resourceUsage() else { return }
    let user = usage.userSeconds * 1000, system = usage.systemSeconds * 1000
    let wall = (Self.now() - start) * 1000
    Self.write(
      "timing: process: \(String(format: "%.1f", user)) ms user + \(String(format: "%.1f", system)) ms system"
        + " (\(String(format: "%.2f", wall > 0 ? (user + system) / wall : 0)) cores busy), peak RSS \(usage.peakResidentKiB / 1024) MiB,"
        + " \(usage.minorFaults) page faults (\(usage.majorFaults) from disk)\n")
  }

  /// Prints a fact about the build that explains its timings.
  public func say(_ text: String) {
    guard enabled else { return }
    Self.write("timing: \(text)\n")
  }

  /// Prints CPU time spent by threads that are not one phase's (the writer threads'), with
  /// no wall time: their work overlaps every phase after the first season.
  public func note(_ phase: String, cpu: Double) {
    guard enabled else { return }
    Self.write("timing: \(Self.label(phase))            cpu \(Self.ms(cpu)) ms\n")
  }

  /// Prints a duration measured elsewhere (on the other core) without moving the mark, and
  /// the CPU time of the thread that measured it when given.
  public func note(_ phase: String, seconds: Double, cpu: Double? = nil) {
    guard enabled else { return }
    Self.write(
      "timing: \(Self.label(phase)) \(Self.ms(seconds)) ms\(cpu.map { "  cpu \(Self.ms($0)) ms" } ?? "")\n")
  }

  /// Straight to file descriptor 2, as the CLI's own messages are written, so timing lines
  /// interleave with its progress and notes in the order they happened. A failed write is
  /// dropped: a diagnostic has nobody else to tell, and Foundation's `FileHandle.write` traps.
  private static func write(_ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0, errno == EINTR { continue }
      if n < 0, errno == EAGAIN {
        // A descriptor its parent made non-blocking: wait until it takes more, as the CLI's
        // own writer does, rather than drop a line.
        var ready = pollfd(fd: 2, events: Int16(POLLOUT), revents: 0)
        _ = poll(&ready, 1, -1)
        continue
      }
      if n <= 0 { return }
      offset += n
    }
  }
}
