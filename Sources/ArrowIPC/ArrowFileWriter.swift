import Columnar
import LZ4

// Writes the Arrow IPC file format ("Arrow Columnar Format" → "IPC File Format"):
//   "ARROW1" 00 00 | schema message | record batch messages | EOS | footer | int32 size | "ARROW1"
// Each message is encapsulated: 0xFFFFFFFF, int32 metadata size (flatbuffer plus padding to
// 8 bytes), the flatbuffer `Message`, then the body, whose buffers each start 8-byte aligned
// and are followed by zero padding. Nothing time- or machine-dependent is written, so the
// same table gives the same bytes.

/// Writes tables as one Arrow IPC file in memory.
public struct ArrowFileWriter {
  public let fields: [Field]
  public let compression: ArrowCompression
  public let batchRows: Int

  private var out: [UInt8] = []
  private var blocks: [(offset: Int, metaDataLength: Int, bodyLength: Int)] = []
  private var wroteAnyTable = false
  private var finished = false

  /// `batchRows` bounds the rows per record batch (the last batch of each `write` may be
  /// shorter). A non-positive `batchRows` is a programmer error.
  public init(fields: [Field], compression: ArrowCompression = .lz4Frame, batchRows: Int = 65_536) {
    precondition(batchRows > 0, "batchRows must be positive, got \(batchRows)")
    self.fields = fields
    self.compression = compression
    self.batchRows = batchRows
    out = ArrowFormat.magic + [0, 0]
    appendMessage(metadata: Self.schemaMessage(fields), body: [])
  }

  /// Appends `table` as record batches of at most `batchRows` rows. Batches never span two
  /// calls. A zero-row table adds no batch; `finish` writes one empty batch when no batch was
  /// written at all, so an empty table round-trips with its schema.
  public mutating func write(_ table: Table) throws(ArrowError) {
    guard !finished else { throw .writer(proof: "write called after finish") }
    let expected = fields.map { "\($0.name): \($0.type)\($0.nullable ? "" : " not null")" }
    let got = table.fields.map { "\($0.name): \($0.type)\($0.nullable ? "" : " not null")" }
    guard expected == got else {
      throw .writer(
        proof: "table columns [\(got.joined(separator: ", "))] differ from the writer's [\(expected.joined(separator: ", "))]")
    }
    for (field, column) in zip(fields, table.columns) where !field.nullable && column.nullCount > 0 {
      throw .writer(proof: "column \"\(field.name)\" is declared not nullable but holds \(column.nullCount) nulls")
    }
    wroteAnyTable = true
    var start = 0
    while start < table.rowCount {
      let count = min(batchRows, table.rowCount - start)
      try writeBatch(table.columns, start: start, count: count)
      start += count
    }
  }

  /// Writes the end-of-stream marker and the footer; returns the whole file.
  public mutating func finish() throws(ArrowError) -> [UInt8] {
    guard !finished else { throw .writer(proof: "finish called twice") }
    if blocks.isEmpty && wroteAnyTable {
      let empty = fields.map { f -> AnyColumn in
        switch f.type {
        case .int32: .int32(Column())
        case .int64: .int64(Column())
        case .float64: .float64(Column())
        case .bool: .bool(Column())
        case .utf8: .utf8(StringColumn())
        case .date32: .date32(Column())
        }
      }
      try writeBatch(empty, start: 0, count: 0)
    }
    finished = true
    // End-of-stream: continuation marker and a zero metadata length.
    appendLE(ArrowFormat.continuation)
    appendLE(UInt32(0))
    let footer = Self.footer(fields: fields, blocks: blocks)
    out.append(contentsOf: footer)
    appendLE(UInt32(footer.count))
    out.append(contentsOf: ArrowFormat.magic)
    return out
  }

  // MARK: - Messages

  private mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
    withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
  }

  /// Frames one message: the metadata is padded so that the body starts 8-byte aligned.
  @discardableResult
  private mutating func appendMessage(metadata: [UInt8], body: [UInt8]) -> (Int, Int) {
    let start = out.count
    let paddedMeta = ArrowFormat.padded8(metadata.count)
    appendLE(ArrowFormat.continuation)
    appendLE(Int32(paddedMeta))
    out.append(contentsOf: metadata)
    out.append(contentsOf: repeatElement(0, count: paddedMeta - metadata.count))
    out.append(contentsOf: body)
    return (start, 8 + paddedMeta)
  }

  private static func message(header: ArrowFormat.MessageHeader, bodyLength: Int,
                              build: (inout FlatBufferBuilder) -> FlatBufferBuilder.Offset) -> [UInt8] {
    var b = FlatBufferBuilder()
    let headerOffset = build(&b)
    b.startTable()
    b.addField(ArrowFormat.MessageSlot.bodyLength, Int64(bodyLength))
    b.addField(ArrowFormat.MessageSlot.header, offset: headerOffset)
    b.addField(ArrowFormat.MessageSlot.version, ArrowFormat.metadataVersionV5)
    b.addField(ArrowFormat.MessageSlot.headerType, header.rawValue)
    let root = b.endTable()
    return b.finish(root: root)
  }

  static func schemaMessage(_ fields: [Field]) -> [UInt8] {
    message(header: .schema, bodyLength: 0) { b in schemaTable(&b, fields) }
  }

  static func schemaTable(_ b: inout FlatBufferBuilder, _ fields: [Field]) -> FlatBufferBuilder.Offset {
    var fieldOffsets: [FlatBufferBuilder.Offset] = []
    for f in fields {
      let name = b.createString(f.name)
      let (typeID, typeTable) = typeTable(&b, f.type)
      let children = b.createVector(offsets: [])
      var metadata: FlatBufferBuilder.Offset?
      if !f.meaning.isEmpty {
        let key = b.createString(ArrowFormat.meaningKey)
        let value = b.createString(f.meaning)
        b.startTable()
        b.addField(ArrowFormat.KeyValueSlot.key, offset: key)
        b.addField(ArrowFormat.KeyValueSlot.value, offset: value)
        let kv = b.endTable()
        metadata = b.createVector(offsets: [kv])
      }
      b.startTable()
      b.addField(ArrowFormat.FieldSlot.name, offset: name)
      b.addField(ArrowFormat.FieldSlot.type, offset: typeTable)
      b.addField(ArrowFormat.FieldSlot.children, offset: children)
      if let metadata { b.addField(ArrowFormat.FieldSlot.customMetadata, offset: metadata) }
      b.addField(ArrowFormat.FieldSlot.typeType, typeID.rawValue)
      b.addField(ArrowFormat.FieldSlot.nullable, UInt8(f.nullable ? 1 : 0))
      fieldOffsets.append(b.endTable())
    }
    let vector = b.createVector(offsets: fieldOffsets)
    b.startTable()
    b.addField(ArrowFormat.SchemaSlot.fields, offset: vector)
    b.addField(ArrowFormat.SchemaSlot.endianness, Int16(0))  // Little
    return b.endTable()
  }

  private static func typeTable(_ b: inout FlatBufferBuilder, _ type: ColumnType) -> (ArrowFormat.TypeID, FlatBufferBuilder.Offset) {
    b.startTable()
    switch type {
    case .int32, .int64:
      b.addField(ArrowFormat.IntSlot.bitWidth, Int32(type == .int32 ? 32 : 64))
      b.addField(ArrowFormat.IntSlot.isSigned, UInt8(1))
      return (.int, b.endTable())
    case .float64:
      b.addField(ArrowFormat.FloatSlot.precision, ArrowFormat.precisionDouble)
      return (.floatingPoint, b.endTable())
    case .bool:
      return (.bool, b.endTable())
    case .utf8:
      return (.utf8, b.endTable())
    case .date32:
      // Date.unit defaults to MILLISECOND, so DAY must be written.
      b.addField(ArrowFormat.DateSlot.unit, ArrowFormat.dateUnitDay)
      return (.date, b.endTable())
    }
  }

  static func footer(fields: [Field], blocks: [(offset: Int, metaDataLength: Int, bodyLength: Int)]) -> [UInt8] {
    var b = FlatBufferBuilder()
    let schema = schemaTable(&b, fields)
    func blockVector(_ b: inout FlatBufferBuilder, _ list: [(offset: Int, metaDataLength: Int, bodyLength: Int)]) -> FlatBufferBuilder.Offset {
      b.createVector(structs: list, size: ArrowFormat.blockSize, alignment: 8) { b, block in
        b.putStructField(Int64(block.bodyLength))
        b.putStructPadding(4)
        b.putStructField(Int32(block.metaDataLength))
        b.putStructField(Int64(block.offset))
      }
    }
    let dictionaries = blockVector(&b, [])
    let batches = blockVector(&b, blocks)
    b.startTable()
    b.addField(ArrowFormat.FooterSlot.schema, offset: schema)
    b.addField(ArrowFormat.FooterSlot.dictionaries, offset: dictionaries)
    b.addField(ArrowFormat.FooterSlot.recordBatches, offset: batches)
    b.addField(ArrowFormat.FooterSlot.version, ArrowFormat.metadataVersionV5)
    return b.finish(root: b.endTable())
  }

  // MARK: - Record batches

  private struct BodyBuilder {
    var body: [UInt8] = []
    var buffers: [(offset: Int, length: Int)] = []
    let compression: ArrowCompression

    mutating func add(_ raw: UnsafeRawBufferPointer) throws(ArrowError) {
      let start = body.count
      if raw.count > 0 {
        switch compression {
        case .none:
          body.append(contentsOf: raw)
        case .lz4Frame:
          withUnsafeBytes(of: Int64(raw.count).littleEndian) { body.append(contentsOf: $0) }
          do {
            body.append(contentsOf: try LZ4Frame.compress(raw))
          } catch {
            throw .writer(proof: "LZ4 compression of a \(raw.count)-byte buffer failed: \(error)")
          }
        }
      }
      buffers.append((start, body.count - start))
      body.append(contentsOf: repeatElement(0, count: ArrowFormat.padded8(body.count) - body.count))
    }

    mutating func add(_ bytes: [UInt8]) throws(ArrowError) {
      var failure: ArrowError?
      bytes.withUnsafeBytes { raw in
        do throws(ArrowError) { try add(raw) } catch { failure = error }
      }
      if let failure { throw failure }
    }

    mutating func add<T>(_ values: ArraySlice<T>) throws(ArrowError) {
      var failure: ArrowError?
      values.withUnsafeBytes { raw in
        do throws(ArrowError) { try add(raw) } catch { failure = error }
      }
      if let failure { throw failure }
    }
  }

  /// Arrow's packed bits (LSB first) of `bitmap` rows `start..<start+count`.
  static func packBits(_ bitmap: ValidityBitmap, start: Int, count: Int) -> [UInt8] {
    let words = bitmap.words
    var out = [UInt8](repeating: 0, count: (count + 7) / 8)
    for k in out.indices {
      let bit = start + 8 * k
      let w = bit >> 6, s = bit & 63
      var v = words[w] >> UInt64(s)
      if s > 56 && w + 1 < words.count { v |= words[w + 1] << UInt64(64 - s) }
      out[k] = UInt8(truncatingIfNeeded: v)
    }
    let tail = count & 7
    if tail != 0 { out[out.count - 1] &= UInt8((1 << tail) - 1) }
    return out
  }

  private mutating func writeBatch(_ columns: [AnyColumn], start: Int, count: Int) throws(ArrowError) {
    var body = BodyBuilder(compression: compression)
    var nodes: [(length: Int, nullCount: Int)] = []
    let range = start..<(start + count)
    for column in columns {
      let validity = column.validity
      let bits = Self.packBits(validity, start: start, count: count)
      var valid = 0
      for byte in bits { valid += byte.nonzeroBitCount }
      let nullCount = count - valid
      nodes.append((count, nullCount))
      // No nulls: the bitmap buffer is left empty, as the format allows (FieldNode.null_count).
      try body.add(nullCount == 0 ? [] : bits)
      switch column {
      case .int32(let c): try body.add(c.values[range])
      case .int64(let c): try body.add(c.values[range])
      case .float64(let c): try body.add(c.values[range])
      case .date32(let c): try body.add(c.values[range].map(\.daysSinceEpoch)[...])
      case .bool(let c):
        try body.add(Self.packBits(ValidityBitmap(c.values[range]), start: 0, count: count))
      case .utf8(let c):
        let base = c.offsets[start]
        try body.add(c.offsets[start...(start + count)].map { $0 - base }[...])
        try body.add(c.bytes[Int(base)..<Int(c.offsets[start + count])])
      }
    }
    let metadata = Self.message(header: .recordBatch, bodyLength: body.body.count) { b in
      var compressionTable: FlatBufferBuilder.Offset?
      if compression == .lz4Frame {
        b.startTable()
        b.addField(ArrowFormat.BodyCompressionSlot.codec, ArrowFormat.codecLZ4Frame)
        b.addField(ArrowFormat.BodyCompressionSlot.method, ArrowFormat.methodBuffer)
        compressionTable = b.endTable()
      }
      let nodeVector = b.createVector(structs: nodes, size: ArrowFormat.fieldNodeSize, alignment: 8) { b, n in
        b.putStructField(Int64(n.nullCount))
        b.putStructField(Int64(n.length))
      }
      let bufferVector = b.createVector(structs: body.buffers, size: ArrowFormat.bufferSize, alignment: 8) { b, buf in
        b.putStructField(Int64(buf.length))
        b.putStructField(Int64(buf.offset))
      }
      b.startTable()
      b.addField(ArrowFormat.RecordBatchSlot.length, Int64(count))
      b.addField(ArrowFormat.RecordBatchSlot.nodes, offset: nodeVector)
      b.addField(ArrowFormat.RecordBatchSlot.buffers, offset: bufferVector)
      if let compressionTable { b.addField(ArrowFormat.RecordBatchSlot.compression, offset: compressionTable) }
      return b.endTable()
    }
    let (offset, metaLength) = appendMessage(metadata: metadata, body: body.body)
    blocks.append((offset, metaLength, body.body.count))
  }
}

/// One-call encoding.
public enum ArrowFile {
  public static func encode(
    _ table: Table, compression: ArrowCompression = .lz4Frame, batchRows: Int = 65_536
  ) throws(ArrowError) -> [UInt8] {
    var writer = ArrowFileWriter(fields: table.fields, compression: compression, batchRows: batchRows)
    try writer.write(table)
    return try writer.finish()
  }
}
