import Columnar
import Dispatch
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
  /// Reused across batches so a batch allocates nothing once the first one has sized them.
  private var scratch = Scratch()
  private var blocks: [(offset: Int, metaDataLength: Int, bodyLength: Int)] = []
  private var wroteAnyTable = false
  private var finished = false
  /// The current table's value buffers, LZ4-framed ahead of `writeBatch` on every core, in
  /// the order `writeBatch` adds them; `nextFrame` is the next one it takes.
  private var frames = FrameRegion.empty
  private var nextFrame = 0
  /// Tables with fewer value bytes are compressed inline (tests lower or raise it to compare
  /// the two ways).
  var parallelCompressionBytes = ArrowFileWriter.defaultParallelCompressionBytes

  /// The schema's own custom_metadata, in this order (the file's, not a column's).
  public let schemaMetadata: [Metadatum]

  /// `batchRows` bounds the rows per record batch (the last batch of each `write` may be
  /// shorter). A non-positive `batchRows` is a programmer error.
  public init(
    fields: [Field], schemaMetadata: [Metadatum] = [], compression: ArrowCompression = .lz4Frame,
    batchRows: Int = 65_536
  ) {
    precondition(batchRows > 0, "batchRows must be positive, got \(batchRows)")
    self.fields = fields
    self.schemaMetadata = schemaMetadata
    self.compression = compression
    self.batchRows = batchRows
    out = ArrowFormat.magic + [0, 0]
    appendMessage(metadata: Self.schemaMessage(fields, schemaMetadata), body: [])
  }

  /// Appends `table` as record batches of at most `batchRows` rows. Batches never span two
  /// calls. A zero-row table adds no batch; `finish` writes one empty batch when no batch was
  /// written at all, so an empty table round-trips with its schema.
  public mutating func write(_ table: Table) throws(ArrowError) {
    guard !finished else { throw .writer(proof: "write called after finish") }
    let sameFields =
      fields.count == table.fields.count
      && zip(fields, table.fields).allSatisfy { $0.name == $1.name && $0.type == $1.type && $0.nullable == $1.nullable }
    guard sameFields else {
      let expected = fields.map { "\($0.name): \($0.type)\($0.nullable ? "" : " not null")" }
      let got = table.fields.map { "\($0.name): \($0.type)\($0.nullable ? "" : " not null")" }
      throw .writer(
        proof:
          "table columns [\(got.joined(separator: ", "))] differ from the writer's [\(expected.joined(separator: ", "))]"
      )
    }
    for (field, column) in zip(fields, table.columns) where !field.nullable && column.nullCount > 0 {
      throw .writer(proof: "column \"\(field.name)\" is declared not nullable but holds \(column.nullCount) nulls")
    }
    // One allocation for the whole file instead of repeated doubling (each a copy of
    // everything so far and fresh pages to fault in): the uncompressed size bounds the body
    // closely enough, and pages reserved but never written are never touched.
    out.reserveCapacity(out.count + Self.sizeEstimate(table, batchRows: batchRows))
    wroteAnyTable = true
    // LZ4 is most of a file's encoding time and one buffer's frame does not depend on any
    // other's, so a large table's frames are made on all cores first; the file is then laid
    // out in one pass exactly as before, byte for byte.
    frames =
      compression == .lz4Frame
      ? try Self.compressValueBuffers(table, batchRows: batchRows, minimumBytes: parallelCompressionBytes) : .empty
    nextFrame = 0
    defer {
      frames.release()
      frames = .empty
    }
    var start = 0
    while start < table.rowCount {
      let count = min(batchRows, table.rowCount - start)
      try writeBatch(table.columns, start: start, count: count)
      start += count
    }
    precondition(nextFrame == frames.count, "\(frames.count - nextFrame) precompressed buffers were not written")
  }

  /// Below this many value bytes a table is compressed inline: handing out the work would cost
  /// more than it saves.
  static let defaultParallelCompressionBytes = 1 << 20

  /// One buffer whose frame is made ahead: `byteCount` bytes of column `column`'s values (or
  /// a string column's UTF-8 bytes) from `byteStart`.
  struct ValueSlice: Equatable {
    var column: Int
    var byteStart: Int
    var byteCount: Int
  }

  /// The non-empty value buffers of every batch of `table`, in the order `writeBatch` adds
  /// them. Validity bitmaps, packed bools and string offsets are small and stay inline.
  static func valueSlices(_ table: Table, batchRows: Int) -> [ValueSlice] {
    var slices: [ValueSlice] = []
    var start = 0
    while start < table.rowCount {
      let count = min(batchRows, table.rowCount - start)
      for (k, column) in table.columns.enumerated() {
        let slice: ValueSlice?
        switch column {
        case .int32, .date32: slice = ValueSlice(column: k, byteStart: 4 * start, byteCount: 4 * count)
        case .int64, .float64: slice = ValueSlice(column: k, byteStart: 8 * start, byteCount: 8 * count)
        case .bool: slice = nil
        case .utf8(let c):
          let lo = Int(c.offsets[start]), hi = Int(c.offsets[start + count])
          slice = ValueSlice(column: k, byteStart: lo, byteCount: hi - lo)
        }
        if let slice, slice.byteCount > 0 { slices.append(slice) }
      }
      start += count
    }
    return slices
  }

  /// The LZ4 frames of `valueSlices(table)`, made concurrently; empty when the table is too
  /// small to be worth it (then `writeBatch` compresses inline).
  static func compressValueBuffers(_ table: Table, batchRows: Int, minimumBytes: Int) throws(ArrowError) -> FrameRegion
  {
    let slices = valueSlices(table, batchRows: batchRows)
    guard !slices.isEmpty, slices.reduce(0, { $0 + $1.byteCount }) >= minimumBytes else { return .empty }
    let region = FrameRegion(bounds: slices.map { LZ4Frame.compressedBound($0.byteCount) })
    let failures = UnsafeMutableBufferPointer<String?>.allocate(capacity: slices.count)
    failures.initialize(repeating: nil)
    defer {
      failures.deinitialize()
      failures.deallocate()
    }
    let shared = SharedFrames(region: region, failures: failures)
    DispatchQueue.concurrentPerform(iterations: slices.count) { i in
      let slice = slices[i]
      func compress(_ bytes: UnsafeRawBufferPointer) {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[slice.byteStart..<(slice.byteStart + slice.byteCount)])
        do throws(LZ4Error) {
          shared.region.lengths[i] = try LZ4Frame.compress(raw, into: shared.region.room(i))
        } catch {
          shared.failures[i] = "LZ4 compression of a \(raw.count)-byte buffer failed: \(error)"
        }
      }
      switch table.columns[slice.column] {
      case .int32(let c): c.values.withUnsafeBytes(compress)
      case .int64(let c): c.values.withUnsafeBytes(compress)
      case .float64(let c): c.values.withUnsafeBytes(compress)
      case .date32(let c): c.values.withUnsafeBytes(compress)
      case .utf8(let c): c.bytes.withUnsafeBytes(compress)
      case .bool: preconditionFailure("bool columns have no precompressed buffer")
      }
    }
    if let failure = failures.lazy.compactMap({ $0 }).first {
      region.release()
      throw .writer(proof: failure)
    }
    return region
  }

  /// Every precompressed frame of one table in one allocation, each in a slot as large as its
  /// bound: one malloc per table instead of a zero-filled array per frame (at 27k rows, about
  /// 270 of them per season), so the frames' pages are not zeroed first and a season's
  /// region can reuse the memory the previous season's released.
  struct FrameRegion: @unchecked Sendable {
    /// Holds no storage, so sharing it is safe.
    static let empty = FrameRegion(bounds: [])
    let base: UnsafeMutableRawPointer?
    let starts: UnsafeMutableBufferPointer<Int>
    /// Written by each frame's own iteration only.
    let lengths: UnsafeMutableBufferPointer<Int>

    init(bounds: [Int]) {
      // No storage at all when empty, so releasing `empty` frees nothing.
      starts = bounds.isEmpty ? UnsafeMutableBufferPointer(start: nil, count: 0) : .allocate(capacity: bounds.count)
      lengths = bounds.isEmpty ? UnsafeMutableBufferPointer(start: nil, count: 0) : .allocate(capacity: bounds.count)
      var total = 0
      for (i, bound) in bounds.enumerated() {
        starts[i] = total
        lengths[i] = 0
        total += bound
      }
      base = bounds.isEmpty ? nil : UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 16)
      self.total = total
    }

    private let total: Int
    var count: Int { starts.count }
    var isEmpty: Bool { starts.isEmpty }

    /// The slot frame `i` is written into.
    func room(_ i: Int) -> UnsafeMutableRawBufferPointer {
      let end = i + 1 < starts.count ? starts[i + 1] : total
      return UnsafeMutableRawBufferPointer(start: base! + starts[i], count: end - starts[i])
    }

    /// Frame `i` as written.
    func frame(_ i: Int) -> UnsafeRawBufferPointer {
      UnsafeRawBufferPointer(start: base! + starts[i], count: lengths[i])
    }

    func release() {
      base?.deallocate()
      starts.deallocate()
      lengths.deallocate()
    }
  }

  /// What the concurrent iterations share: each writes only its own slot of both.
  private struct SharedFrames: @unchecked Sendable {
    let region: FrameRegion
    let failures: UnsafeMutableBufferPointer<String?>
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
    let footer = Self.footer(fields: fields, schemaMetadata: schemaMetadata, blocks: blocks)
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

  private static func message(
    header: ArrowFormat.MessageHeader, bodyLength: Int,
    build: (inout FlatBufferBuilder) -> FlatBufferBuilder.Offset
  ) -> [UInt8] {
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

  static func schemaMessage(_ fields: [Field], _ schemaMetadata: [Metadatum] = []) -> [UInt8] {
    message(header: .schema, bodyLength: 0) { b in schemaTable(&b, fields, schemaMetadata) }
  }

  /// A custom_metadata vector of `pairs`, nil when there are none (the slot is then left out,
  /// as a file without metadata always had it).
  static func keyValues(_ b: inout FlatBufferBuilder, _ pairs: [Metadatum]) -> FlatBufferBuilder.Offset? {
    guard !pairs.isEmpty else { return nil }
    var entries: [FlatBufferBuilder.Offset] = []
    for pair in pairs {
      let key = b.createString(pair.key)
      let value = b.createString(pair.value)
      b.startTable()
      b.addField(ArrowFormat.KeyValueSlot.key, offset: key)
      b.addField(ArrowFormat.KeyValueSlot.value, offset: value)
      entries.append(b.endTable())
    }
    return b.createVector(offsets: entries)
  }

  static func schemaTable(_ b: inout FlatBufferBuilder, _ fields: [Field], _ schemaMetadata: [Metadatum] = [])
    -> FlatBufferBuilder.Offset
  {
    var fieldOffsets: [FlatBufferBuilder.Offset] = []
    for f in fields {
      let name = b.createString(f.name)
      let (typeID, typeTable) = typeTable(&b, f.type)
      let children = b.createVector(offsets: [])
      let metadata = keyValues(
        &b, (f.meaning.isEmpty ? [] : [Metadatum(ArrowFormat.meaningKey, f.meaning)]) + f.metadata)
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
    let metadata = keyValues(&b, schemaMetadata)
    b.startTable()
    b.addField(ArrowFormat.SchemaSlot.fields, offset: vector)
    if let metadata { b.addField(ArrowFormat.SchemaSlot.customMetadata, offset: metadata) }
    b.addField(ArrowFormat.SchemaSlot.endianness, Int16(0))  // Little
    return b.endTable()
  }

  private static func typeTable(_ b: inout FlatBufferBuilder, _ type: ColumnType) -> (
    ArrowFormat.TypeID, FlatBufferBuilder.Offset
  ) {
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

  static func footer(
    fields: [Field], schemaMetadata: [Metadatum] = [], blocks: [(offset: Int, metaDataLength: Int, bodyLength: Int)]
  ) -> [UInt8] {
    var b = FlatBufferBuilder()
    let schema = schemaTable(&b, fields, schemaMetadata)
    func blockVector(_ b: inout FlatBufferBuilder, _ list: [(offset: Int, metaDataLength: Int, bodyLength: Int)])
      -> FlatBufferBuilder.Offset
    {
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

  /// Buffers one batch needs, kept by the writer so batches after the first reuse them.
  /// The body itself is written straight into the file's bytes after a gap left for the
  /// metadata (see `writeBatch`).
  private struct Scratch {
    /// Where the current batch's body starts in the file; buffer offsets count from here.
    var bodyStart = 0
    var buffers: [(offset: Int, length: Int)] = []
    var nodes: [(length: Int, nullCount: Int)] = []
    /// Packed bits of a validity bitmap or a bool column.
    var bits: [UInt8] = []
    /// A string column's offsets rebased to the batch's first row.
    var offsets: [Int32] = []
    /// One LZ4 frame before it is appended to the body.
    var frame: [UInt8] = []

    mutating func reset(bodyStart: Int) {
      self.bodyStart = bodyStart
      buffers.removeAll(keepingCapacity: true)
      nodes.removeAll(keepingCapacity: true)
    }

    /// Appends one buffer to `body`: as it is, or as Arrow's LZ4_FRAME body compression
    /// (8-byte little-endian uncompressed length, then one frame), then zero padding to 8
    /// bytes (`bodyStart` is 8-aligned, so padding the file's length pads the body's).
    mutating func add(_ raw: UnsafeRawBufferPointer, _ compression: ArrowCompression, into body: inout [UInt8])
      throws(ArrowError)
    {
      let start = body.count
      if raw.count > 0 {
        switch compression {
        case .none:
          body.append(contentsOf: raw)
        case .lz4Frame:
          withUnsafeBytes(of: Int64(raw.count).littleEndian) { body.append(contentsOf: $0) }
          let bound = LZ4Frame.compressedBound(raw.count)
          if frame.count < bound { frame = [UInt8](repeating: 0, count: bound) }
          var failure: LZ4Error?
          let written = frame.withUnsafeMutableBytes { dst -> Int in
            do throws(LZ4Error) { return try LZ4Frame.compress(raw, into: dst) } catch {
              failure = error
              return 0
            }
          }
          if let failure { throw .writer(proof: "LZ4 compression of a \(raw.count)-byte buffer failed: \(failure)") }
          frame.withUnsafeBytes { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[0..<written])) }
        }
      }
      buffers.append((start - bodyStart, body.count - start))
      body.append(contentsOf: repeatElement(0, count: ArrowFormat.padded8(body.count) - body.count))
    }

    /// Appends a frame made elsewhere, framed exactly as `add` frames its own.
    mutating func addFrame(_ frame: UnsafeRawBufferPointer, uncompressedCount: Int, into body: inout [UInt8]) {
      let start = body.count
      withUnsafeBytes(of: Int64(uncompressedCount).littleEndian) { body.append(contentsOf: $0) }
      body.append(contentsOf: frame)
      buffers.append((start - bodyStart, body.count - start))
      body.append(contentsOf: repeatElement(0, count: ArrowFormat.padded8(body.count) - body.count))
    }

    mutating func add<T>(_ values: ArraySlice<T>, _ compression: ArrowCompression, into body: inout [UInt8])
      throws(ArrowError)
    {
      var failure: ArrowError?
      values.withUnsafeBytes { raw in
        do throws(ArrowError) { try add(raw, compression, into: &body) } catch { failure = error }
      }
      if let failure { throw failure }
    }

    /// Adds `bits` (filled by the caller) as one buffer.
    mutating func addBits(_ compression: ArrowCompression, into body: inout [UInt8]) throws(ArrowError) {
      var failure: ArrowError?
      let packed = bits
      packed.withUnsafeBytes { raw in
        do throws(ArrowError) { try add(raw, compression, into: &body) } catch { failure = error }
      }
      if let failure { throw failure }
    }

    /// Fills `bits` with Arrow's packed bits (LSB first) of `bitmap` rows
    /// `start..<start+count`, bits past `count` zero; returns how many are set.
    mutating func packValidity(_ bitmap: ValidityBitmap, start: Int, count: Int) -> Int {
      let byteCount = (count + 7) / 8
      bits.removeAll(keepingCapacity: true)
      bits.append(contentsOf: repeatElement(0, count: byteCount))
      let words = bitmap.words
      var set = 0
      bits.withUnsafeMutableBufferPointer { out in
        words.withUnsafeBufferPointer { words in
          for k in 0..<byteCount {
            let bit = start + 8 * k
            let w = bit >> 6, s = bit & 63
            var v = words[w] >> UInt64(s)
            if s > 56 && w + 1 < words.count { v |= words[w + 1] << UInt64(64 - s) }
            var byte = UInt8(truncatingIfNeeded: v)
            if k == byteCount - 1, count & 7 != 0 { byte &= UInt8((1 << (count & 7)) - 1) }
            out[k] = byte
            set += byte.nonzeroBitCount
          }
        }
      }
      return set
    }

    /// Fills `bits` with a bool column's values `start..<start+count` packed LSB first.
    mutating func packBools(_ values: [Bool], start: Int, count: Int) {
      let byteCount = (count + 7) / 8
      bits.removeAll(keepingCapacity: true)
      bits.append(contentsOf: repeatElement(0, count: byteCount))
      bits.withUnsafeMutableBufferPointer { out in
        values.withUnsafeBufferPointer { values in
          for r in 0..<count where values[start + r] { out[r >> 3] |= UInt8(1) << UInt8(r & 7) }
        }
      }
    }
  }

  /// Uncompressed bytes of `table`'s buffers plus per-batch framing: an upper bound of the
  /// file's growth for uncompressed output, close to it for compressed.
  static func sizeEstimate(_ table: Table, batchRows: Int) -> Int {
    let rows = table.rowCount
    var bytes = 0
    for column in table.columns {
      bytes += (rows + 7) / 8
      switch column {
      case .int32, .date32: bytes += 4 * rows
      case .int64, .float64: bytes += 8 * rows
      case .bool: bytes += (rows + 7) / 8
      case .utf8(let c): bytes += 4 * (rows + 1) + c.bytes.count
      }
    }
    let batches = (rows + batchRows - 1) / batchRows
    return bytes + batches * (1024 + table.columns.count * 2 * 64)
  }

  /// A record batch message's flatbuffer. Every field is written whatever its value
  /// (FlatBufferBuilder never omits defaults) and every number is fixed-width, so its length
  /// depends only on how many nodes and buffers there are, never on their values: that is
  /// what lets `writeBatch` leave the gap for it before the body exists.
  static func recordBatchMessage(
    length: Int, nodes: [(length: Int, nullCount: Int)], buffers: [(offset: Int, length: Int)], bodyLength: Int,
    compression: ArrowCompression
  ) -> [UInt8] {
    message(header: .recordBatch, bodyLength: bodyLength) { b in
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
      let bufferVector = b.createVector(structs: buffers, size: ArrowFormat.bufferSize, alignment: 8) { b, buf in
        b.putStructField(Int64(buf.length))
        b.putStructField(Int64(buf.offset))
      }
      b.startTable()
      b.addField(ArrowFormat.RecordBatchSlot.length, Int64(length))
      b.addField(ArrowFormat.RecordBatchSlot.nodes, offset: nodeVector)
      b.addField(ArrowFormat.RecordBatchSlot.buffers, offset: bufferVector)
      if let compressionTable { b.addField(ArrowFormat.RecordBatchSlot.compression, offset: compressionTable) }
      return b.endTable()
    }
  }

  /// A value buffer: its frame made ahead by `compressValueBuffers` when there is one (empty
  /// buffers have none), else compressed here.
  private mutating func addValues<T>(_ values: ArraySlice<T>) throws(ArrowError) {
    let byteCount = values.count * MemoryLayout<T>.stride
    guard !frames.isEmpty, byteCount > 0 else { return try scratch.add(values, compression, into: &out) }
    precondition(nextFrame < frames.count, "more value buffers than precompressed frames")
    scratch.addFrame(frames.frame(nextFrame), uncompressedCount: byteCount, into: &out)
    nextFrame += 1
  }

  /// Writes the message frame with a zeroed gap of the metadata's (value-independent)
  /// length, the body straight after it into `out`, then the metadata into the gap: the
  /// body is never assembled elsewhere and copied.
  private mutating func writeBatch(_ columns: [AnyColumn], start: Int, count: Int) throws(ArrowError) {
    let bufferCount = columns.reduce(0) { n, c in
      if case .utf8 = c { return n + 3 }
      return n + 2
    }
    let sizing = Self.recordBatchMessage(
      length: count, nodes: Array(repeating: (0, 0), count: columns.count),
      buffers: Array(repeating: (0, 0), count: bufferCount), bodyLength: 0, compression: compression)
    let paddedMeta = ArrowFormat.padded8(sizing.count)
    let messageStart = out.count
    appendLE(ArrowFormat.continuation)
    appendLE(Int32(paddedMeta))
    out.append(contentsOf: repeatElement(0, count: paddedMeta))
    scratch.reset(bodyStart: out.count)

    let range = start..<(start + count)
    for column in columns {
      let valid = scratch.packValidity(column.validity, start: start, count: count)
      let nullCount = count - valid
      scratch.nodes.append((count, nullCount))
      // No nulls: the bitmap buffer is left empty, as the format allows (FieldNode.null_count).
      if nullCount == 0 {
        try scratch.add(UnsafeRawBufferPointer(start: nil, count: 0), compression, into: &out)
      } else {
        try scratch.addBits(compression, into: &out)
      }
      switch column {
      case .int32(let c): try addValues(c.values[range])
      case .int64(let c): try addValues(c.values[range])
      case .float64(let c): try addValues(c.values[range])
      // Date32 is a struct of one Int32, laid out as that Int32: its bytes are Arrow's date32.
      case .date32(let c):
        precondition(MemoryLayout<Date32>.stride == 4, "Date32 must be laid out as one Int32")
        try addValues(c.values[range])
      case .bool(let c):
        scratch.packBools(c.values, start: start, count: count)
        try scratch.addBits(compression, into: &out)
      case .utf8(let c):
        let base = c.offsets[start]
        if base == 0 {
          try scratch.add(c.offsets[start...(start + count)], compression, into: &out)
        } else {
          scratch.offsets.removeAll(keepingCapacity: true)
          scratch.offsets.append(contentsOf: c.offsets[start...(start + count)].lazy.map { $0 - base })
          let rebased = scratch.offsets
          try scratch.add(rebased[...], compression, into: &out)
        }
        try addValues(c.bytes[Int(base)..<Int(c.offsets[start + count])])
      }
    }
    let bodyLength = out.count - scratch.bodyStart
    let metadata = Self.recordBatchMessage(
      length: count, nodes: scratch.nodes, buffers: scratch.buffers, bodyLength: bodyLength, compression: compression)
    precondition(
      metadata.count == sizing.count,
      "record batch metadata is \(metadata.count) bytes, its gap \(sizing.count): the flatbuffer must not depend on values"
    )
    out.withUnsafeMutableBytes { file in
      metadata.withUnsafeBytes { meta in
        // The gap out[messageStart + 8 ..< messageStart + 8 + paddedMeta] was appended above
        // and metadata.count <= paddedMeta, so the copy stays inside it.
        UnsafeMutableRawBufferPointer(rebasing: file[(messageStart + 8)..<(messageStart + 8 + metadata.count)])
          .copyMemory(from: meta)
      }
    }
    blocks.append((messageStart, 8 + paddedMeta, bodyLength))
  }
}

/// One-call encoding.
public enum ArrowFile {
  public static func encode(
    _ table: Table, schemaMetadata: [Metadatum] = [], compression: ArrowCompression = .lz4Frame, batchRows: Int = 65_536
  ) throws(ArrowError) -> [UInt8] {
    var writer = ArrowFileWriter(
      fields: table.fields, schemaMetadata: schemaMetadata, compression: compression, batchRows: batchRows)
    try writer.write(table)
    return try writer.finish()
  }
}
