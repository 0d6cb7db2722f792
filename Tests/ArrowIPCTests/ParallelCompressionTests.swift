import Columnar
import LZ4
import Testing

@testable import ArrowIPC

/// The concurrent LZ4 pass must change nothing but the time: the file is compared byte for
/// byte with the one the inline path writes for the same table.
@Suite struct ParallelCompressionTests {
  /// Encodes with the frames made ahead (threshold 0) or inline (threshold never reached).
  func encode(_ tables: [Table], batchRows: Int, parallel: Bool) throws -> [UInt8] {
    var writer = ArrowFileWriter(fields: tables[0].fields, compression: .lz4Frame, batchRows: batchRows)
    writer.parallelCompressionBytes = parallel ? 0 : .max
    for t in tables { try writer.write(t) }
    return try writer.finish()
  }

  @Test(arguments: [(200, 1), (500, 7), (3001, 64), (3001, 1000), (3001, 4096)])
  func sameBytesAsInlineCompression(rows: Int, batchRows: Int) throws {
    let table = sampleTable(rows: rows, seed: UInt64(batchRows) &* 31)
    let parallel = try encode([table], batchRows: batchRows, parallel: true)
    #expect(parallel == (try encode([table], batchRows: batchRows, parallel: false)))
    expectSameTable(table, try ArrowFileReader(bytes: parallel).readAll())
  }

  @Test func severalWritesAndEmptyBuffersMatchInline() throws {
    // All-NULL and all-empty string columns give zero-byte value buffers, which have no
    // frame; a zero-row table adds no batch; rows straddle several writes.
    var empty = Table(rowCount: 0)
    var allNull = Table(rowCount: 50)
    let base = sampleTable(rows: 50, seed: 3)
    for (f, c) in zip(base.fields, base.columns) {
      empty.append(f, c.slice(0..<0))
      switch c {
      case .utf8: allNull.append(f, .utf8(StringColumn(Array(repeating: f.nullable ? nil : "", count: 50))))
      default: allNull.append(f, c)
      }
    }
    let tables = [sampleTable(rows: 333, seed: 9), empty, allNull, sampleTable(rows: 1, seed: 10)]
    for batchRows in [1, 16, 500] {
      let parallel = try encode(tables, batchRows: batchRows, parallel: true)
      #expect(parallel == (try encode(tables, batchRows: batchRows, parallel: false)), "batchRows \(batchRows)")
    }
  }

  @Test func defaultThresholdKeepsSmallTablesInline() throws {
    let small = sampleTable(rows: 100, seed: 1)
    #expect(
      try ArrowFileWriter.compressValueBuffers(
        small, batchRows: 64, minimumBytes: ArrowFileWriter.defaultParallelCompressionBytes
      ).isEmpty)
    let slices = ArrowFileWriter.valueSlices(small, batchRows: 64)
    // i32, i64, f64, text (unless every string in the batch is empty), day, dense per batch.
    #expect(slices.count <= 2 * 6 && slices.count >= 2 * 5)
    #expect(slices.allSatisfy { $0.byteCount > 0 })
    let frames = try ArrowFileWriter.compressValueBuffers(small, batchRows: 64, minimumBytes: 0)
    defer { frames.release() }
    #expect(frames.count == slices.count)
    // Each frame is the one the inline path makes of the same bytes.
    for (i, slice) in slices.enumerated() {
      let inline = try valueBytes(small.columns[slice.column]) {
        try LZ4Frame.compress(
          UnsafeRawBufferPointer(rebasing: $0[slice.byteStart..<(slice.byteStart + slice.byteCount)]))
      }
      #expect(Array(frames.frame(i)) == inline, "frame \(i) (column \(slice.column))")
    }
  }

  /// A column's value buffer (a string column's UTF-8 bytes), as the writer slices it.
  func valueBytes<R>(_ column: AnyColumn, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    switch column {
    case .int32(let c): try c.values.withUnsafeBytes(body)
    case .int64(let c): try c.values.withUnsafeBytes(body)
    case .float64(let c): try c.values.withUnsafeBytes(body)
    case .date32(let c): try c.values.withUnsafeBytes(body)
    case .utf8(let c): try c.bytes.withUnsafeBytes(body)
    case .bool: throw SliceError.boolHasNoValueBuffer
    }
  }

  enum SliceError: Error { case boolHasNoValueBuffer }
}
