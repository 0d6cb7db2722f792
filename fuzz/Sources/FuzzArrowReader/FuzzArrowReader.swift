// Fuzzes ArrowFileReader with arbitrary bytes: every length and offset in the file is a claim
// (style.md #5), so no input may trap, read out of bounds (ASan) or allocate beyond what the
// file could hold. A file that opens is decoded batch by batch and every column's invariants
// are checked, so a reader that accepts inconsistent buffers is caught too.
import CFuzzDriver
import ArrowIPC
import Columnar

/// The entry SwiftPM's `--defsym main=FuzzArrowReader_main` points at: libFuzzer's driver, with the
/// process's arguments (-max_total_time, corpus folders, …).
@_cdecl("FuzzArrowReader_main")
public func fuzzArrowReaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzArrowReader(data!, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArrowReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  guard let reader = try? ArrowFileReader(bytes: bytes) else { return 0 }
  var rows = 0
  for i in 0..<reader.batchCount {
    guard let table = try? reader.batch(i) else { continue }
    check(table)
    rows += table.rowCount
  }
  if let all = try? reader.readAll() {
    check(all)
    // readAll must agree with the batches it concatenates.
    precondition(all.rowCount == reader.rowCount, "readAll rows \(all.rowCount) != footer rows \(reader.rowCount)")
  }
  return 0
}

/// Bitmap length, bits past the end, null count = popcount, offsets: every column, and all
/// columns as long as the table.
func check(_ table: Table) {
  for c in table.columns {
    c.checkInvariants()
    precondition(c.count == table.rowCount, "column of \(c.count) rows in a table of \(table.rowCount)")
  }
}
