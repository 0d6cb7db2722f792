import Columnar
import Testing

@testable import ArrowIPC

#if canImport(Glibc)
  import Glibc
#endif

/// Files written by pyarrow 26.0.1 and polars 2.1.0 (Fixtures/, made by the script in
/// Fixtures/README.md), so `swift test` covers foreign layouts without Python: a sliced table
/// (bitmaps and offsets that do not start at zero), several batches, polars' large_utf8.
@Suite struct ForeignWriterTests {
  static func fixture(_ name: String) throws -> [UInt8] {
    let dir = String(#filePath.dropLast("ForeignWriterTests.swift".count)) + "Fixtures/"
    let f = try #require(fopen(dir + name, "rb"), "cannot open \(dir + name)")
    defer { fclose(f) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
      out += chunk[0..<n]
      if n < chunk.count { return out }
    }
  }

  /// The same rows the fixture script generates: rows 1..<20, NULL where i % 6 == 0.
  static var expected: Table {
    let rows = Array(1..<20)
    func pick<T>(_ i: Int, _ v: T) -> T? { i % 6 == 0 ? nil : v }
    var t = Table(rowCount: rows.count)
    t.append(Field(name: "i32", type: .int32), .int32(Column(optionals: rows.map { pick($0, Int32($0 * 1000 - 7)) })))
    t.append(Field(name: "i64", type: .int64), .int64(Column(optionals: rows.map { pick($0, -(Int64($0) << 33)) })))
    t.append(Field(name: "f64", type: .float64), .float64(Column(optionals: rows.map { pick($0, Double($0) / 4) })))
    t.append(Field(name: "flag", type: .bool), .bool(Column(optionals: rows.map { pick($0, $0 % 3 == 1) })))
    t.append(
      Field(name: "text", type: .utf8),
      .utf8(StringColumn(rows.map { pick($0, String(repeating: "é", count: $0 % 4)) })))
    let opening = CivilDate(year: 2023, month: 10, day: 24)?.date32 ?? Date32(daysSinceEpoch: 0)
    t.append(
      Field(name: "day", type: .date32), .date32(Column(optionals: rows.map { pick($0, opening.adding(days: $0)) })))
    return t
  }

  @Test func pyarrowFeatherLZ4SlicedMultiBatch() throws {
    let reader = try ArrowFileReader(bytes: try Self.fixture("pyarrow_lz4.arrow"))
    #expect(reader.batchCount == 3)
    #expect(reader.batches.allSatisfy { $0.compressed })
    #expect(try (0..<3).map { try reader.batch($0).rowCount } == [8, 8, 3])
    expectSameTable(Self.expected, try reader.readAll())
  }

  @Test func polarsOldestCompatLargeUtf8() throws {
    let reader = try ArrowFileReader(bytes: try Self.fixture("polars_oldest_lz4.arrow"))
    #expect(reader.kinds[4] == .largeUtf8)
    expectSameTable(Self.expected, try reader.readAll())
  }
}
