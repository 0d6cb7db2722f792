// Fuzzes ArrowFileReader with arbitrary bytes: every length and offset in the file is a claim
// (style.md #5), so no input may trap, read out of bounds (ASan) or allocate beyond what the
// file could hold. A file that opens is decoded batch by batch and every column's invariants
// are checked, so a reader that accepts inconsistent buffers is caught too.
import ArrowIPC
import Columnar

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzArrowReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  guard let reader = try? ArrowFileReader(bytes: bytes) else { return 0 }
  var rows = 0
  for i in 0..<reader.batchCount {
    guard let table = try? reader.batch(i) else { continue }
    table.checkInvariants()
    rows += table.rowCount
  }
  if let all = try? reader.readAll() {
    all.checkInvariants()
    // readAll must agree with the batches it concatenates.
    precondition(all.rowCount == reader.rowCount, "readAll rows \(all.rowCount) != footer rows \(reader.rowCount)")
  }
  return 0
}
