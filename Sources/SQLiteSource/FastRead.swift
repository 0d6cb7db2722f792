import Columnar
import CSQLite
import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

/// Typed storage for at most `capacity` rows of one table (a count taken just before the
/// read), written in place by row index. Pages of the buffers no row reaches are never touched.
///
/// The checked path appends every value through `ColumnBuilder` (an enum switch, an array
/// append with its uniqueness check, a bitmap append); here each value is one C call for its
/// type, one for its payload and a store. Every value is held to exactly the rules of
/// `ColumnBuilder.append`; where one fails the fill stops and the caller runs the checked
/// path, which names the problem. So this never decides what an error says.
final class FastColumns {
  /// What `fill` does with a column, decided once per table instead of once per value.
  enum Code: UInt8 { case textRequired, textOptional, intRequired, intOptional, real, flag, date, timestamp }

  let specs: [ColumnSpec]
  let capacity: Int
  /// Rows held. In a pointer, as the text buffers are: a stored `var` of a class costs an
  /// exclusivity check on every write, per row and per value here.
  var count: Int { counter.pointee }
  private let counter: UnsafeMutablePointer<Int>
  private let codes: UnsafeMutablePointer<Code>
  /// Each column's index among the columns of its storage type.
  private let slots: UnsafeMutablePointer<Int>
  private let rowid: UnsafeMutablePointer<Int64>
  private let int32s: UnsafeMutablePointer<Int32>
  private let doubles: UnsafeMutablePointer<Double>
  private let flags: UnsafeMutablePointer<Bool>
  private let dates: UnsafeMutablePointer<Date32>
  private let stamps: UnsafeMutablePointer<Int64>
  /// Arrow validity words, `wordsPerColumn` per column, zero until a value is stored.
  private let valid: UnsafeMutablePointer<UInt64>
  private let wordsPerColumn: Int
  /// Per text column: `capacity + 1` offsets into its own byte buffer.
  private let offsets: UnsafeMutablePointer<Int32>
  private let texts: UnsafeMutablePointer<ByteBuffer>
  private let counts: (text: Int, int32: Int, double: Int, flag: Int, date: Int, stamp: Int)
  /// Per date column, then per timestamp column: the last text parsed and its value.
  private let memos: UnsafeMutablePointer<ParseMemo>

  init(specs: [ColumnSpec], capacity: Int) {
    self.specs = specs
    self.capacity = capacity
    var t = 0, i = 0, d = 0, f = 0, dt = 0, s = 0
    codes = .allocate(capacity: max(1, specs.count))
    slots = .allocate(capacity: max(1, specs.count))
    for (k, spec) in specs.enumerated() {
      let code: Code, slot: Int
      switch spec.kind {
      case .text(let required): (code, slot) = (required ? .textRequired : .textOptional, t); t += 1
      case .integer(let required): (code, slot) = (required ? .intRequired : .intOptional, i); i += 1
      case .real: (code, slot) = (.real, d); d += 1
      case .flag: (code, slot) = (.flag, f); f += 1
      case .date: (code, slot) = (.date, dt); dt += 1
      case .timestamp: (code, slot) = (.timestamp, s); s += 1
      }
      codes[k] = code
      slots[k] = slot
    }
    counts = (t, i, d, f, dt, s)
    let n = max(1, capacity)
    rowid = .allocate(capacity: n)
    int32s = .allocate(capacity: max(1, i * capacity))
    doubles = .allocate(capacity: max(1, d * capacity))
    flags = .allocate(capacity: max(1, f * capacity))
    dates = .allocate(capacity: max(1, dt * capacity))
    stamps = .allocate(capacity: max(1, s * capacity))
    wordsPerColumn = (capacity + 63) / 64
    valid = .allocate(capacity: max(1, specs.count * wordsPerColumn))
    valid.initialize(repeating: 0, count: max(1, specs.count * wordsPerColumn))
    offsets = .allocate(capacity: t * (capacity + 1) + 1)
    for c in 0..<t { offsets[c * (capacity + 1)] = 0 }
    texts = .allocate(capacity: max(1, t))
    texts.initialize(repeating: ByteBuffer(), count: max(1, t))
    counter = .allocate(capacity: 1)
    counter.initialize(to: 0)
    memos = .allocate(capacity: max(1, dt + s))
    memos.initialize(repeating: ParseMemo(), count: max(1, dt + s))
  }

  deinit {
    codes.deallocate()
    slots.deallocate()
    rowid.deallocate()
    int32s.deallocate()
    doubles.deallocate()
    flags.deallocate()
    dates.deallocate()
    stamps.deallocate()
    valid.deallocate()
    offsets.deallocate()
    for c in 0..<counts.text { texts[c].free() }
    texts.deallocate()
    counter.deallocate()
    memos.deallocate()
  }

  /// Steps `st` (`SELECT rowid, <specs in order> …`) to the end, storing every row after the
  /// ones already held. False when a value breaks its column's rule, the rows outnumber
  /// `capacity`, or SQLite reports an error: the caller then takes the checked path.
  func fill(_ st: OpaquePointer) -> Bool {
    let columns = specs.count
    while true {
      let rc = sqlite3_step(st)
      if rc == SQLITE_DONE { return true }
      guard rc == SQLITE_ROW, count < capacity else { return false }
      let r = count
      rowid[r] = sqlite3_column_int64(st, 0)
      for k in 0..<columns {
        let c = Int32(k + 1)
        let ok: Bool
        switch sqlite3_column_type(st, c) {
        case SQLITE_INTEGER: ok = store(k, row: r, integer: sqlite3_column_int64(st, c))
        case SQLITE_FLOAT: ok = store(k, row: r, real: sqlite3_column_double(st, c))
        case SQLITE_TEXT:
          let p = sqlite3_column_text(st, c)
          let n = Int(sqlite3_column_bytes(st, c))
          ok = store(k, row: r, text: UnsafeBufferPointer(start: p, count: p == nil ? 0 : n))
        case SQLITE_NULL: ok = storeNull(k, row: r)
        default: ok = false
        }
        guard ok else { return false }
      }
      counter.pointee = r + 1
    }
  }

  // One value of column `k`, row `r`, by the storage class SQLite reports for it (what
  // `sqlite3_column_type` says): both the SQLite-driven `fill` and the direct b-tree read store
  // through these, so what each column accepts is defined once, to exactly the rules of
  // `ColumnBuilder.append`. False when the value breaks that rule. Rows are stored in order:
  // a text column's bytes are appended.

  /// Starts row `r` (`count` until `endRow`), false when the buffers are full.
  @inline(__always) func beginRow(rowid value: Int64) -> Bool {
    guard count < capacity else { return false }
    rowid[count] = value
    return true
  }

  /// Keeps the row begun by `beginRow` once every column is stored.
  @inline(__always) func endRow() { counter.pointee += 1 }

  @inline(__always) private func present(_ k: Int, _ r: Int) {
    valid[k * wordsPerColumn + r &>> 6] |= UInt64(1) &<< UInt64(r & 63)
  }

  /// Where column `k` keeps its values (its storage type's buffer from its first row; for a
  /// text column its offsets) and its validity words, for a text column its bytes and for a
  /// date or timestamp column its `ParseMemo` (others get unused pointers there): the
  /// direct read stores the commonest values through these itself (see `LeafDecoder.Target`).
  func target(_ k: Int) -> (
    code: Code, values: UnsafeMutableRawPointer, valid: UnsafeMutablePointer<UInt64>,
    bytes: UnsafeMutablePointer<ByteBuffer>, memo: UnsafeMutablePointer<ParseMemo>
  ) {
    let at = slots[k] * capacity
    let values: UnsafeMutableRawPointer
    var bytes = texts, memo = memos
    switch codes[k] {
    case .intRequired, .intOptional: values = UnsafeMutableRawPointer(int32s + at)
    case .real: values = UnsafeMutableRawPointer(doubles + at)
    case .flag: values = UnsafeMutableRawPointer(flags + at)
    case .date:
      values = UnsafeMutableRawPointer(dates + at)
      memo = memos + slots[k]
    case .timestamp:
      values = UnsafeMutableRawPointer(stamps + at)
      memo = memos + counts.date + slots[k]
    case .textRequired, .textOptional:
      values = UnsafeMutableRawPointer(offsets + slots[k] * (capacity + 1))
      bytes = texts + slots[k]
    }
    return (codes[k], values, valid + k * wordsPerColumn, bytes, memo)
  }

  @inline(__always) func store(_ k: Int, row r: Int, integer v: Int64) -> Bool {
    let at = slots[k] * capacity + r
    switch codes[k] {
    case .intRequired, .intOptional:
      guard let small = Int32(exactly: v) else { return false }
      int32s[at] = small
    case .real: doubles[at] = Double(v)
    case .flag:
      guard v == 0 || v == 1 else { return false }
      flags[at] = v == 1
    case .textRequired, .textOptional, .date, .timestamp: return false
    }
    present(k, r)
    return true
  }

  @inline(__always) func store(_ k: Int, row r: Int, real d: Double) -> Bool {
    let at = slots[k] * capacity + r
    switch codes[k] {
    case .intRequired, .intOptional:
      guard d.isFinite, d == d.rounded(), let small = Int32(exactly: d) else { return false }
      int32s[at] = small
    case .real:
      guard d.isFinite else { return false }
      doubles[at] = d
    case .flag:
      guard d == 0 || d == 1 else { return false }
      flags[at] = d == 1
    case .textRequired, .textOptional, .date, .timestamp: return false
    }
    present(k, r)
    return true
  }

  @inline(__always) func store(_ k: Int, row r: Int, text raw: UnsafeBufferPointer<UInt8>) -> Bool {
    let slot = slots[k]
    switch codes[k] {
    case .textRequired, .textOptional:
      guard ColumnBuilder.isASCII(raw) || String(validating: raw, as: UTF8.self) != nil else { return false }
      texts[slot].append(raw)
      guard texts[slot].count <= Int(Int32.max) else { return false }
      offsets[slot * (capacity + 1) + r + 1] = Int32(truncatingIfNeeded: texts[slot].count)
    case .date:
      guard
        let days = memos[slot].value(
          of: raw, parse: { CivilDate.parse(isoBytes: $0).map { Int64($0.date32.daysSinceEpoch) } })
      else { return false }
      dates[slot * capacity + r] = Date32(daysSinceEpoch: Int32(truncatingIfNeeded: days))
    case .timestamp:
      guard let micros = memos[counts.date + slot].value(of: raw, parse: { Timestamp.parseMicros(bytes: $0) }) else {
        return false
      }
      stamps[slot * capacity + r] = micros
    case .intRequired, .intOptional, .real, .flag: return false
    }
    present(k, r)
    return true
  }

  @inline(__always) func storeNull(_ k: Int, row r: Int) -> Bool {
    let slot = slots[k]
    let at = slot * capacity + r
    switch codes[k] {
    case .textOptional: offsets[slot * (capacity + 1) + r + 1] = Int32(truncatingIfNeeded: texts[slot].count)
    case .intOptional: int32s[at] = 0
    case .real: doubles[at] = 0
    case .flag: flags[at] = false
    case .timestamp: stamps[at] = 0
    case .textRequired, .intRequired, .date: return false
    }
    return true
  }

  /// The rows held, as the checked path's builders would hold them.
  func result() -> SourceReader.ReadResult { Self.concatenate([(self, 0..<count)]) }

  /// Row ranges of several fills of the same columns, one after another, as builders.
  static func concatenate(_ segments: [(part: FastColumns, rows: Range<Int>)]) -> SourceReader.ReadResult {
    guard let first = segments.first?.part else { return .init(rowid: [], columns: []) }
    var out = Appender(like: first, reserving: segments.reduce(0) { $0 + $1.rows.count })
    for (part, rows) in segments { out.append(part, rows: rows) }
    return out.result()
  }

  /// Empties the columns for another fill, keeping their memory (and the parse memos, which
  /// only ever save a parse): a scratch buffer reused run after run faults its pages in once.
  func reset() {
    let used = (count + 63) / 64
    for k in 0..<specs.count { (valid + k * wordsPerColumn).update(repeating: 0, count: used) }
    for c in 0..<counts.text { texts[c].removeAll() }
    counter.pointee = 0
  }

  /// The rows of successive fills of one column layout, appended in order into the arrays the
  /// result is made of. The direct read decodes each run of leaves into a small scratch
  /// `FastColumns` and appends it here, so the table's values land in fresh memory once.
  struct Appender {
    let specs: [ColumnSpec]
    private let codes: [Code]
    private let slots: [Int]
    private let reservedRows: Int
    private(set) var count = 0
    private var rowid: [Int64] = []
    private var words: [[UInt64]]
    private var int32s: [[Int32]]
    private var doubles: [[Double]]
    private var flags: [[Bool]]
    private var dates: [[Date32]]
    private var stamps: [[Int64]]
    private var offsets: [[Int32]]
    private var bytes: [[UInt8]]

    /// Columns laid out as `like`'s; `rows` is reserved (an upper bound costs address space,
    /// not memory: pages no row reaches are never touched).
    init(like part: FastColumns, reserving rows: Int) {
      specs = part.specs
      reservedRows = rows
      codes = (0..<part.specs.count).map { part.codes[$0] }
      slots = (0..<part.specs.count).map { part.slots[$0] }
      let c = part.counts
      func reserved<T>(_ n: Int, _ perColumn: Int) -> [[T]] {
        (0..<n).map { _ in
          var a: [T] = []
          a.reserveCapacity(perColumn)
          return a
        }
      }
      rowid.reserveCapacity(rows)
      words = reserved(specs.count, (rows + 63) / 64)
      int32s = reserved(c.int32, rows)
      doubles = reserved(c.double, rows)
      flags = reserved(c.flag, rows)
      dates = reserved(c.date, rows)
      stamps = reserved(c.stamp, rows)
      offsets = reserved(c.text, rows + 1)
      for t in 0..<c.text { offsets[t].append(0) }
      bytes = reserved(c.text, 0)
    }

    /// Appends rows `rows` of `part`, which must have the same columns.
    mutating func append(_ part: FastColumns, rows: Range<Int>) {
      guard !rows.isEmpty else { return }
      let n = rows.count
      rowid.append(contentsOf: UnsafeBufferPointer(start: part.rowid + rows.lowerBound, count: n))
      for k in 0..<specs.count {
        Self.appendBits(from: part.valid + k * part.wordsPerColumn, rows, to: &words[k], at: count)
        let slot = slots[k]
        func copy<T>(_ storage: UnsafeMutablePointer<T>, _ into: inout [T]) {
          into.append(
            contentsOf: UnsafeBufferPointer(start: storage + slot * part.capacity + rows.lowerBound, count: n))
        }
        switch codes[k] {
        case .textRequired, .textOptional:
          let o = part.offsets + slot * (part.capacity + 1)
          let first = Int(o[rows.lowerBound]), last = Int(o[rows.upperBound])
          let shift = Int32(bytes[slot].count) - Int32(first)
          offsets[slot].append(
            contentsOf: UnsafeBufferPointer(start: o + rows.lowerBound + 1, count: n).lazy.map { $0 + shift })
          if last > first, let base = part.texts[slot].base {
            let needed = bytes[slot].count + last - first
            if bytes[slot].capacity < needed {
              // Room for every reserved row at the bytes per row seen so far, and some: the
              // column's bytes are then written (and their pages faulted) about once, instead
              // of copied at every doubling.
              let perRow = Double(needed) / Double(count + n)
              bytes[slot].reserveCapacity(
                max(needed, Int(perRow * Double(max(reservedRows, count + n)) * 1.125) + 4096))
            }
            bytes[slot].append(contentsOf: UnsafeBufferPointer(start: base + first, count: last - first))
          }
        case .intRequired, .intOptional: copy(part.int32s, &int32s[slot])
        case .real: copy(part.doubles, &doubles[slot])
        case .flag: copy(part.flags, &flags[slot])
        case .date: copy(part.dates, &dates[slot])
        case .timestamp: copy(part.stamps, &stamps[slot])
        }
      }
      count += n
    }

    /// Up to 64 bits at a time from any bit offset to any bit offset. A second word is read
    /// or written only when the bits run into it, so nothing past a bitmap is touched.
    private static func appendBits(
      from base: UnsafeMutablePointer<UInt64>, _ rows: Range<Int>, to words: inout [UInt64], at start: Int
    ) {
      let end = start + rows.count
      let needed = (end + 63) / 64
      if words.count < needed { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
      words.withUnsafeMutableBufferPointer { out in
        var i = rows.lowerBound
        var at = start
        while i < rows.upperBound {
          let n = min(64, rows.upperBound - i)
          let w = i &>> 6, s = i & 63
          var v = base[w] &>> UInt64(s)
          if s != 0 && s + n > 64 { v |= base[w + 1] &<< UInt64(64 - s) }
          if n < 64 { v &= (UInt64(1) &<< UInt64(n)) &- 1 }
          let dw = at &>> 6, ds = at & 63
          out[dw] |= v &<< UInt64(ds)
          if ds != 0 && ds + n > 64 { out[dw + 1] |= v &>> UInt64(64 - ds) }
          i += n
          at += n
        }
      }
    }

    /// The rows appended, as the checked path's builders would hold them.
    func result() -> SourceReader.ReadResult {
      var builders: [ColumnBuilder] = []
      builders.reserveCapacity(specs.count)
      for k in 0..<specs.count {
        let validity = words[k].withUnsafeBytes {
          ValidityBitmap(packedBytes: UnsafeRawBufferPointer(rebasing: $0[0..<((count + 7) / 8)]), count: count)
        }
        let slot = slots[k]
        var b = ColumnBuilder(kind: specs[k].kind)
        switch codes[k] {
        case .textRequired, .textOptional:
          b.strings = StringColumn(offsets: offsets[slot], bytes: bytes[slot], validity: validity)
        case .intRequired, .intOptional: b.int32s = Column(values: int32s[slot], validity: validity)
        case .real: b.doubles = Column(values: doubles[slot], validity: validity)
        case .flag: b.flags = Column(values: flags[slot], validity: validity)
        case .date: b.dates = Column(values: dates[slot], validity: validity)
        case .timestamp: b.timestamps = Column(values: stamps[slot], validity: validity)
        }
        builders.append(b)
      }
      return SourceReader.ReadResult(rowid: rowid, columns: builders)
    }
  }
}

/// The last text a date or timestamp column parsed and the value it gave. Rows arrive in rowid
/// order, which in an export is mostly date order: a date column repeats one value for hundreds
/// of rows in a row, and `processed_at` one value per load. Equal bytes give an equal value, so
/// a repeat is a 32-byte compare instead of a parse; only texts that parsed are remembered, so
/// a bad one still fails every time it appears.
struct ParseMemo {
  static let capacity = 32
  private var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
  /// -1 until a text was remembered; texts longer than `capacity` never are.
  private var count = -1
  private var value: Int64 = 0

  @inline(__always) func value(ifSameAs raw: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard raw.count == count, let src = raw.baseAddress else { return nil }
    let n = count
    let same = withUnsafeBytes(of: bytes) { memo -> Bool in
      // Dates (10 bytes) and timestamps (20–27) compare word by word, the last word
      // overlapping the one before it, instead of through a call to memcmp.
      guard n >= 8 else { return memcmp(memo.baseAddress!, src, n) == 0 }
      let text = UnsafeRawPointer(src)
      var differ: UInt64 = 0
      var i = 0
      while i + 8 < n {
        differ |=
          memo.loadUnaligned(fromByteOffset: i, as: UInt64.self)
          ^ text.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        i += 8
      }
      differ |=
        memo.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        ^ text.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
      return differ == 0
    }
    return same ? value : nil
  }

  @inline(__always) mutating func remember(_ raw: UnsafeBufferPointer<UInt8>, _ parsed: Int64) {
    guard raw.count <= Self.capacity, let src = raw.baseAddress else { return }
    withUnsafeMutableBytes(of: &bytes) { $0.baseAddress!.copyMemory(from: src, byteCount: raw.count) }
    count = raw.count
    value = parsed
  }

  /// The remembered value when `raw` is the remembered text, else `parse(raw)`, remembered
  /// when it parsed; nil when it did not.
  @inline(__always) mutating func value(
    of raw: UnsafeBufferPointer<UInt8>, parse: (UnsafeBufferPointer<UInt8>) -> Int64?
  ) -> Int64? {
    if let known = value(ifSameAs: raw) { return known }
    guard let parsed = parse(raw) else { return nil }
    remember(raw, parsed)
    return parsed
  }
}

/// A growable byte buffer for one text column, freed by its owner.
///
/// Grown with `realloc`: once a buffer is large enough for glibc to map it on its own, growing
/// it remaps the pages it already holds instead of copying them into fresh ones, so a column's
/// bytes are written once and their pages faulted in once (a copying doubling touched about
/// twice the final size).
struct ByteBuffer {
  private(set) var base: UnsafeMutablePointer<UInt8>?
  private(set) var count = 0
  private var capacity = 0

  @inline(__always) mutating func append(_ raw: UnsafeBufferPointer<UInt8>) {
    let n = raw.count
    if count + n > capacity { grow(toFit: count + n) }
    if n > 0, let src = raw.baseAddress { (base! + count).update(from: src, count: n) }
    count += n
  }

  /// Appends the `n` bytes at `src`, 4 ≤ n ≤ 32, when all are ASCII; false (and nothing
  /// appended) when one is not. Overlapping word loads check and copy them without a call:
  /// nearly every text of a box score (ids, names, game ids, team codes in them) is this long.
  @inline(__always) mutating func appendShortASCII(_ src: UnsafePointer<UInt8>, count n: Int) -> Bool {
    let raw = UnsafeRawPointer(src)
    if n < 8 {
      let head = raw.loadUnaligned(as: UInt32.self)
      let tail = raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
      guard (head | tail) & 0x8080_8080 == 0 else { return false }
      let dst = reserve(n)
      dst.storeBytes(of: head, as: UInt32.self)
      dst.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
      return true
    }
    // Words at 0 and n − 8, and for texts over 16 bytes also at 8 and n − 16: together they
    // cover every byte.
    let w0 = raw.loadUnaligned(as: UInt64.self)
    let w3 = raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
    let long = n > 16
    let w1 = long ? raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self) : 0
    let w2 = long ? raw.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self) : 0
    guard (w0 | w1 | w2 | w3) & 0x8080_8080_8080_8080 == 0 else { return false }
    let dst = reserve(n)
    dst.storeBytes(of: w0, as: UInt64.self)
    if long {
      dst.storeBytes(of: w1, toByteOffset: 8, as: UInt64.self)
      dst.storeBytes(of: w2, toByteOffset: n - 16, as: UInt64.self)
    }
    dst.storeBytes(of: w3, toByteOffset: n - 8, as: UInt64.self)
    return true
  }

  /// Room for `n` more bytes, counted as appended: where they go.
  @inline(__always) private mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
    if count + n > capacity { grow(toFit: count + n) }
    defer { count += n }
    return UnsafeMutableRawPointer(base! + count)
  }

  @inline(never) private mutating func grow(toFit needed: Int) {
    let grown = Swift.max(needed, capacity * 2, 4096)
    guard let next = realloc(base, grown) else {
      // The same end as Swift's own allocation failure: nothing useful can follow.
      fatalError("out of memory growing a text column to \(grown) bytes")
    }
    base = next.assumingMemoryBound(to: UInt8.self)
    capacity = grown
  }

  /// Empty again, keeping the memory.
  mutating func removeAll() { count = 0 }

  func free() { Glibc.free(base) }
}

extension ColumnBuilder {
  /// The rows `indices` of this column, in that order.
  func gather(_ indices: [Int]) -> ColumnBuilder {
    var out = ColumnBuilder(kind: kind)
    switch kind {
    case .text: out.strings = strings.gather(indices)
    case .integer: out.int32s = int32s.gather(indices)
    case .real: out.doubles = doubles.gather(indices)
    case .flag: out.flags = flags.gather(indices)
    case .date: out.dates = dates.gather(indices)
    case .timestamp: out.timestamps = timestamps.gather(indices)
    }
    return out
  }
}

extension SourceReader.ReadResult {
  func gather(_ indices: [Int]) -> SourceReader.ReadResult {
    .init(rowid: indices.map { rowid[$0] }, columns: columns.map { $0.gather(indices) })
  }
}

/// Written by one thread, read by another after `DispatchGroup.wait()`, which orders the two.
private final class Slot<T>: @unchecked Sendable {
  var value: T?
}

extension SourceReader {
  /// The PCF `game_date` probe of `refuseUnselectableRows` and the row count per season.
  struct DateProbe {
    /// False when some PCF `game_date` is not TEXT holding a real calendar date.
    var allValid = true
    /// Rows per season start year, for the seasons in `lo...hi`.
    var perSeason: [Int] = []
    /// The lowest and highest rowid holding each of those seasons.
    var rowids: [ClosedRange<Int64>?] = []
  }

  /// One pass over every PCF `game_date`: the same check as the probe of the checked path,
  /// plus how many rows each requested season has and where in rowid order they lie, so the
  /// read can size its buffers exactly and skip other seasons' pages.
  static func probeDates(_ connection: Connection, seasons: ClosedRange<Int>) -> DateProbe? {
    guard let st = try? connection.prepare("SELECT game_date, rowid FROM player_composite_factors") else { return nil }
    var probe = DateProbe(
      perSeason: [Int](repeating: 0, count: seasons.count), rowids: Array(repeating: nil, count: seasons.count))
    let h = st.handle
    while true {
      let rc = sqlite3_step(h)
      if rc == SQLITE_DONE { return probe }
      guard rc == SQLITE_ROW else { return nil }
      guard sqlite3_column_type(h, 0) == SQLITE_TEXT else {
        probe.allValid = false
        return probe
      }
      let p = sqlite3_column_text(h, 0)
      let n = Int(sqlite3_column_bytes(h, 0))
      guard let date = CivilDate.parse(isoBytes: UnsafeBufferPointer(start: p, count: p == nil ? 0 : n)) else {
        probe.allValid = false
        return probe
      }
      let season = Season.startYear(of: date)
      if seasons.contains(season) {
        let k = season - seasons.lowerBound
        probe.perSeason[k] += 1
        let rowid = sqlite3_column_int64(h, 1)
        if let r = probe.rowids[k] {
          if rowid < r.lowerBound || rowid > r.upperBound {
            probe.rowids[k] = min(rowid, r.lowerBound)...max(rowid, r.upperBound)
          }
        } else {
          probe.rowids[k] = rowid...rowid
        }
      }
    }
  }

  /// A share of the PGS rows: `rowid` in `rows`, and `season_year = season` when a season
  /// is given (answered from the season_year index).
  struct PGSJob: Sendable {
    var season: Int?
    var rows: ClosedRange<Int64>
  }

  /// Reads what `readChecked` reads, faster: per-type loops into buffers, PGS by its season
  /// index without a sort, PCF in one pass per run of consecutive seasons, and the work split
  /// over two connections on two threads. Nil when anything is unusual (a value the checked
  /// path would refuse, a season without rows, a table changing under the read, any SQLite
  /// error): the checked path then decides, so errors and their wording are exactly its own.
  func readFast(_ connection: Connection, seasons: [Int]) throws(SourceError) -> SourceData? {
    guard !seasons.isEmpty else { return nil }
    let path = self.path
    var jobs: [PGSJob] = []
    var selected = 0
    var allSelected = false
    do {
      // Anything the checked path refuses, it names.
      guard try !Self.holdsUnselectableSeasonYear(connection) else { return nil }
      var perSeason: [Int: Int] = [:]
      var total = 0
      let counts = try connection.prepare("SELECT season_year, count(*) FROM player_game_summary GROUP BY season_year")
      while try counts.step() {
        perSeason[Int(counts.int64(0)), default: 0] += Int(counts.int64(1))
        total += Int(counts.int64(1))
      }
      guard seasons.allSatisfy({ perSeason[$0] != nil }) else { return nil }
      selected = seasons.reduce(0) { $0 + perSeason[$1]! }
      allSelected = selected == total
      let indexed = try connection.prepare(
        """
        SELECT EXISTS (SELECT 1 FROM pragma_index_list('player_game_summary') AS l, pragma_index_info(l.name) AS i
        WHERE i.seqno = 0 AND i.name = 'season_year')
        """)
      guard try indexed.step() else { return nil }
      let tableRange = try connection.prepare("SELECT min(rowid), max(rowid) FROM player_game_summary")
      let seasonRange = try connection.prepare(
        "SELECT min(rowid), max(rowid) FROM player_game_summary WHERE season_year = ?1")
      // Every row wanted: a plain rowid-order scan. Else, with the index, one season at a
      // time (index order within a season is rowid order, so no sort of the selected rows as
      // the checked path's IN list needs); without it, one filtered scan.
      let units: [Int?] = allSelected || indexed.int64(0) == 0 ? [nil] : seasons
      for season in units {
        let range = season == nil ? tableRange : seasonRange
        if let season { try range.bind(1, season) }
        guard try range.step() else { return nil }
        defer { range.reset() }
        let lo = range.int64(0), hi = range.int64(1)
        // The other thread also reads PCF, about one row per PGS row but 10 columns to 28,
        // plus the date probe: give it the PGS rows above ~75 % of each unit's rowid span.
        let split = lo + Int64(Double(hi - lo) * 0.75)
        jobs.append(PGSJob(season: season, rows: lo...split))
        if split < hi { jobs.append(PGSJob(season: season, rows: (split + 1)...hi)) }
      }
    } catch {
      return nil
    }
    let filtered = !allSelected && jobs.first?.season == nil
    let pgsSQL =
      "SELECT rowid, \(Self.pgsColumns.map { "\"\($0.name)\"" }.joined(separator: ", ")) FROM player_game_summary WHERE "
      + (allSelected
        ? "" : filtered ? "season_year IN (SELECT value FROM json_each(?3)) AND " : "season_year = ?3 AND ")
      + "rowid BETWEEN ?1 AND ?2 ORDER BY rowid"
    let seasonList = "[" + seasons.map(String.init).joined(separator: ",") + "]"
    // Even-numbered jobs (the lower ~75 % of each unit) here, odd ones on the other thread.
    let mine = stride(from: 0, to: jobs.count, by: 2).map { jobs[$0] }
    let theirs = stride(from: 1, to: jobs.count, by: 2).map { jobs[$0] }

    let capacity = selected
    let other = Slot<(pcf: ReadResult, pgs: FastColumns, ends: [Int])>()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) {
      guard let connection = try? Connection(path: path, mode: .readOnly),
        let pcf = Self.readPCFFast(connection, seasons: seasons),
        let part = Self.readPGSJobs(connection, theirs, sql: pgsSQL, seasonList: seasonList, capacity: capacity)
      else { return }
      other.value = (pcf, part.columns, part.ends)
    }
    let here = Self.readPGSJobs(connection, mine, sql: pgsSQL, seasonList: seasonList, capacity: selected)
    group.wait()
    guard let here, let (pcf, there, thereEnds) = other.value else { return nil }
    // Job by job in their original order: a unit's lower rows, then its upper rows.
    var segments: [(part: FastColumns, rows: Range<Int>)] = []
    for j in jobs.indices {
      let (part, ends) = j % 2 == 0 ? (here.columns, here.ends) : (there, thereEnds)
      let k = j / 2
      segments.append((part, (k == 0 ? 0 : ends[k - 1])..<ends[k]))
    }
    guard segments.reduce(0, { $0 + $1.rows.count }) == selected else { return nil }
    var pgs = FastColumns.concatenate(segments)
    if !zip(pgs.rowid, pgs.rowid.dropFirst()).allSatisfy({ $0 < $1 }) {
      // Seasons interleave in the file: put the rows back in rowid order.
      pgs = pgs.gather(pgs.rowid.indices.sorted { pgs.rowid[$0] < pgs.rowid[$1] })
    }
    return try assemble(connection, seasons: seasons, pgs: pgs, pcf: pcf)
  }

  /// Runs `jobs` one after another into one set of buffers; `ends[k]` is the row count after job k.
  static func readPGSJobs(_ connection: Connection, _ jobs: [PGSJob], sql: String, seasonList: String, capacity: Int)
    -> (columns: FastColumns, ends: [Int])?
  {
    let out = FastColumns(specs: pgsColumns, capacity: capacity)
    var ends: [Int] = []
    do {
      let st = try connection.prepare(sql)
      for job in jobs {
        st.reset()
        try st.bind(1, job.rows.lowerBound)
        try st.bind(2, job.rows.upperBound)
        if let season = job.season {
          try st.bind(3, season)
        } else if sql.contains("?3") {
          try st.bind(3, seasonList)
        }
        guard out.fill(st.handle) else { return nil }
        ends.append(out.count)
      }
    } catch {
      return nil
    }
    return (out, ends)
  }

  /// The date probe, then the PCF rows of the requested seasons, season by season, each in
  /// rowid order.
  static func readPCFFast(_ connection: Connection, seasons: [Int]) -> ReadResult? {
    guard let lo = seasons.first, let hi = seasons.last,
      let probe = probeDates(connection, seasons: lo...hi), probe.allValid
    else { return nil }
    let wanted = Set(seasons)
    let capacity = seasons.reduce(0) { $0 + probe.perSeason[$1 - lo] }
    let columns = pcfColumns
    let out = FastColumns(specs: columns, capacity: capacity)
    // Runs of consecutive seasons are one date range, so one scan each instead of one per season.
    var runs: [ClosedRange<Int>] = []
    for s in seasons {
      if let last = runs.last, last.upperBound + 1 == s {
        runs[runs.count - 1] = last.lowerBound...s
      } else {
        runs.append(s...s)
      }
    }
    // The probe saw which rowids hold each season: the rowid bounds let SQLite skip the pages
    // of other seasons (PCF has no index on game_date), the date bounds still select.
    let sql =
      "SELECT rowid, \(columns.map { "\"\($0.name)\"" }.joined(separator: ", ")) FROM player_composite_factors WHERE rowid BETWEEN ?3 AND ?4 AND game_date BETWEEN ?1 AND ?2 ORDER BY rowid"
    var runEnds: [Int] = []
    do {
      let st = try connection.prepare(sql)
      for run in runs {
        st.reset()
        try st.bind(1, CivilDate(Season.dateRange(run.lowerBound).lowerBound).description)
        try st.bind(2, CivilDate(Season.dateRange(run.upperBound).upperBound).description)
        let bounds = run.compactMap { probe.rowids[$0 - lo] }
        try st.bind(3, bounds.map(\.lowerBound).min() ?? 0)
        try st.bind(4, bounds.map(\.upperBound).max() ?? -1)
        guard out.fill(st.handle) else { return nil }
        runEnds.append(out.count)
      }
    } catch {
      return nil
    }
    guard out.count == capacity else { return nil }
    let result = out.result()
    // The checked path reads season by season; within a run, order the rows by season
    // (stable, so rowid order within each season) when the file does not already.
    let dates = result.columns[1].dates.values
    let seasonOf = dates.map { Season.startYear(of: $0) }
    guard seasonOf.allSatisfy({ wanted.contains($0) }) else { return nil }
    var runStart = 0
    var ordered = true
    for end in runEnds {
      for i in runStart..<max(runStart, end - 1) where seasonOf[i] > seasonOf[i + 1] { ordered = false }
      runStart = end
    }
    if ordered { return result }
    var perm: [Int] = []
    perm.reserveCapacity(result.rowid.count)
    runStart = 0
    for end in runEnds {
      perm += (runStart..<end).sorted { (seasonOf[$0], $0) < (seasonOf[$1], $1) }
      runStart = end
    }
    return result.gather(perm)
  }
}
