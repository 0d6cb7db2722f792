import Columnar
import LZ4

// Reads the Arrow IPC file format (see ArrowFileWriter.swift for the layout) as written by
// this project, pyarrow and polars. Every length and offset in the file is a claim: it is
// checked for sign and overflow and bounded by the file (or by what the schema and row count
// imply) before anything is sliced or allocated (style.md #5, after arrow-rs `arrow-ipc`).

/// How a field's values are laid out in the file (one Columnar type may come from two).
enum StorageKind: Equatable {
  case int32, int64, float64, bool, utf8, largeUtf8, date32

  var columnType: ColumnType {
    switch self {
    case .int32: .int32
    case .int64: .int64
    case .float64: .float64
    case .bool: .bool
    case .utf8, .largeUtf8: .utf8
    case .date32: .date32
    }
  }

  var bufferCount: Int { self == .utf8 || self == .largeUtf8 ? 3 : 2 }
}

public struct ArrowFileReader: Sendable {
  struct BatchInfo: Sendable {
    var rows: Int
    var nodes: [(length: Int, nullCount: Int)]
    var buffers: [(offset: Int, length: Int)]
    var compressed: Bool
    /// Absolute range of the body in the file.
    var bodyStart: Int
    var bodyLength: Int
  }

  private let bytes: [UInt8]
  public let fields: [Field]
  /// The schema's own custom_metadata (the file's), in file order.
  public let schemaMetadata: [Metadatum]
  let kinds: [StorageKind]
  let batches: [BatchInfo]

  public var batchCount: Int { batches.count }
  public var rowCount: Int { batches.reduce(0) { $0 + $1.rows } }
  /// Rows of each record batch, in file order (from the footer's blocks, before any decoding).
  public var batchRowCounts: [Int] { batches.map(\.rows) }

  public init(bytes: [UInt8]) throws(ArrowError) {
    self.bytes = bytes
    let n = bytes.count
    // magic + padding, at least an EOS-less empty footer, int32 size, magic
    guard n >= 8 + 4 + 6 else {
      throw .notArrowFile(proof: "\(n) bytes is shorter than the 18 bytes of magic, footer size and magic")
    }
    guard Array(bytes[0..<6]) == ArrowFormat.magic else {
      throw .notArrowFile(
        proof: "the first 6 bytes are \(Self.hex(bytes[0..<6])), expected \"ARROW1\" (41 52 52 4f 57 31)")
    }
    guard Array(bytes[(n - 6)..<n]) == ArrowFormat.magic else {
      throw .notArrowFile(
        proof:
          "the last 6 bytes are \(Self.hex(bytes[(n - 6)..<n])), expected \"ARROW1\" (41 52 52 4f 57 31); the file may be truncated"
      )
    }
    let sizeAt = n - 10
    let footerSize = Int(Int32(bitPattern: Self.le32(bytes, sizeAt)))
    guard footerSize > 0, footerSize <= sizeAt - 8 else {
      throw .invalid(
        what: "footer size", byteOffset: sizeAt,
        proof: "declares \(footerSize) bytes, but only \(sizeAt - 8) bytes lie between the leading magic and it")
    }
    let footerStart = sizeAt - footerSize
    let fb = FlatBufferReader(bytes: bytes, start: footerStart, end: sizeAt, context: "footer")
    let footer = try fb.root()
    guard let schema = try footer.table(ArrowFormat.FooterSlot.schema, "schema") else {
      throw fb.fail("schema", at: footerStart, "the footer has no schema")
    }
    (fields, kinds) = try Self.readSchema(schema)
    schemaMetadata = try Self.keyValues(schema, ArrowFormat.SchemaSlot.customMetadata)
    if let (count, _) = try footer.vector(
      ArrowFormat.FooterSlot.dictionaries, elementSize: ArrowFormat.blockSize, "dictionaries"),
      count > 0
    {
      throw .unsupported(
        what: "\(count) dictionary batches", column: nil, hint: "dictionary-encoded columns are not supported")
    }
    var infos: [BatchInfo] = []
    if let (count, first) = try footer.vector(
      ArrowFormat.FooterSlot.recordBatches, elementSize: ArrowFormat.blockSize, "recordBatches")
    {
      for i in 0..<count {
        let p = first + i * ArrowFormat.blockSize
        let offset = Int64(bitPattern: try fb.u64(p, "block offset"))
        let metaLength = Int32(bitPattern: try fb.u32(p + 8, "block metaDataLength"))
        let bodyLength = Int64(bitPattern: try fb.u64(p + 16, "block bodyLength"))
        infos.append(
          try Self.readBatchInfo(
            bytes, index: i, blockAt: p, offset: offset, metaLength: metaLength, bodyLength: bodyLength,
            dataEnd: footerStart, kinds: kinds, fields: fields))
      }
    }
    batches = infos
  }

  static func le32(_ b: [UInt8], _ p: Int) -> UInt32 {
    UInt32(b[p]) | UInt32(b[p + 1]) << 8 | UInt32(b[p + 2]) << 16 | UInt32(b[p + 3]) << 24
  }

  static func hex(_ s: ArraySlice<UInt8>) -> String {
    s.map { b in
      let h = String(b, radix: 16)
      return h.count == 1 ? "0" + h : h
    }.joined(separator: " ")
  }

  // MARK: - Schema

  static func readSchema(_ schema: FlatBufferReader.TableView) throws(ArrowError) -> ([Field], [StorageKind]) {
    let endianness = try schema.i16(ArrowFormat.SchemaSlot.endianness)
    guard endianness == 0 else {
      throw .unsupported(
        what: "big-endian data (Schema.endianness = \(endianness))", column: nil,
        hint: "only little-endian files are read")
    }
    var fields: [Field] = []
    var kinds: [StorageKind] = []
    for (i, f) in try schema.tables(ArrowFormat.SchemaSlot.fields, "fields").enumerated() {
      let name = try f.string(ArrowFormat.FieldSlot.name, "name") ?? ""
      let label = name.isEmpty ? "#\(i)" : name
      let nullable = try f.bool(ArrowFormat.FieldSlot.nullable)
      if try f.table(ArrowFormat.FieldSlot.dictionary, "dictionary") != nil {
        throw .unsupported(what: "dictionary-encoded type", column: label, hint: "decode dictionaries before writing")
      }
      let typeByte = try f.u8(ArrowFormat.FieldSlot.typeType)
      guard let typeID = ArrowFormat.TypeID(rawValue: typeByte) else {
        throw .unsupported(what: "type id \(typeByte)", column: label, hint: "not a type this reader knows")
      }
      let typeTable = try f.table(ArrowFormat.FieldSlot.type, "type")
      let kind: StorageKind
      switch typeID {
      case .int:
        let width = try typeTable?.i32(ArrowFormat.IntSlot.bitWidth) ?? 0
        let signed = try typeTable?.bool(ArrowFormat.IntSlot.isSigned) ?? false
        switch (width, signed) {
        case (32, true): kind = .int32
        case (64, true): kind = .int64
        default:
          throw .unsupported(
            what: "type \(signed ? "" : "U")Int\(width)", column: label,
            hint: "supported: int32, int64, float64, bool, utf8, large_utf8, date32")
        }
      case .floatingPoint:
        let precision = try typeTable?.i16(ArrowFormat.FloatSlot.precision) ?? 0
        guard precision == ArrowFormat.precisionDouble else {
          let name = precision == 0 ? "Float16" : precision == 1 ? "Float32" : "FloatingPoint(precision \(precision))"
          throw .unsupported(
            what: "type \(name)", column: label,
            hint: "supported: int32, int64, float64, bool, utf8, large_utf8, date32")
        }
        kind = .float64
      case .bool: kind = .bool
      case .utf8: kind = .utf8
      case .largeUtf8: kind = .largeUtf8
      case .date:
        let unit = try typeTable?.i16(ArrowFormat.DateSlot.unit, default: 1) ?? 1
        guard unit == ArrowFormat.dateUnitDay else {
          throw .unsupported(
            what: "type Date64 (milliseconds)", column: label,
            hint: "supported: int32, int64, float64, bool, utf8, large_utf8, date32")
        }
        kind = .date32
      case .utf8View, .binaryView:
        throw .unsupported(
          what: "type \(typeID.name)", column: label,
          hint: "write with compat_level=oldest (polars) or cast to large_utf8/utf8 (pyarrow)")
      default:
        throw .unsupported(
          what: "type \(typeID.name)", column: label,
          hint: "supported: int32, int64, float64, bool, utf8, large_utf8, date32")
      }
      var meaning = ""
      var metadata: [Metadatum] = []
      for pair in try keyValues(f, ArrowFormat.FieldSlot.customMetadata) {
        if pair.key == ArrowFormat.meaningKey { meaning = pair.value } else { metadata.append(pair) }
      }
      fields.append(Field(name: name, type: kind.columnType, nullable: nullable, meaning: meaning, metadata: metadata))
      kinds.append(kind)
    }
    return (fields, kinds)
  }

  /// A custom_metadata vector's pairs; a pair without a key is skipped, a missing value is "".
  static func keyValues(_ table: FlatBufferReader.TableView, _ slot: Int) throws(ArrowError) -> [Metadatum] {
    var pairs: [Metadatum] = []
    for kv in try table.tables(slot, "custom_metadata") {
      guard let key = try kv.string(ArrowFormat.KeyValueSlot.key, "key") else { continue }
      pairs.append(Metadatum(key, try kv.string(ArrowFormat.KeyValueSlot.value, "value") ?? ""))
    }
    return pairs
  }

  // MARK: - Record batch metadata

  static func readBatchInfo(
    _ bytes: [UInt8], index: Int, blockAt: Int, offset: Int64, metaLength: Int32, bodyLength: Int64, dataEnd: Int,
    kinds: [StorageKind], fields: [Field]
  ) throws(ArrowError) -> BatchInfo {
    let blockWhat = "record batch \(index) block"
    guard let start = Int(exactly: offset), start >= 8, start < dataEnd else {
      throw .invalid(
        what: blockWhat, byteOffset: blockAt, proof: "offset \(offset) is outside the data region 8..<\(dataEnd)")
    }
    guard metaLength >= 8, Int(metaLength) <= dataEnd - start else {
      throw .invalid(
        what: blockWhat, byteOffset: blockAt,
        proof: "metaDataLength \(metaLength) does not fit in the \(dataEnd - start) bytes before the footer")
    }
    let bodyStart = start + Int(metaLength)
    guard let body = Int(exactly: bodyLength), body >= 0, body <= dataEnd - bodyStart else {
      throw .invalid(
        what: blockWhat, byteOffset: blockAt,
        proof: "bodyLength \(bodyLength) does not fit in the \(dataEnd - bodyStart) bytes before the footer")
    }
    // Encapsulated message: 0xFFFFFFFF, int32 length (pre-0.15 files omit the marker).
    var fbStart = start + 4
    var declared = Int(Int32(bitPattern: le32(bytes, start)))
    if UInt32(bitPattern: Int32(truncatingIfNeeded: declared)) == ArrowFormat.continuation {
      fbStart = start + 8
      declared = Int(Int32(bitPattern: le32(bytes, start + 4)))
    }
    guard declared > 0, fbStart + declared == bodyStart else {
      throw .invalid(
        what: "record batch \(index) message", byteOffset: start,
        proof: "metadata length \(declared) disagrees with the footer's metaDataLength \(metaLength)")
    }
    let fb = FlatBufferReader(bytes: bytes, start: fbStart, end: bodyStart, context: "record batch \(index) metadata")
    let message = try fb.root()
    let headerType = try message.u8(ArrowFormat.MessageSlot.headerType)
    guard headerType == ArrowFormat.MessageHeader.recordBatch.rawValue else {
      throw fb.fail("message header", at: fbStart, "header type \(headerType), expected 3 (RecordBatch)")
    }
    let messageBody = try message.i64(ArrowFormat.MessageSlot.bodyLength)
    guard messageBody == bodyLength else {
      throw fb.fail(
        "bodyLength", at: fbStart, "the message declares \(messageBody) bytes, the footer block \(bodyLength)")
    }
    guard let rb = try message.table(ArrowFormat.MessageSlot.header, "RecordBatch") else {
      throw fb.fail("message header", at: fbStart, "the RecordBatch table is missing")
    }
    let length = try rb.i64(ArrowFormat.RecordBatchSlot.length)
    guard let rows = Int(exactly: length), rows >= 0, rows <= Int(Int32.max) else {
      throw fb.fail("RecordBatch.length", at: rb.position, "\(length) rows is negative or above \(Int32.max)")
    }
    var compressed = false
    // Every column stores at least one bit per row (bool values), and an LZ4 frame expands
    // at most ~255:1: a row count beyond that is a lie, caught before any bitmap of that
    // size is allocated.
    let hasCompression = try rb.table(ArrowFormat.RecordBatchSlot.compression, "compression") != nil
    let bodyCapacityBits = body.multipliedReportingOverflow(by: hasCompression ? 8 * 256 : 8)
    guard kinds.isEmpty || bodyCapacityBits.overflow || rows <= bodyCapacityBits.partialValue else {
      throw fb.fail(
        "RecordBatch.length", at: rb.position,
        "\(rows) rows cannot fit in a \(body)-byte\(hasCompression ? " compressed" : "") body for \(kinds.count) columns"
      )
    }
    if let c = try rb.table(ArrowFormat.RecordBatchSlot.compression, "compression") {
      let codec = try c.u8(ArrowFormat.BodyCompressionSlot.codec)
      let method = try c.u8(ArrowFormat.BodyCompressionSlot.method)
      guard codec == ArrowFormat.codecLZ4Frame else {
        throw .unsupported(
          what: codec == 1 ? "ZSTD body compression" : "body compression codec \(codec)", column: nil,
          hint: "write with compression='lz4' or uncompressed")
      }
      guard method == ArrowFormat.methodBuffer else {
        throw .unsupported(what: "body compression method \(method)", column: nil, hint: "only BUFFER is defined")
      }
      compressed = true
    }
    var nodes: [(length: Int, nullCount: Int)] = []
    if let (count, first) = try rb.vector(
      ArrowFormat.RecordBatchSlot.nodes, elementSize: ArrowFormat.fieldNodeSize, "nodes")
    {
      guard count == kinds.count else {
        throw fb.fail("RecordBatch.nodes", at: first, "\(count) field nodes for \(kinds.count) columns")
      }
      for i in 0..<count {
        let l = Int64(bitPattern: try fb.u64(first + 16 * i, "node length"))
        let nulls = Int64(bitPattern: try fb.u64(first + 16 * i + 8, "node null_count"))
        guard l == length, nulls >= 0, nulls <= l else {
          throw .badColumn(
            batch: index, column: fields[i].name, buffer: nil, byteOffset: first + 16 * i,
            proof: "field node declares length \(l) and null_count \(nulls); the batch has \(length) rows")
        }
        nodes.append((Int(l), Int(nulls)))
      }
    } else if !kinds.isEmpty {
      throw fb.fail("RecordBatch.nodes", at: rb.position, "missing, \(kinds.count) columns expected")
    }
    let expectedBuffers = kinds.reduce(0) { $0 + $1.bufferCount }
    var buffers: [(offset: Int, length: Int)] = []
    if let (count, first) = try rb.vector(
      ArrowFormat.RecordBatchSlot.buffers, elementSize: ArrowFormat.bufferSize, "buffers")
    {
      guard count == expectedBuffers else {
        throw fb.fail("RecordBatch.buffers", at: first, "\(count) buffers, the schema needs \(expectedBuffers)")
      }
      for i in 0..<count {
        let o = Int64(bitPattern: try fb.u64(first + 16 * i, "buffer offset"))
        let l = Int64(bitPattern: try fb.u64(first + 16 * i + 8, "buffer length"))
        guard let bo = Int(exactly: o), let bl = Int(exactly: l), bo >= 0, bl >= 0, bo <= body, bl <= body - bo else {
          throw .invalid(
            what: "record batch \(index) buffer \(i)", byteOffset: first + 16 * i,
            proof: "offset \(o) length \(l) lies outside the \(body)-byte body")
        }
        buffers.append((bo, bl))
      }
    } else if expectedBuffers > 0 {
      throw fb.fail("RecordBatch.buffers", at: rb.position, "missing, \(expectedBuffers) buffers expected")
    }
    return BatchInfo(
      rows: rows, nodes: nodes, buffers: buffers, compressed: compressed, bodyStart: bodyStart, bodyLength: body)
  }

  // MARK: - Columns

  public func readAll() throws(ArrowError) -> Table {
    if batches.count == 1 { return try batch(0) }
    var parts: [Table] = []
    for i in batches.indices { parts.append(try batch(i)) }
    var columns: [AnyColumn] = []
    for (c, f) in fields.enumerated() {
      let pieces = parts.map { $0.columns[c] }
      // Each batch fits a StringColumn; together they may not (Int32 offsets).
      let stringBytes = pieces.reduce(0) { acc, p in if case .utf8(let s) = p { acc + s.bytes.count } else { acc } }
      guard stringBytes <= Int(Int32.max) else {
        throw .badColumn(
          batch: batches.count - 1, column: f.name, buffer: nil, byteOffset: nil,
          proof:
            "\(stringBytes) bytes of strings across \(batches.count) batches exceed the 2 GiB a utf8 column can hold")
      }
      columns.append(Self.concatenate(pieces, type: f.type))
    }
    return Self.table(fields: fields, columns: columns, rows: rowCount)
  }

  static func table(fields: [Field], columns: [AnyColumn], rows: Int) -> Table {
    if fields.isEmpty { return Table(rowCount: rows) }
    return Table(fields: fields, columns: columns)
  }

  static func concatenate(_ parts: [AnyColumn], type: ColumnType) -> AnyColumn {
    func fixed<E>(_ get: (AnyColumn) -> Column<E>) -> Column<E> {
      var out = Column<E>()
      out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
      for p in parts {
        let c = get(p)
        out.values.append(contentsOf: c.values)
        out.validity.append(contentsOf: c.validity)
      }
      return out
    }
    switch type {
    case .int32: return .int32(fixed { if case .int32(let c) = $0 { c } else { Column() } })
    case .int64: return .int64(fixed { if case .int64(let c) = $0 { c } else { Column() } })
    case .float64: return .float64(fixed { if case .float64(let c) = $0 { c } else { Column() } })
    case .bool: return .bool(fixed { if case .bool(let c) = $0 { c } else { Column() } })
    case .date32: return .date32(fixed { if case .date32(let c) = $0 { c } else { Column() } })
    case .utf8:
      var out = StringColumn()
      for case .utf8(let c) in parts {
        let base = out.offsets[out.offsets.count - 1]
        out.bytes.append(contentsOf: c.bytes)
        out.offsets.append(contentsOf: c.offsets.dropFirst().map { $0 + base })
        out.validity.append(contentsOf: c.validity)
      }
      return .utf8(out)
    }
  }

  public func batch(_ index: Int) throws(ArrowError) -> Table {
    guard index >= 0, index < batches.count else {
      throw .invalid(
        what: "record batch \(index)", byteOffset: 0, proof: "the file has \(batches.count) record batches")
    }
    let info = batches[index]
    var columns: [AnyColumn] = []
    var bufferIndex = 0
    for (c, kind) in kinds.enumerated() {
      let decoder = ColumnDecoder(
        file: self.bytes, info: info, batch: index, column: fields[c].name, firstBuffer: bufferIndex,
        rows: info.rows, nullCount: info.nodes[c].nullCount)
      bufferIndex += kind.bufferCount
      let column = try decoder.decode(kind)
      if !fields[c].nullable && column.nullCount > 0 {
        throw .badColumn(
          batch: index, column: fields[c].name, buffer: nil, byteOffset: nil,
          proof: "the schema declares the column not nullable, but it holds \(column.nullCount) nulls")
      }
      columns.append(column)
    }
    return Self.table(fields: fields, columns: columns, rows: info.rows)
  }
}

/// Decodes one column of one record batch from its buffers.
struct ColumnDecoder {
  let file: [UInt8]
  let info: ArrowFileReader.BatchInfo
  let batch: Int
  let column: String
  let firstBuffer: Int
  let rows: Int
  let nullCount: Int

  func fail(_ buffer: Int?, _ proof: String) -> ArrowError {
    let at = buffer.map { info.bodyStart + info.buffers[firstBuffer + $0].offset }
    return .badColumn(
      batch: batch, column: column, buffer: buffer.map { firstBuffer + $0 }, byteOffset: at, proof: proof)
  }

  /// The bytes of buffer `k` of this column (decompressed if needed), at least `minimum`
  /// long; `maximum` caps what a compressed buffer may declare.
  func buffer(_ k: Int, minimum: Int, what: String) throws(ArrowError) -> ArraySlice<UInt8> {
    let (offset, length) = info.buffers[firstBuffer + k]
    let start = info.bodyStart + offset
    let raw = file[start..<(start + length)]
    var data = raw
    if info.compressed && length > 0 {
      guard length >= 8 else {
        throw fail(k, "compressed \(what) buffer is \(length) bytes, shorter than its 8-byte length prefix")
      }
      var declared: Int64 = 0
      for i in 0..<8 { declared |= Int64(raw[start + i]) << (8 * Int64(i)) }
      if declared == -1 {
        data = raw.dropFirst(8)
      } else {
        // An LZ4 frame cannot expand more than ~255:1, so a declared length far above that
        // is a lie; checking first keeps a hostile header from driving a huge allocation.
        guard declared >= 0, let want = Int(exactly: declared), want / 256 <= length else {
          throw ArrowError.decompression(
            batch: batch, column: column, buffer: firstBuffer + k, byteOffset: start,
            proof: "declared uncompressed length \(declared) is impossible for a \(length - 8)-byte LZ4 frame")
        }
        let result = raw.dropFirst(8).withUnsafeBytes { p in
          Result { () throws(LZ4Error) in try LZ4Frame.decompress(p, expectedSize: want) }
        }
        switch result {
        case .success(let out): data = out[...]
        case .failure(let error):
          throw ArrowError.decompression(
            batch: batch, column: column, buffer: firstBuffer + k, byteOffset: start,
            proof: "\(what) buffer declared \(want) bytes: \(error.description)")
        }
      }
    }
    guard data.count >= minimum else {
      throw fail(k, "\(what) buffer holds \(data.count) bytes, \(rows) rows need \(minimum)")
    }
    return data
  }

  func validity() throws(ArrowError) -> ValidityBitmap {
    let (_, length) = info.buffers[firstBuffer]
    if length == 0 {
      guard nullCount == 0 else { throw fail(0, "validity buffer is empty but null_count is \(nullCount)") }
      return ValidityBitmap(count: rows, allValid: true)
    }
    let data = try buffer(0, minimum: (rows + 7) / 8, what: "validity")
    let bitmap = data.withUnsafeBytes { ValidityBitmap(packedBytes: $0, count: rows) }
    guard bitmap.nullCount == nullCount else {
      throw fail(0, "validity bitmap has \(bitmap.nullCount) nulls, the field node declares \(nullCount)")
    }
    return bitmap
  }

  func fixed<T>(_ type: T.Type, what: String) throws(ArrowError) -> [T] {
    let width = MemoryLayout<T>.stride
    let data = try buffer(1, minimum: rows * width, what: what)
    // `Array(unsafeUninitializedCapacity: 0)` stores a count into the shared empty-array
    // object, which ThreadSanitizer reports as a race between tests (harmless: 0 over 0).
    guard rows > 0 else { return [] }
    return [T](unsafeUninitializedCapacity: rows) { dst, initialized in
      data.withUnsafeBytes { src in
        // Safe: `buffer` checked src.count >= rows * width.
        UnsafeMutableRawBufferPointer(dst).copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<(rows * width)]))
      }
      initialized = rows
    }
  }

  func decode(_ kind: StorageKind) throws(ArrowError) -> AnyColumn {
    let validity = try validity()
    func nulled<E: ColumnElement>(_ values: [E]) -> Column<E> {
      var values = values
      if nullCount > 0 {
        for i in 0..<rows where !validity[i] { values[i] = E.nullPlaceholder }
      }
      return Column(values: values, validity: validity)
    }
    switch kind {
    case .int32: return .int32(nulled(try fixed(Int32.self, what: "int32 values")))
    case .int64: return .int64(nulled(try fixed(Int64.self, what: "int64 values")))
    case .float64: return .float64(nulled(try fixed(Double.self, what: "float64 values")))
    case .date32: return .date32(nulled(try fixed(Int32.self, what: "date32 values").map(Date32.init(daysSinceEpoch:))))
    case .bool:
      let data = try buffer(1, minimum: (rows + 7) / 8, what: "bool values")
      let bits = data.withUnsafeBytes { ValidityBitmap(packedBytes: $0, count: rows) }
      return .bool(nulled((0..<rows).map { bits[$0] }))
    case .utf8:
      let offsets = try fixed32Offsets()
      return .utf8(try strings(offsets: offsets, validity: validity))
    case .largeUtf8:
      let offsets = try fixed64Offsets()
      return .utf8(try strings(offsets: offsets, validity: validity))
    }
  }

  func fixed32Offsets() throws(ArrowError) -> [Int] {
    // Zero rows may come with an empty offsets buffer (allowed by the format).
    if rows == 0 && info.buffers[firstBuffer + 1].length == 0 { return [0] }
    let data = try buffer(1, minimum: (rows + 1) * 4, what: "utf8 offsets")
    return data.withUnsafeBytes { p in
      (0...rows).map { Int(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
    }
  }

  func fixed64Offsets() throws(ArrowError) -> [Int] {
    if rows == 0 && info.buffers[firstBuffer + 1].length == 0 { return [0] }
    let data = try buffer(1, minimum: (rows + 1) * 8, what: "large_utf8 offsets")
    var out: [Int] = []
    out.reserveCapacity(rows + 1)
    for i in 0...rows {
      let v = data.withUnsafeBytes { p in Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
      guard let o = Int(exactly: v) else { throw fail(1, "offset \(i) is \(v)") }
      out.append(o)
    }
    return out
  }

  func strings(offsets: [Int], validity: ValidityBitmap) throws(ArrowError) -> StringColumn {
    guard let first = offsets.first, first >= 0 else {
      throw fail(1, "offset 0 is \(offsets.first ?? -1), must be ≥ 0")
    }
    for i in 0..<rows where offsets[i + 1] < offsets[i] {
      throw fail(1, "offsets decrease at row \(i): \(offsets[i]) then \(offsets[i + 1])")
    }
    let last = offsets[rows]
    let data = try buffer(2, minimum: last, what: "string data")
    let total = last - first
    guard total <= Int(Int32.max) else {
      throw fail(2, "\(total) bytes of strings exceed the 2 GiB a utf8 column can hold")
    }
    var out = StringColumn()
    out.reserveCapacity(rows: rows, bytes: total)
    var failure: ArrowError?
    data.withUnsafeBytes { p in
      // Safe: every offset was checked to be within 0...last and last <= p.count.
      for i in 0..<rows {
        guard validity[i] else {
          out.append(nil)
          continue
        }
        let s = UnsafeBufferPointer(rebasing: p.bindMemory(to: UInt8.self)[offsets[i]..<offsets[i + 1]])
        if let bad = firstInvalidUTF8(s) {
          failure = fail(
            2, "row \(i) is not valid UTF-8 (byte \(bad) of the string, offsets \(offsets[i])..<\(offsets[i + 1]))")
          return
        }
        out.append(bytes: s)
      }
    }
    if let failure { throw failure }
    return out
  }
}

/// Index of the first byte of an invalid UTF-8 sequence in `s`, or nil when `s` is valid
/// (Unicode 15 table 3-7: no overlongs, no surrogates, nothing above U+10FFFF).
func firstInvalidUTF8(_ s: UnsafeBufferPointer<UInt8>) -> Int? {
  var i = 0
  let n = s.count
  while i < n {
    let b0 = s[i]
    if b0 < 0x80 {
      i += 1
      continue
    }
    var need = 0
    var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
    switch b0 {
    case 0xC2...0xDF: need = 1
    case 0xE0: need = 2; lo = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: need = 2
    case 0xED: need = 2; hi = 0x9F
    case 0xF0: need = 3; lo = 0x90
    case 0xF1...0xF3: need = 3
    case 0xF4: need = 3; hi = 0x8F
    default: return i
    }
    guard i + need < n else { return i }
    let b1 = s[i + 1]
    guard b1 >= lo && b1 <= hi else { return i }
    for k in 2..<(need + 1) where s[i + k] & 0xC0 != 0x80 { return i }
    i += need + 1
  }
  return nil
}
