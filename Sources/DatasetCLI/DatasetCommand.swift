import ArgumentParser
import Gates
import Pipeline
import SQLiteSource
import Snapshots
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

public struct DatasetCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "dataset",
    abstract: "Turns an NBA analytics warehouse export into verified, versioned training data.",
    // The version a manifest records as `tool.version`: the first thing to compare when two
    // hosts build different bytes from the same export.
    version: Manifest.Tool.current.version,
    subcommands: DatasetCommand.allSubcommands
  )

  public init() {}

  /// The one place that maps errors to exit codes (style.md #2). argument-parser would exit 64
  /// for a validation error on Linux; gates.md says 1.
  public static func main(_ arguments: [String]? = nil) -> Never {
    let status = run(arguments)
    Glibc.exit(status)
  }

  public static func run(_ arguments: [String]?) -> Int32 {
    // A scheduler that asked for --json parses stdout: an error that stops the command before
    // its report (exit 1 or 3) is said there too, not only on stderr. Exit 2 prints the gate or
    // verify report itself.
    let wantsJSON = (arguments ?? Array(CommandLine.arguments.dropFirst())).contains("--json")
    func fail(_ message: String, _ status: ExitStatus, reason: FailureReason? = nil) -> Int32 {
      printError(message)
      if wantsJSON && status != .gateFailed {
        FileHandleOutput.standardOutput.write(
          jsonText(JSONError(exitCode: status.rawValue, message: message, reason: reason)))
      }
      return outputStatus(status)
    }
    if let unknown = unknownCommand(in: arguments ?? Array(CommandLine.arguments.dropFirst())) {
      return fail(unknown, .usage)
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      return outputStatus(.ok)
    } catch let failure as CommandFailure {
      return fail(failure.message, failure.status, reason: failure.reason)
    } catch let error as SourceError {
      return fail("error: \(error)", .unusableInput, reason: FailureReason(error))
    } catch {
      // argument-parser's own errors: a help request (`--help`, and `help` or a bare `dataset`,
      // which reach run()) is exit 0; a parse or validation error is a usage error.
      if exitCode(for: error) == .success {
        FileHandleOutput.standardOutput.write(fullMessage(for: error) + "\n")
        return outputStatus(.ok)
      }
      if error is ValidationError || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
        // argument-parser starts its messages "Error: "; every other error of the tool, and the
        // log patterns written for them, say "error: ".
        var message = fullMessage(for: error)
        if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
        return fail(message, .usage)
      }
      // Otherwise what stops a command is the input, never the command line (gates.md keeps 1
      // for that): an error no command turned into a message.
      return fail("error: \(error)", .unusableInput)
    }
  }
}

/// argument-parser answers `dataset gates --help` and `dataset help gates` with the top-level
/// help and exit 0 (a spec audit): a typo'd command in a scheduler's health check would pass.
/// The first word, and the one after `help`, must name a command.
func unknownCommand(in arguments: [String]) -> String? {
  let names = DatasetCommand.allSubcommands.map { $0._commandName } + ["help"]
  var words = arguments.prefix(2).makeIterator()
  guard var word = words.next(), !word.hasPrefix("-") else { return nil }
  if word == "help" {
    guard let next = words.next(), !next.hasPrefix("-") else { return nil }
    word = next
  }
  guard !names.contains(word) else { return nil }
  let visible = DatasetCommand.allSubcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
  return "error: unknown command '\(word)': expected one of \(visible.joined(separator: ", ")) (dataset --help)"
}

/// `status`, unless standard output could not be written: a scheduler that saves `--json` or a
/// listing to a full disk must not get exit 0 and a cut-off file (a review found `show --json`
/// cut at 16 KiB and `validate --json` empty, both exit 0). Then 3, and stderr says what was lost.
/// A command that already fails keeps its own status.
func outputStatus(_ status: ExitStatus) -> Int32 {
  guard let code = FileHandleOutput.standardOutputFailure, status == .ok else { return status.rawValue }
  let done = FileHandleOutput.outputLossContext.withLock { $0 }.map { "; \($0)" } ?? ""
  printError(
    "error: writing to standard output failed: \(String(cString: strerror(code))) (errno \(code)); what it printed is incomplete\(done)"
  )
  return ExitStatus.unusableInput.rawValue
}

/// `{"error": {"exit_code": 3, "message": "…"}}`: the message as stderr has it, one line per line.
struct JSONError: Encodable {
  struct Body: Encodable {
    var exitCode: Int32
    var message: String
    var reason: FailureReason?
    enum CodingKeys: String, CodingKey {
      case exitCode = "exit_code"
      case message, reason
    }
    /// `reason` is always present, null when the failure has none, so every envelope has one shape.
    func encode(to encoder: Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(exitCode, forKey: .exitCode)
      try c.encode(message, forKey: .message)
      if let reason { try c.encode(reason, forKey: .reason) } else { try c.encodeNil(forKey: .reason) }
    }
  }
  var error: Body
  init(exitCode: Int32, message: String, reason: FailureReason? = nil) {
    var text = message
    while text.hasSuffix("\n") { text.removeLast() }
    error = Body(exitCode: exitCode, message: text, reason: reason)
  }
}

func printError(_ message: String) {
  var text = message
  if !text.hasSuffix("\n") { text += "\n" }
  FileHandleOutput.standardError.write(text)
}

/// Writes straight to file descriptors 1 and 2 (no C `FILE*` globals, which Swift 6 treats as
/// shared mutable state).
public enum FileHandleOutput {
  case standardOutput, standardError

  /// What the command did that a lost stdout must not hide (a build's publish), for the
  /// message `outputStatus` prints.
  static let outputLossContext = Mutex<String?>(nil)
  static func whatHappenedBeforeOutputLoss(_ text: String) { outputLossContext.withLock { $0 = text } }

  /// The errno of the first write to standard output that failed, 0 while none has.
  private static let stdoutErrno = Atomic<Int32>(0)
  public static var standardOutputFailure: Int32? {
    let code = stdoutErrno.load(ordering: .relaxed)
    return code == 0 ? nil : code
  }

  public func write(_ text: String) {
    let fd: Int32 = self == .standardOutput ? 1 : 2
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
      if n < 0, errno == EINTR { continue }
      if n < 0, errno == EAGAIN {
        // A descriptor its parent made non-blocking (some process managers do): wait until it
        // takes more, rather than calling a full pipe a failed write.
        var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&ready, 1, -1)
        continue
      }
      if n <= 0 {
        // A stderr that cannot be written has nobody to tell; stdout's loss decides the exit.
        if self == .standardOutput {
          _ = Self.stdoutErrno.compareExchange(expected: 0, desired: n < 0 ? errno : EIO, ordering: .relaxed)
        }
        return
      }
      offset += n
    }
  }

  /// True when this stream is a terminal (colour and progress bars only then).
  public var isTerminal: Bool { isatty(self == .standardOutput ? 1 : 2) == 1 }
}
