// The process's clocks and resource counters in one place. The build's timings
// (`DATASET_TIMINGS`), the progress line, the lock-wait messages and the benchmark programs all
// read them, and each used to carry its own copy of the `clock_gettime` call.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

public enum Clocks {
  /// Seconds on the monotonic clock: for durations, never for dates.
  public static func monotonicSeconds() -> Double { seconds(CLOCK_MONOTONIC) }

  /// Microseconds on the monotonic clock.
  public static func monotonicMicros() -> Int64 { micros(CLOCK_MONOTONIC) }

  /// Microseconds since 1970-01-01T00:00:00Z.
  public static func realtimeMicros() -> Int64 { micros(CLOCK_REALTIME) }

  /// CPU time of the calling thread. A build runs more busy threads than this machine has
  /// cores, so a phase's wall time includes time spent waiting for a core; this does not.
  public static func threadCPUSeconds() -> Double { seconds(CLOCK_THREAD_CPUTIME_ID) }

  /// CPU time of every thread of the process.
  public static func processCPUSeconds() -> Double { seconds(CLOCK_PROCESS_CPUTIME_ID) }

  /// What `getrusage` says of this process so far; nil if it fails.
  public static func resourceUsage() -> ResourceUsage? {
    var usage = rusage()
    #if canImport(Glibc)
      guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return nil }
    #else
      guard getrusage(RUSAGE_SELF, &usage) == 0 else { return nil }
    #endif
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return ResourceUsage(
      userSeconds: seconds(usage.ru_utime), systemSeconds: seconds(usage.ru_stime),
      peakResidentKiB: Int(usage.ru_maxrss), minorFaults: Int(usage.ru_minflt), majorFaults: Int(usage.ru_majflt))
  }

  private static func seconds(_ id: clockid_t) -> Double {
    var ts = timespec()
    clock_gettime(id, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }

  private static func micros(_ id: clockid_t) -> Int64 {
    var ts = timespec()
    clock_gettime(id, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
  }
}

/// CPU time, peak memory and page faults of the process (`getrusage(RUSAGE_SELF)`).
public struct ResourceUsage: Sendable {
  public let userSeconds: Double
  public let systemSeconds: Double
  /// Linux reports `ru_maxrss` in KiB.
  public let peakResidentKiB: Int
  /// First touches of memory, each a few microseconds of system time on a virtual machine.
  public let minorFaults: Int
  /// Faults that waited for the disk.
  public let majorFaults: Int
}
