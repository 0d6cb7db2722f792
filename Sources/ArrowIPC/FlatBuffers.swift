// The FlatBuffers binary format (flatbuffers.dev "internals"), only as much as Arrow's
// Schema.fbs / Message.fbs / File.fbs need: tables with vtables, scalars, strings, vectors of
// structs and of tables, unions as (type byte, table offset). Little-endian throughout.

/// A back-to-front FlatBuffers builder. Objects are written before the objects that point at
/// them (a `uoffset` must point forward), so the buffer grows toward its front. No vtable
/// deduplication: the output is deterministic either way, and Arrow metadata is tiny.
struct FlatBufferBuilder {
  /// Position of an object, counted from the end of the buffer (stable while it grows).
  struct Offset: Equatable { var value: Int }

  private var buf: [UInt8]
  private var head: Int
  private var minAlign = 1
  private var tableStart = 0
  private var fieldLocations: [(slot: Int, at: Int)] = []

  init(capacity: Int = 1024) {
    buf = [UInt8](repeating: 0, count: max(capacity, 16))
    head = buf.count
  }

  var size: Int { buf.count - head }

  private mutating func ensure(_ n: Int) {
    guard head < n else { return }
    var newCount = buf.count
    while newCount - size < n { newCount *= 2 }
    var grown = [UInt8](repeating: 0, count: newCount)
    let used = size
    grown.replaceSubrange((newCount - used)..<newCount, with: buf[head...])
    buf = grown
    head = newCount - used
  }

  /// Pads so that after writing `additional` bytes, a value of `alignment` bytes is aligned.
  private mutating func prep(_ alignment: Int, _ additional: Int) {
    minAlign = max(minAlign, alignment)
    let padding = (~(size + additional) &+ 1) & (alignment - 1)
    ensure(padding + alignment + additional)
    for _ in 0..<padding {
      head -= 1
      buf[head] = 0
    }
  }

  private mutating func put<T: FixedWidthInteger>(_ value: T) {
    let n = MemoryLayout<T>.size
    head -= n
    var v = value.littleEndian
    withUnsafeBytes(of: &v) { src in
      for i in 0..<n { buf[head + i] = src[i] }
    }
  }

  mutating func add<T: FixedWidthInteger>(_ value: T) {
    prep(MemoryLayout<T>.size, 0)
    put(value)
  }

  mutating func addOffset(_ target: Offset) {
    prep(4, 0)
    precondition(target.value <= size, "offset must point at an object already written")
    put(UInt32(size - target.value + 4))
  }

  mutating func createString(_ s: String) -> Offset {
    let bytes = Array(s.utf8)
    prep(4, bytes.count + 1)
    put(UInt8(0))
    ensure(bytes.count)
    head -= bytes.count
    buf.replaceSubrange(head..<(head + bytes.count), with: bytes)
    put(UInt32(bytes.count))
    return Offset(value: size)
  }

  /// A vector of tables (or strings): `targets` in order.
  mutating func createVector(offsets targets: [Offset]) -> Offset {
    prep(4, 4 * targets.count)
    for t in targets.reversed() { addOffset(t) }
    put(UInt32(targets.count))
    return Offset(value: size)
  }

  /// A vector of structs; each element's bytes are written by `writeElement` back to front
  /// (last field first) through `putStructField`.
  mutating func createVector<E>(
    structs elements: [E], size elementSize: Int, alignment: Int,
    _ writeElement: (inout FlatBufferBuilder, E) -> Void
  ) -> Offset {
    prep(4, elementSize * elements.count)
    prep(alignment, elementSize * elements.count)
    for e in elements.reversed() {
      let before = size
      writeElement(&self, e)
      precondition(size - before == elementSize, "struct writer wrote \(size - before) bytes, not \(elementSize)")
    }
    put(UInt32(elements.count))
    return Offset(value: size)
  }

  /// Inside a struct: a field, written back to front, with explicit zero padding.
  mutating func putStructField<T: FixedWidthInteger>(_ value: T) {
    ensure(MemoryLayout<T>.size)
    put(value)
  }

  mutating func putStructPadding(_ n: Int) {
    ensure(n)
    for _ in 0..<n {
      head -= 1
      buf[head] = 0
    }
  }

  mutating func startTable() {
    precondition(fieldLocations.isEmpty, "tables cannot nest while being built")
    tableStart = size
  }

  /// Every scalar is written even when it equals the schema default: always valid, and one
  /// less rule to get wrong.
  mutating func addField<T: FixedWidthInteger>(_ slot: Int, _ value: T) {
    add(value)
    fieldLocations.append((slot, size))
  }

  mutating func addField(_ slot: Int, offset target: Offset) {
    addOffset(target)
    fieldLocations.append((slot, size))
  }

  mutating func endTable() -> Offset {
    add(Int32(0))  // soffset to the vtable, patched below
    let tableOffset = size
    let slotCount = (fieldLocations.map(\.slot).max() ?? -1) + 1
    var entries = [UInt16](repeating: 0, count: slotCount)
    for (slot, at) in fieldLocations { entries[slot] = UInt16(tableOffset - at) }
    ensure(4 + 2 * slotCount)
    for e in entries.reversed() { put(e) }
    put(UInt16(tableOffset - tableStart))
    put(UInt16(4 + 2 * slotCount))
    let vtableOffset = size
    let tablePosition = buf.count - tableOffset
    var soffset = Int32(vtableOffset - tableOffset).littleEndian
    withUnsafeBytes(of: &soffset) { src in
      for i in 0..<4 { buf[tablePosition + i] = src[i] }
    }
    fieldLocations.removeAll(keepingCapacity: true)
    return Offset(value: tableOffset)
  }

  /// Finishes with `root` as the root table; the result's length is a multiple of 8 so it
  /// can be framed as an Arrow message without further thought.
  mutating func finish(root: Offset) -> [UInt8] {
    prep(max(minAlign, 8), 4)
    addOffset(root)
    return Array(buf[head...])
  }
}

/// A bounds-checked view of one FlatBuffer. Every offset read from the bytes is checked before
/// use; a failure throws `ArrowError.invalid` naming the structure and the absolute byte offset
/// in the file (`base` is where the flatbuffer starts in the file).
struct FlatBufferReader {
  let bytes: [UInt8]
  /// The flatbuffer occupies `bytes[start..<end]`.
  let start: Int
  let end: Int
  /// What is being read, for messages ("footer", "record batch 3 metadata").
  let context: String

  init(bytes: [UInt8], start: Int, end: Int, context: String) {
    self.bytes = bytes
    self.start = start
    self.end = end
    self.context = context
  }

  func fail(_ what: String, at position: Int, _ proof: String) -> ArrowError {
    .invalid(what: "\(context): \(what)", byteOffset: position, proof: proof)
  }

  func check(_ position: Int, _ count: Int, _ what: String) throws(ArrowError) {
    guard position >= start, count >= 0, position <= end, end - position >= count else {
      throw fail(
        what, at: position,
        "needs bytes \(position)..<\(position + count), the flatbuffer spans \(start)..<\(end)")
    }
  }

  func u8(_ p: Int, _ what: String) throws(ArrowError) -> UInt8 {
    try check(p, 1, what)
    return bytes[p]
  }

  func u16(_ p: Int, _ what: String) throws(ArrowError) -> UInt16 {
    try check(p, 2, what)
    return UInt16(bytes[p]) | UInt16(bytes[p + 1]) << 8
  }

  func u32(_ p: Int, _ what: String) throws(ArrowError) -> UInt32 {
    try check(p, 4, what)
    var v: UInt32 = 0
    for i in 0..<4 { v |= UInt32(bytes[p + i]) << (8 * UInt32(i)) }
    return v
  }

  func u64(_ p: Int, _ what: String) throws(ArrowError) -> UInt64 {
    try check(p, 8, what)
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(bytes[p + i]) << (8 * UInt64(i)) }
    return v
  }

  /// Follows the uoffset stored at `p`.
  func follow(_ p: Int, _ what: String) throws(ArrowError) -> Int {
    let rel = Int(try u32(p, what))
    let target = p + rel
    try check(target, 0, what)
    return target
  }

  func root() throws(ArrowError) -> TableView {
    try table(at: follow(start, "root table offset"), "root table")
  }

  func table(at position: Int, _ what: String) throws(ArrowError) -> TableView {
    let soffset = Int(Int32(bitPattern: try u32(position, "\(what) vtable offset")))
    let vtable = position - soffset
    let vtableSize = Int(try u16(vtable, "\(what) vtable size"))
    let tableSize = Int(try u16(vtable + 2, "\(what) vtable's table size"))
    guard vtableSize >= 4, vtableSize % 2 == 0 else {
      throw fail("\(what) vtable", at: vtable, "vtable size \(vtableSize) is not an even number ≥ 4")
    }
    try check(vtable, vtableSize, "\(what) vtable")
    try check(position, max(tableSize, 4), "\(what) table")
    return TableView(reader: self, position: position, vtable: vtable, slotCount: (vtableSize - 4) / 2, tableSize: tableSize,
                 what: what)
  }

  struct TableView {
    let reader: FlatBufferReader
    let position: Int
    let vtable: Int
    let slotCount: Int
    let tableSize: Int
    let what: String

    /// Absolute position of field `slot`, or nil when absent (default value).
    func fieldPosition(_ slot: Int, size: Int) throws(ArrowError) -> Int? {
      guard slot < slotCount else { return nil }
      let rel = Int(try reader.u16(vtable + 4 + 2 * slot, "\(what) vtable entry \(slot)"))
      guard rel != 0 else { return nil }
      guard rel + size <= tableSize else {
        throw reader.fail(
          "\(what) field \(slot)", at: position + rel,
          "field at table offset \(rel) with \(size) bytes runs past the table's \(tableSize) bytes")
      }
      return position + rel
    }

    func u8(_ slot: Int, default d: UInt8 = 0) throws(ArrowError) -> UInt8 {
      guard let p = try fieldPosition(slot, size: 1) else { return d }
      return try reader.u8(p, "\(what) field \(slot)")
    }

    func bool(_ slot: Int, default d: Bool = false) throws(ArrowError) -> Bool {
      try u8(slot, default: d ? 1 : 0) != 0
    }

    func i16(_ slot: Int, default d: Int16 = 0) throws(ArrowError) -> Int16 {
      guard let p = try fieldPosition(slot, size: 2) else { return d }
      return Int16(bitPattern: try reader.u16(p, "\(what) field \(slot)"))
    }

    func i32(_ slot: Int, default d: Int32 = 0) throws(ArrowError) -> Int32 {
      guard let p = try fieldPosition(slot, size: 4) else { return d }
      return Int32(bitPattern: try reader.u32(p, "\(what) field \(slot)"))
    }

    func i64(_ slot: Int, default d: Int64 = 0) throws(ArrowError) -> Int64 {
      guard let p = try fieldPosition(slot, size: 8) else { return d }
      return Int64(bitPattern: try reader.u64(p, "\(what) field \(slot)"))
    }

    func table(_ slot: Int, _ name: String) throws(ArrowError) -> TableView? {
      guard let p = try fieldPosition(slot, size: 4) else { return nil }
      return try reader.table(at: reader.follow(p, "\(what).\(name) offset"), "\(what).\(name)")
    }

    func string(_ slot: Int, _ name: String) throws(ArrowError) -> String? {
      guard let p = try fieldPosition(slot, size: 4) else { return nil }
      let s = try reader.follow(p, "\(what).\(name) offset")
      let n = Int(try reader.u32(s, "\(what).\(name) length"))
      try reader.check(s + 4, n, "\(what).\(name) bytes")
      guard let text = String(validating: reader.bytes[(s + 4)..<(s + 4 + n)], as: UTF8.self) else {
        throw reader.fail("\(what).\(name)", at: s + 4, "string of \(n) bytes is not valid UTF-8")
      }
      return text
    }

    /// A vector's element count and the absolute position of its first element, with the
    /// whole vector checked to lie inside the flatbuffer.
    func vector(_ slot: Int, elementSize: Int, _ name: String) throws(ArrowError) -> (count: Int, start: Int)? {
      guard let p = try fieldPosition(slot, size: 4) else { return nil }
      let v = try reader.follow(p, "\(what).\(name) offset")
      let n = Int(try reader.u32(v, "\(what).\(name) length"))
      let (bytes, overflow) = n.multipliedReportingOverflow(by: elementSize)
      guard !overflow else {
        throw reader.fail("\(what).\(name)", at: v, "\(n) elements of \(elementSize) bytes overflow")
      }
      try reader.check(v + 4, bytes, "\(what).\(name) (\(n) elements of \(elementSize) bytes)")
      return (n, v + 4)
    }

    func tables(_ slot: Int, _ name: String) throws(ArrowError) -> [TableView] {
      guard let (n, first) = try vector(slot, elementSize: 4, name) else { return [] }
      var out: [TableView] = []
      out.reserveCapacity(n)
      for i in 0..<n {
        let p = first + 4 * i
        out.append(try reader.table(at: reader.follow(p, "\(what).\(name)[\(i)] offset"), "\(what).\(name)[\(i)]"))
      }
      return out
    }
  }
}
