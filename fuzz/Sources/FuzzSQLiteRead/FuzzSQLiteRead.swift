// Fuzzes the direct b-tree read (SQLiteSource/BTreeRead.swift) with damaged database files. The
// reader walks pages, cell pointers, varints, record headers and overflow chains of a file it
// did not write, with pointer arithmetic: every one of those numbers is a claim (style.md #5).
// No input may trap or read out of bounds (ASan). On a file that passes SQLite's
// `PRAGMA integrity_check`, whatever the direct read answers must be exactly what the checked
// read (SQLite's own queries) answers or refuses: the direct read may only decline, never
// differ. On a damaged file there is no single right answer to hold it to: SQLite's own
// answers then depend on the access path (its indexed queries skip or stop at rows a table
// scan returns), and the direct read reads a table whole when its index and its rows disagree
// (docs/RELIABILITY.md "Damaged databases"). The seeds come from `dataset import`, so they hold
// both selector indexes; on the seed holding both seasons, a request for one of them reads
// through the indexes, and a damaged index byte exercises their walk.
import CFuzzDriver
import Columnar
import Foundation

@testable import SQLiteSource

@_cdecl("FuzzSQLiteRead_main")
public func fuzzSQLiteReadMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzSQLiteRead(data!, size) }
}

/// One file per process, rewritten for every input (SQLite needs a path, not bytes).
private let path: String = {
  let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
  return "\(dir)/fuzz-sqlite-read-\(getpid()).sqlite"
}()

/// The seeds hold the 2022-23 season (real rows) or 2015-16 (synthetic rows with PCF): each
/// season alone, and both, so a damaged selector can move a row between requested seasons.
private let requests = [[2015, 2022], [2015], [2022]]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSQLiteRead(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  // A truncated or empty file is refused before any page is read; keep executions on files
  // that get as far as the b-tree.
  guard size >= 512 else { return 0 }
  guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size)) else {
    fatalError("cannot write \(path)")
  }
  defer { unlink(path) }
  let reader = SourceReader(path: path)
  for requested in requests {
    // The checked read does not depend on how the direct read splits its work: read once per
    // request, and only when a direct read answered or refused (a decline needs nothing).
    var checkedOutcome: Result<SourceData, SourceError>?
    func checked() -> Result<SourceData, SourceError> {
      if let checkedOutcome { return checkedOutcome }
      let outcome = Result { () throws(SourceError) in try reader.readChecked(try reader.open(), seasons: requested) }
      checkedOutcome = outcome
      return outcome
    }
    // Both thread hand-over paths: one leaf per unit of work and the build's default.
    for leaves in [1, SourceReader.leavesPerChunk] {
      guard let connection = try? reader.open() else { return 0 }
      let direct: SourceData?
      do { direct = try reader.readDirect(connection, seasons: requested, leavesPerChunk: leaves) } catch {
        // A refusal from the direct read is what the user sees (`read` does not fall back
        // after one), so it must be the checked read's own.
        switch checked() {
        case .success:
          precondition(!intact(), "the direct read refused a file the checked read reads: \(error)")
        case .failure(let refusal):
          precondition(
            refusal.description == error.description || !intact(), "direct: \(error)\nchecked: \(refusal)")
        }
        continue
      }
      guard let direct else { continue }
      let reference: SourceData
      switch checked() {
      case .success(let data): reference = data
      case .failure(let refusal):
        precondition(
          !intact(), "the direct read answered \(direct.pgs.count) rows where the checked read refused: \(refusal)")
        continue
      }
      if direct.pgs != reference.pgs || direct.pcf != reference.pcf || direct.schedule != reference.schedule, !intact() {
        continue
      }
      precondition(
        direct.pgs == reference.pgs,
        "PGS differs from the checked read (\(leaves) leaves per unit): \(difference(direct.pgs, reference.pgs))")
      precondition(
        direct.pcf == reference.pcf,
        "PCF differs from the checked read (\(leaves) leaves per unit): \(difference(direct.pcf, reference.pcf))")
      precondition(direct.schedule == reference.schedule, "schedule differs from the checked read")
    }
  }
  return 0
}

/// Whether SQLite finds the file sound (`PRAGMA integrity_check` says "ok"); asked only once
/// the two reads disagree, as it costs more than both.
private func intact() -> Bool {
  guard let connection = try? SourceReader(path: path).open(),
    let statement = try? connection.prepare("PRAGMA integrity_check"), (try? statement.step()) == true
  else { return false }
  return statement.text(0) == "ok"
}

/// The first stored property that differs, and its first differing row, for the crash report.
private func difference<T>(_ a: T, _ b: T) -> String {
  for (x, y) in zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children) {
    let dx = String(describing: x.value), dy = String(describing: y.value)
    guard dx != dy else { continue }
    let rowsX = Mirror(reflecting: x.value).children.map { String(describing: $0.value) }
    let rowsY = Mirror(reflecting: y.value).children.map { String(describing: $0.value) }
    for (k, (u, v)) in zip(rowsX, rowsY).enumerated() where u != v {
      return "\(x.label ?? "?"), part \(k): direct \(u.prefix(600)) / checked \(v.prefix(600))"
    }
    return "\(x.label ?? "?"): direct \(dx.prefix(300)) / checked \(dy.prefix(300))"
  }
  return "no stored property differs"
}
