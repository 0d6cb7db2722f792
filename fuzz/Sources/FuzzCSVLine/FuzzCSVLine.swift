// Fuzzes the importer's CSV layer: the RFC 4180 record reader alone (every field of every
// record, line numbers never going backwards), then the player-log parser on the same bytes
// (header resolution, field conversions, game pairing) as `dataset import` runs it before the
// database is touched. Any input must end in records or an ImportError, never a trap.
import CFuzzDriver
import Foundation
@testable import Importer

/// The entry SwiftPM's `--defsym main=FuzzCSVLine_main` points at: libFuzzer's driver, with the
/// process's arguments (-max_total_time, corpus folders, …).
@_cdecl("FuzzCSVLine_main")
public func fuzzCSVLineMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzCSVLine(data!, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSVLine(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  var reader = CSVRecordReader(bytes: bytes)
  var lastLine = 0
  var total = 0
  while true {
    guard let more = try? reader.next(), more else { break }
    precondition(reader.line > lastLine, "record line \(reader.line) after \(lastLine)")
    lastLine = reader.line
    for i in 0..<reader.fieldCount { total += reader.field(i).count }
    precondition(total <= bytes.count, "fields hold more bytes than the input")
  }
  var rows = InputRows()
  var cache: [String: String] = [:]
  do {
    try rows.append(path: "fuzz.csv", bytes: bytes, lookupCache: &cache)
    _ = try rows.pgsRows(teamLogs: nil)
  } catch {
    precondition(!error.message.isEmpty)
  }
  return 0
}
