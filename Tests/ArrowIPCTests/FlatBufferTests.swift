import Testing

@testable import ArrowIPC

@Suite struct FlatBufferTests {
  /// Builds a table holding every kind of field the Arrow metadata uses and reads it back.
  @Test func builderOutputReadsBack() throws {
    var b = FlatBufferBuilder(capacity: 16)  // small, so the buffer must grow
    let name = b.createString("héllo")
    let structs = b.createVector(structs: [(1, 2), (3, 4)], size: 16, alignment: 8) { b, pair in
      b.putStructField(Int64(pair.1))
      b.putStructField(Int64(pair.0))
    }
    var children: [FlatBufferBuilder.Offset] = []
    for v in [10, 20, 30] {
      b.startTable()
      b.addField(1, Int32(v))
      children.append(b.endTable())
    }
    let childVector = b.createVector(offsets: children)
    b.startTable()
    b.addField(0, Int16(-2))
    b.addField(2, offset: name)
    b.addField(3, offset: structs)
    b.addField(4, offset: childVector)
    b.addField(5, UInt8(1))
    b.addField(6, Int64.min)
    let bytes = b.finish(root: b.endTable())
    #expect(bytes.count % 8 == 0)

    let r = FlatBufferReader(bytes: bytes, start: 0, end: bytes.count, context: "test")
    let root = try r.root()
    #expect(try root.i16(0) == -2)
    #expect(try root.i32(1, default: 99) == 99)  // absent: the default
    #expect(try root.string(2, "name") == "héllo")
    let (count, first) = try #require(try root.vector(3, elementSize: 16, "structs"))
    #expect(count == 2)
    #expect(try (0..<4).map { try r.u64(first + 8 * $0, "s") } == [1, 2, 3, 4])
    #expect(try root.tables(4, "children").map { try $0.i32(1) } == [10, 20, 30])
    #expect(try root.bool(5))
    #expect(try root.i64(6) == Int64.min)
    #expect(try root.i64(40) == 0)  // slot beyond the vtable
  }

  @Test func readerRejectsOffsetsOutsideTheBuffer() throws {
    var b = FlatBufferBuilder()
    let s = b.createString("abc")
    b.startTable()
    b.addField(0, offset: s)
    var bytes = b.finish(root: b.endTable())
    // Point the root offset past the end.
    bytes[0] = 0xF0
    bytes[1] = 0xFF
    let r = FlatBufferReader(bytes: bytes, start: 0, end: bytes.count, context: "test")
    do {
      _ = try r.root()
      Issue.record("expected an error")
    } catch {
      #expect(
        error.description
          == "invalid Arrow file: test: root table offset at byte 0: needs bytes 65520..<65520, the flatbuffer spans 0..<\(bytes.count)"
      )
    }
  }

  @Test func arrowSchemaMessageMatchesTheFormatSlots() throws {
    // The schema as pyarrow sees it is checked in the interop tests; here: our own reader.
    let fields = sampleTable(rows: 0, seed: 1).fields
    let message = ArrowFileWriter.schemaMessage(fields)
    let r = FlatBufferReader(bytes: message, start: 0, end: message.count, context: "schema message")
    let root = try r.root()
    #expect(try root.i16(ArrowFormat.MessageSlot.version) == 4)
    #expect(try root.u8(ArrowFormat.MessageSlot.headerType) == 1)
    let schema = try #require(try root.table(ArrowFormat.MessageSlot.header, "schema"))
    let (read, kinds) = try ArrowFileReader.readSchema(schema)
    #expect(read == fields)
    #expect(kinds == [.int32, .int64, .float64, .bool, .utf8, .date32, .float64])
  }
}
