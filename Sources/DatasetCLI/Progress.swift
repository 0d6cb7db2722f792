import ArgumentParser
import Clocks

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Progress of long work (import, build over several seasons, synth), always on stderr and
/// never on stdout, so `--json` output stays clean.
///
/// On a terminal it redraws one line: a bar, the count, the rate and the ETA. Anywhere else
/// (CI logs, a scheduler's captured stderr) it writes a plain line every `lineInterval`
/// seconds, because carriage returns turn a log file into one unreadable line. `--quiet`
/// silences it. Call it from one thread.
///
///     let progress = ProgressReporter.standard(label: "import", unit: "rows", total: n, quiet: quiet)
///     for ... { progress.update(done: k) }
///     progress.finish()
public final class ProgressReporter {
  public enum Style: Sendable, Equatable {
    /// Redrawn in place with `\r` (stderr is a terminal).
    case bar
    /// One plain line every `lineInterval` seconds and one at the end.
    case lines
    case silent
  }

  public let label: String
  public let unit: String
  public private(set) var total: Int?
  public private(set) var done = 0
  public let style: Style
  let write: (String) -> Void
  let now: () -> Double
  let lineInterval: Double
  let redrawInterval: Double
  /// Terminal width for the bar style; the line is cut to it so `\r` redraws one row.
  let columns: Int
  let start: Double
  var lastEmit: Double
  var finished = false

  public init(
    label: String, unit: String, total: Int?, style: Style, columns: Int = 80, lineInterval: Double = 5,
    redrawInterval: Double = 0.1, now: @escaping () -> Double = Clocks.monotonicSeconds,
    write: @escaping (String) -> Void = { FileHandleOutput.standardError.write($0) }
  ) {
    self.label = label
    self.unit = unit
    self.total = total
    self.style = style
    self.columns = max(columns, 20)
    self.lineInterval = lineInterval
    self.redrawInterval = redrawInterval
    self.now = now
    self.write = write
    start = now()
    lastEmit = start
  }

  /// The reporter a command should use: silent with `--quiet`, a bar when stderr is a
  /// terminal, plain lines otherwise.
  public static func standard(label: String, unit: String, total: Int?, quiet: Bool) -> ProgressReporter {
    let stderr = FileHandleOutput.standardError
    let style: Style = quiet ? .silent : (stderr.isTerminal ? .bar : .lines)
    return ProgressReporter(label: label, unit: unit, total: total, style: style, columns: terminalColumns() ?? 80)
  }

  /// Records that `done` units of `total` are finished (`total` may be learnt late or change).
  public func update(done: Int, total: Int? = nil) {
    if let total { self.total = total }
    self.done = done
    guard style != .silent, !finished else { return }
    let t = now()
    switch style {
    case .bar:
      let complete = self.total.map { done >= $0 } ?? false
      if t - lastEmit >= redrawInterval || complete {
        lastEmit = t
        write("\r" + barLine(at: t) + "\u{1B}[K")
      }
    case .lines:
      if t - lastEmit >= lineInterval {
        lastEmit = t
        write(plainLine(at: t) + "\n")
      }
    case .silent:
      break
    }
  }

  /// Ends the display: the bar's line is finished with a newline, the plain style writes a
  /// closing line with the elapsed time. `completed: false` (the work failed) says where it
  /// stopped instead of "done", so a log never reports a failed phase as finished. Safe to
  /// call twice.
  public func finish(completed: Bool = true) {
    guard !finished else { return }
    finished = true
    let t = now()
    switch style {
    case .bar:
      write("\r" + barLine(at: t) + "\u{1B}[K" + (completed ? "" : " stopped") + "\n")
    case .lines:
      // Work shorter than one interval printed nothing so far and needs no closing line:
      // a quick import in a script leaves stderr empty.
      guard t - start >= lineInterval else { return }
      if completed {
        write("\(label): done, \(Self.count(done)) \(unit) in \(Self.duration(t - start))\(rateText(at: t))\n")
      } else {
        let of = total.map { " of \(Self.count($0))" } ?? ""
        write("\(label): stopped at \(Self.count(done))\(of) \(unit) after \(Self.duration(t - start))\n")
      }
    case .silent: break
    }
  }

  // MARK: - Text

  func rate(at t: Double) -> Double? {
    let elapsed = t - start
    guard elapsed > 0, done > 0 else { return nil }
    return Double(done) / elapsed
  }

  func rateText(at t: Double) -> String {
    guard let r = rate(at: t) else { return "" }
    return ", " + Self.rate(r, unit)
  }

  /// "4,000 rows/s", "0.4 seasons/s", "1.7 files/min": slow work still reads as moving.
  static func rate(_ r: Double, _ unit: String) -> String {
    if r >= 10 { return "\(count(Int(r.rounded()))) \(unit)/s" }
    if r >= 0.1 { return "\(Int(r * 10) / 10).\(Int(r * 10) % 10) \(unit)/s" }
    let perMinute = r * 60
    return "\(Int(perMinute * 10) / 10).\(Int(perMinute * 10) % 10) \(unit)/min"
  }

  /// Seconds left at the average rate so far; nil without a total or before any progress.
  func eta(at t: Double) -> Double? {
    guard let total, let r = rate(at: t), r > 0 else { return nil }
    return Double(max(total - done, 0)) / r
  }

  /// "import: 12,000 of 48,000 rows (25.0 %), 4,000 rows/s, ETA 9 s".
  func plainLine(at t: Double) -> String {
    var s = "\(label): \(Self.count(done))"
    if let total { s += " of \(Self.count(total))" }
    s += " \(unit)"
    if let total, total > 0 { s += " (\(Self.percent(done, total)))" }
    s += rateText(at: t)
    if let eta = eta(at: t), done < (total ?? 0) { s += ", ETA \(Self.duration(eta))" }
    return s
  }

  /// "import [#######-------------] 35.0 %  12,000/34,000 rows  4,000 rows/s  ETA 6.0 s". On a
  /// narrow terminal the bar goes first, then the trailing figures, so the line never wraps
  /// (a wrapped line breaks the `\r` redraw).
  func barLine(at t: Double) -> String {
    var segments: [String] = []
    if let total, total > 0 {
      segments.append(Self.percent(done, total))
      segments.append("\(Self.count(done))/\(Self.count(total)) \(unit)")
    } else {
      segments.append("\(Self.count(done)) \(unit)")
    }
    if let r = rate(at: t) { segments.append(Self.rate(r, unit)) }
    if let eta = eta(at: t) {
      segments.append(done < (total ?? 0) ? "ETA \(Self.duration(eta))" : Self.duration(t - start))
    }
    let room = columns - 1
    while segments.count > 1 && label.count + 1 + segments.joined(separator: "  ").count > room {
      segments.removeLast()
    }
    let tail = " " + segments.joined(separator: "  ")
    var line = label
    if let total, total > 0 {
      // Sized for the widest tail this run can print, so the bar does not jump as the rate
      // and ETA change length; on a terminal too narrow for that there is no bar at all.
      let wide =
        " 100.0 %  \(Self.count(total))/\(Self.count(total)) \(unit)  \(Self.count(total)) \(unit)/s  ETA 59 min 59 s"
      let width = min(30, room - label.count - 3 - wide.count)
      if width >= 5 && label.count + 3 + width + tail.count <= room {
        let filled = min(width, done * width / total)
        line += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
      }
    }
    line += tail
    return line.count > room ? String(line.prefix(room)) : line
  }

  static func count(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (k, ch) in digits.enumerated() {
      if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return n < 0 ? "-" + out : out
  }

  /// One decimal, rounded down, so 99.96 % never shows as 100.0 % before the end.
  static func percent(_ part: Int, _ whole: Int) -> String {
    let tenths = min(part, whole) * 1000 / max(whole, 1)
    return "\(tenths / 10).\(tenths % 10) %"
  }

  /// "0.4 s", "42 s", "3 min 05 s", "1 h 02 min".
  static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    if seconds < 10 { return "\(Int(seconds * 10) / 10).\(Int(seconds * 10) % 10) s" }
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s) s" }
    if s < 3600 { return "\(s / 60) min \(s % 60 < 10 ? "0" : "")\(s % 60) s" }
    return "\(s / 3600) h \((s % 3600) / 60 < 10 ? "0" : "")\((s % 3600) / 60) min"
  }

  /// stderr's width in columns, nil when it is not a terminal.
  static func terminalColumns() -> Int? {
    var size = winsize()
    guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
  }
}

/// Work in phases (import: reading, writing PGS, deriving PCF, writing PCF): one
/// `ProgressReporter` per phase, labelled "import: writing PGS", each finished when the next
/// phase starts. Pass `update` as a library's `(phase, done, total)` callback.
public final class PhasedProgress {
  let command: String
  let quiet: Bool
  let unit: (String) -> String
  let make: (_ label: String, _ unit: String, _ total: Int) -> ProgressReporter
  var phase: String?
  var reporter: ProgressReporter?

  public init(
    command: String, quiet: Bool, unit: @escaping (String) -> String,
    make: ((_ label: String, _ unit: String, _ total: Int) -> ProgressReporter)? = nil
  ) {
    self.command = command
    self.quiet = quiet
    self.unit = unit
    self.make =
      make ?? { label, unit, total in ProgressReporter.standard(label: label, unit: unit, total: total, quiet: quiet) }
  }

  public func update(_ phase: String, _ done: Int, _ total: Int) {
    if phase != self.phase {
      reporter?.finish()
      self.phase = phase
      reporter = make("\(command): \(phase)", unit(phase), total)
    }
    reporter?.update(done: done, total: total)
  }

  public func finish(completed: Bool = true) {
    reporter?.finish(completed: completed)
    reporter = nil
  }
}
