// Shared machinery of the reliability suites: the built `dataset` binary run as a separate
// process (exit code, stdout and stderr exactly as a scheduler sees them, and a pid to SIGKILL),
// scratch folders, and a small real source database imported from the NBA.com logs.
import Foundation
import Importer
import SQLiteSource
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

enum Repo {
  /// `<repo>`: three levels above this file (Tests/ReliabilityTests/Support.swift).
  static let root: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
  }()

  static let binary = BuiltBinary.dataset(orElse: root + "/.build/debug/dataset")

  /// `<repo>/../shared/realdata/raw/antbap23_player_logs` (CI clones shared/ beside the repo).
  static let realLogs: String = URL(fileURLWithPath: root).deletingLastPathComponent()
    .appendingPathComponent("shared/realdata/raw/antbap23_player_logs").path
}

/// What one run of the binary showed.
struct CLIResult: CustomStringConvertible {
  var status: Int32
  var stdout: String
  var stderr: String
  /// Killed by this signal instead of exiting (a trap shows up here as SIGILL or SIGTRAP).
  var signal: Int32?

  var description: String {
    "status \(status) signal \(signal.map(String.init) ?? "-")\nstdout: \(stdout)\nstderr: \(stderr)"
  }
}

/// A process of the binary; output goes to files so a big output never blocks on a full pipe.
final class CLIProcess {
  let pid: pid_t
  let outPath: String
  let errPath: String

  init(_ arguments: [String], executable: String = Repo.binary) throws {
    let tag = UUID().uuidString
    outPath = NSTemporaryDirectory() + "reliability-out-\(tag)"
    errPath = NSTemporaryDirectory() + "reliability-err-\(tag)"
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var child: pid_t = 0
    let rc = posix_spawn(&child, executable, &actions, nil, argv, environ)
    guard rc == 0 else { throw SpawnError(executable: executable, code: rc) }
    pid = child
  }

  struct SpawnError: Error, CustomStringConvertible {
    var executable: String
    var code: Int32
    var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
  }

  private var reaped: Int32?

  func kill(_ signal: Int32 = SIGKILL) {
    if reaped == nil { _ = Glibc.kill(pid, signal) }
  }

  /// True once the process has ended (reaped here; `wait()` then returns at once).
  func hasExited() -> Bool {
    if reaped != nil { return true }
    var status: Int32 = 0
    if waitpid(pid, &status, WNOHANG) == pid { reaped = status }
    return reaped != nil
  }

  /// Waits for the process to end and collects what it printed.
  func wait() -> CLIResult {
    var status: Int32 = reaped ?? 0
    if reaped == nil { while waitpid(pid, &status, 0) < 0 && errno == EINTR {} }
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    unlink(outPath)
    unlink(errPath)
    // WIFSIGNALED/WTERMSIG are C macros Swift does not import.
    let termSignal = status & 0x7f
    if termSignal != 0 && termSignal != 0x7f {
      return CLIResult(status: -1, stdout: out, stderr: err, signal: termSignal)
    }
    return CLIResult(status: (status >> 8) & 0xff, stdout: out, stderr: err, signal: nil)
  }
}

/// Runs `dataset arguments…` to the end.
func runCLI(_ arguments: [String]) throws -> CLIResult {
  try CLIProcess(arguments).wait()
}

/// Runs a system tool (mount, umount) to the end.
func runTool(_ executable: String, _ arguments: [String]) throws -> CLIResult {
  try CLIProcess(arguments, executable: executable).wait()
}

/// A fresh folder per test, removed by the caller's `defer`.
struct Scratch {
  let dir: String
  init(_ name: String = #function) {
    let clean = name.filter { $0.isLetter || $0.isNumber }
    dir = TestScratch.folder("reliability-\(clean)-" + UUID().uuidString.prefix(8))
  }
  func path(_ name: String) -> String { dir + "/" + name }
  @discardableResult
  func write(_ name: String, _ text: String) -> String { write(name, bytes: Array(text.utf8)) }
  @discardableResult
  func write(_ name: String, bytes: [UInt8]) -> String {
    let p = path(name)
    precondition(FileManager.default.createFile(atPath: p, contents: Data(bytes)), "could not write \(p)")
    return p
  }
  func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// `dataset synth` of a clean league into `name` in the scratch folder, its path returned: the
/// start of every test that damages an export the way a warehouse does.
func synthLeague(_ s: Scratch, _ name: String, seasons: Int, seed: Int, firstSeason: Int) throws -> String {
  let db = s.path(name)
  let synth = try runCLI([
    "synth", "--db", db, "--seasons", String(seasons), "--seed", String(seed), "--first-season", String(firstSeason),
    "--quiet",
  ])
  try #require(synth.status == 0, "\(synth)")
  return db
}

func fileBytes(_ path: String) -> [UInt8] { FileManager.default.contents(atPath: path).map(Array.init) ?? [] }

/// Every file under `dir` with its size, sorted: "what is on disk", compared before and after.
func tree(_ dir: String) -> [String] {
  guard let e = FileManager.default.enumerator(atPath: dir) else { return [] }
  var out: [String] = []
  while let rel = e.nextObject() as? String {
    let attrs = try? FileManager.default.attributesOfItem(atPath: dir + "/" + rel)
    let isDir = (attrs?[.type] as? FileAttributeType) == .typeDirectory
    out.append(isDir ? rel + "/" : "\(rel) \((attrs?[.size] as? Int) ?? -1)")
  }
  return out.sorted()
}

/// Real NBA.com 2022-23 logs cut to their first `games` games by date, header included.
func realGames(_ games: Int) throws -> String {
  let text = try String(contentsOfFile: Repo.realLogs + "/player_logs_2022-23.csv", encoding: .utf8)
  var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
  let header = lines.removeFirst()
  let cells = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false) }
  var firstDate: [Substring: Substring] = [:]
  for c in cells where firstDate[c[6]] == nil { firstDate[c[6]] = c[7] }
  let keep = Set(firstDate.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.prefix(games).map(\.key))
  return ([header] + zip(lines, cells).filter { keep.contains($0.1[6]) }.map(\.0)).joined(separator: "\n") + "\n"
}

/// A source database of the first 40 real games of 2022-23, imported once per process; tests
/// copy it before breaking it.
enum SmallSource {
  static let dir = TestScratch.folder("reliability-source")
  static let csv: Result<String, Error> = Result {
    let p = dir + "/games.csv"
    try realGames(40).write(toFile: p, atomically: true, encoding: .utf8)
    return p
  }
  static let database: Result<String, Error> = Result {
    let p = dir + "/league.sqlite"
    _ = try Importer(databasePath: p, processedAt: "2024-01-01T00:00:00Z").run(files: [try csv.get()])
    return p
  }

  /// A private copy, with `sql` run on it.
  static func copy(to path: String, sql: String? = nil) throws -> String {
    try FileManager.default.copyItem(atPath: try database.get(), toPath: path)
    if let sql { try Connection(path: path, mode: .readWriteCreate).execute(sql) }
    return path
  }
}
