import Columnar
import Testing

@testable import ArrowIPC
import TestSupport

typealias SplitMix64 = SeededRandom

/// A table of every type; `nullAt` rows are NULL in every nullable column, plus seeded NULLs.
func sampleTable(rows: Int, seed: UInt64, nullAt: Set<Int> = [], extraNulls: Bool = true) -> Table {
  var rng = SplitMix64(seed: seed)
  func isNull(_ i: Int) -> Bool { nullAt.contains(i) || (extraNulls && rng.below(5) == 0) }
  var i32 = Column<Int32>(), i64 = Column<Int64>(), f64 = Column<Double>(), flag = Column<Bool>()
  var text = StringColumn(), day = Column<Date32>(), dense = Column<Double>()
  let specials: [Double] = [.infinity, -.infinity, -0.0, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
  let words = ["", "a", "héllo", "日本語", "🏀🏀", "LeBron James", "x"]
  for i in 0..<rows {
    i32.append(isNull(i) ? nil : Int32(truncatingIfNeeded: rng.next()))
    i64.append(isNull(i) ? nil : Int64(bitPattern: rng.next()))
    f64.append(
      isNull(i) ? nil : (rng.below(4) == 0 ? specials[rng.below(specials.count)] : Double(rng.below(1_000_000)) / 7))
    flag.append(isNull(i) ? nil : rng.next() & 1 == 1)
    text.append(isNull(i) ? nil : words[rng.below(words.count)])
    day.append(isNull(i) ? nil : Date32(daysSinceEpoch: Int32(rng.below(40_000)) - 10_000))
    dense.append(Double(i) * 0.5)
  }
  var t = Table(rowCount: rows)
  t.append(Field(name: "i32", type: .int32, meaning: "a 32-bit integer"), .int32(i32))
  t.append(Field(name: "i64", type: .int64), .int64(i64))
  t.append(Field(name: "f64", type: .float64, meaning: "with NaN and ±inf"), .float64(f64))
  t.append(Field(name: "flag", type: .bool), .bool(flag))
  t.append(Field(name: "text", type: .utf8), .utf8(text))
  t.append(Field(name: "day", type: .date32), .date32(day))
  t.append(Field(name: "dense", type: .float64, nullable: false), .float64(dense))
  return t
}

/// Compares every value and validity bit; doubles by bit pattern so NaN and -0.0 count.
func expectSameTable(_ a: Table, _ b: Table, sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(a.fields == b.fields, sourceLocation: sourceLocation)
  #expect(a.rowCount == b.rowCount, sourceLocation: sourceLocation)
  guard a.columns.count == b.columns.count else {
    Issue.record("column counts differ", sourceLocation: sourceLocation)
    return
  }
  for (k, (x, y)) in zip(a.columns, b.columns).enumerated() {
    y.checkInvariants()
    #expect(x.validity == y.validity, "validity of \(a.fields[k].name)", sourceLocation: sourceLocation)
    switch (x, y) {
    case (.float64(let p), .float64(let q)):
      #expect(
        p.values.map(\.bitPattern) == q.values.map(\.bitPattern), "\(a.fields[k].name)", sourceLocation: sourceLocation)
    default:
      #expect(x == y, "column \(a.fields[k].name)", sourceLocation: sourceLocation)
    }
  }
}

@Suite struct ArrowRoundTripTests {
  /// Field metadata beyond `meaning`, and the schema's own, travel in order, in the stream's
  /// schema message and in the footer alike; without them the bytes are what they were.
  @Test func fieldAndSchemaMetadataRoundTrip() throws {
    var table = Table(rowCount: 2)
    table.append(
      Field(name: "x", type: .int32, meaning: "an int", metadata: [Metadatum("kind", "label"), Metadatum("unit", "")]),
      .int32(Column([1, 2])))
    table.append(
      Field(name: "y", type: .utf8, metadata: [Metadatum("kind", "key")]), .utf8(StringColumn(nonNull: ["a", "b"])))
    let schemaMetadata = [Metadatum("season", "2022-23"), Metadatum("feature_set", "props_v1")]
    let bytes = try ArrowFile.encode(table, schemaMetadata: schemaMetadata, compression: .lz4Frame, batchRows: 8)
    let reader = try ArrowFileReader(bytes: bytes)
    #expect(reader.fields == table.fields)
    #expect(reader.fields[0].metadata("kind") == "label" && reader.fields[1].metadata("unit") == nil)
    #expect(reader.schemaMetadata == schemaMetadata)
    expectSameTable(table, try reader.readAll())
    // No metadata beyond meaning: byte for byte the file an older writer made (the slot is
    // left out, not written empty), so unchanged content keeps its hash.
    var plain = Table(rowCount: 2)
    plain.append(Field(name: "x", type: .int32, meaning: "an int"), .int32(Column([1, 2])))
    let withEmpty = try ArrowFile.encode(plain, schemaMetadata: [], compression: .none)
    #expect(try ArrowFileReader(bytes: withEmpty).schemaMetadata.isEmpty)
    #expect(withEmpty == (try ArrowFile.encode(plain, compression: .none)))
  }

  @Test(arguments: [0, 1, 7, 8, 9, 63, 64, 65], ArrowCompression.allCases)
  func nullsAtBoundariesRoundTrip(rows: Int, compression: ArrowCompression) throws {
    // NULL at the first and last row and at every byte/word boundary the table reaches.
    let nullAt = Set([0, 1, 7, 8, 9, 63, 64, 65, rows - 1].filter { $0 >= 0 && $0 < rows })
    // `dense` is not nullable; the others get NULLs exactly at nullAt.
    let table = sampleTable(rows: rows, seed: UInt64(rows) &+ 99, nullAt: nullAt, extraNulls: false)
    for (f, c) in zip(table.fields, table.columns) where f.nullable {
      #expect((0..<rows).filter { !c.validity[$0] } == nullAt.sorted(), "\(f.name)")
    }
    let bytes = try ArrowFile.encode(table, compression: compression)
    let reader = try ArrowFileReader(bytes: bytes)
    #expect(reader.fields == table.fields)
    #expect(reader.rowCount == rows)
    #expect(reader.batchCount == 1)
    expectSameTable(table, try reader.readAll())
  }

  @Test(arguments: ArrowCompression.allCases)
  func multiBatchTablesSplitAndRejoin(compression: ArrowCompression) throws {
    let table = sampleTable(rows: 1000, seed: 7)
    let bytes = try ArrowFile.encode(table, compression: compression, batchRows: 64)
    let reader = try ArrowFileReader(bytes: bytes)
    #expect(reader.batchCount == 16)  // 15 × 64 + 40
    #expect(try reader.batch(15).rowCount == 40)
    expectSameTable(table.slice(64..<128), try reader.batch(1))
    expectSameTable(table, try reader.readAll())
  }

  @Test func severalWritesKeepTheirOwnBatches() throws {
    let a = sampleTable(rows: 10, seed: 1), b = sampleTable(rows: 5, seed: 2)
    var writer = ArrowFileWriter(fields: a.fields, batchRows: 4)
    try writer.write(a)
    try writer.write(b)
    let reader = try ArrowFileReader(bytes: try writer.finish())
    #expect(try (0..<reader.batchCount).map { try reader.batch($0).rowCount } == [4, 4, 2, 4, 1])
    expectSameTable(a.slice(8..<10), try reader.batch(2))
    expectSameTable(b.slice(0..<4), try reader.batch(3))
    let expected = ArrowFileReader.table(
      fields: a.fields,
      columns: (0..<a.fields.count).map {
        ArrowFileReader.concatenate([a.columns[$0], b.columns[$0]], type: a.fields[$0].type)
      },
      rows: 15)
    #expect(expected.columns.map(\.count) == [Int](repeating: 15, count: 7))
    expectSameTable(expected, try reader.readAll())
  }

  @Test(arguments: ArrowCompression.allCases)
  func emptyTableRoundTripsWithItsSchema(compression: ArrowCompression) throws {
    let table = sampleTable(rows: 0, seed: 3)
    let reader = try ArrowFileReader(bytes: try ArrowFile.encode(table, compression: compression))
    #expect(reader.batchCount == 1)
    #expect(reader.rowCount == 0)
    expectSameTable(table, try reader.readAll())
  }

  @Test func fileWithNoBatchesReadsAsEmpty() throws {
    let fields = sampleTable(rows: 0, seed: 3).fields
    var writer = ArrowFileWriter(fields: fields)
    let reader = try ArrowFileReader(bytes: try writer.finish())
    #expect(reader.batchCount == 0)
    #expect(reader.fields == fields)
    expectSameTable(sampleTable(rows: 0, seed: 3), try reader.readAll())
  }

  @Test func allNullColumnAndEmptyStringsSurvive() throws {
    var t = Table(rowCount: 9)
    t.append(Field(name: "nothing", type: .utf8), .utf8(StringColumn([String?](repeating: nil, count: 9))))
    t.append(Field(name: "empty", type: .utf8), .utf8(StringColumn(nonNull: [String](repeating: "", count: 9))))
    t.append(Field(name: "none_bool", type: .bool), .bool(Column(optionals: [Bool?](repeating: nil, count: 9))))
    for compression in ArrowCompression.allCases {
      let back = try ArrowFileReader(bytes: try ArrowFile.encode(t, compression: compression)).readAll()
      expectSameTable(t, back)
      #expect(back.columns[0].nullCount == 9)
      if case .utf8(let s) = back.columns[1] { #expect(s.offsets == [Int32](repeating: 0, count: 10)) }
    }
  }

  @Test func encodingIsDeterministicByteForByte() throws {
    let a = try ArrowFile.encode(sampleTable(rows: 300, seed: 11), batchRows: 100)
    let b = try ArrowFile.encode(sampleTable(rows: 300, seed: 11), batchRows: 100)
    #expect(a == b)
    // Messages and bodies start 8-byte aligned, as the format requires.
    let reader = try ArrowFileReader(bytes: a)
    #expect(reader.batches.map { $0.bodyStart % 8 } == [0, 0, 0])
    #expect(reader.batches.flatMap { $0.buffers.map { $0.offset % 8 } }.allSatisfy { $0 == 0 })
  }

  @Test func compressedBuffersAreLengthPrefixedLZ4Frames() throws {
    let t = sampleTable(rows: 200, seed: 5)
    let reader = try ArrowFileReader(bytes: try ArrowFile.encode(t))
    let bytes = try ArrowFile.encode(t)
    let info = reader.batches[0]
    #expect(info.compressed)
    for (offset, length) in info.buffers where length > 0 {
      let p = info.bodyStart + offset
      let declared = (0..<8).reduce(Int64(0)) { $0 | Int64(bytes[p + $1]) << (8 * Int64($1)) }
      #expect(declared > 0)
      // LZ4 frame magic number 0x184D2204, little-endian.
      #expect(Array(bytes[(p + 8)..<(p + 12)]) == [0x04, 0x22, 0x4D, 0x18])
    }
    // A column without NULLs writes an empty validity buffer.
    // `dense` (no NULLs) follows five 2-buffer columns and one 3-buffer utf8 column.
    #expect(info.buffers[13].length == 0)
    #expect(info.buffers[14].length > 0)
  }

  @Test func writerRejectsATableThatBreaksItsSchema() throws {
    let t = sampleTable(rows: 3, seed: 1)
    var writer = ArrowFileWriter(fields: Array(t.fields.dropLast()))
    #expect(throws: ArrowError.self) { try writer.write(t) }
    var bad = Table(rowCount: 2)
    bad.append(Field(name: "x", type: .int32, nullable: false), .int32(Column(optionals: [1, nil])))
    var w2 = ArrowFileWriter(fields: bad.fields)
    do {
      try w2.write(bad)
      Issue.record("expected an error")
    } catch {
      #expect(error.description == "cannot write Arrow file: column \"x\" is declared not nullable but holds 1 nulls")
    }
  }
}
