import Columnar
import Crypto
import SQLiteSource

#if canImport(Glibc)
  import Glibc
#endif

/// SHA-256 helpers: every digest in a manifest is lower-case hex of SHA-256.
public enum Digest {
  public static func hex(_ bytes: some Sequence<UInt8>) -> String {
    var hasher = SHA256()
    hasher.update(data: Array(bytes))
    return hexString(hasher.finalize())
  }

  static func hexString(_ digest: SHA256.Digest) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    var s = ""
    s.reserveCapacity(64)
    for b in digest {
      s.append(digits[Int(b >> 4)])
      s.append(digits[Int(b & 0x0F)])
    }
    return s
  }

  /// SHA-256 of a file, streamed in 1 MiB reads so a large database is never held in memory.
  ///
  /// `holdOpenUntil` returns when the descriptor may be closed. Closing any descriptor of a
  /// file releases every POSIX lock the process holds on it, SQLite's included: hashing a
  /// database beside a read transaction on it, the descriptor must stay open until SQLite is
  /// done with the file, or a writer could commit in the middle of that read.
  /// `stop`, once set, ends the hash at the next 1 MiB with `ECANCELED`: a build that stops
  /// early must not wait for the rest of a large file.
  public static func file(atPath path: String, holdOpenUntil: (() -> Void)? = nil, stop: StopFlag? = nil)
    throws(SnapshotError) -> String
  {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    defer {
      holdOpenUntil?()
      Glibc.close(fd)
    }
    var hasher = SHA256()
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, operation: "read", errno: errno)
      }
      if n == 0 { break }
      if let stop, stop.isSet { throw .io(path: path, operation: "hash (the build stopped)", errno: ECANCELED) }
      buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
    return hexString(hasher.finalize())
  }

  /// `content_sha256`: over each file's path and SHA-256 (in manifest order) and every schema
  /// column's name, type and nullability. The schema's meanings are left out here, but each
  /// data file carries them in its Arrow field metadata, so the files' digests (and with them
  /// this hash) do change when a column is reworded.
  public static func content(files: [Manifest.FileEntry], schema: [Manifest.SchemaColumn]) -> String {
    var text = "files\n"
    for f in files { text += "\(f.path)\t\(f.sha256)\n" }
    text += "schema\n"
    for c in schema { text += "\(c.name)\t\(c.type)\t\(c.nullable ? "nullable" : "required")\n" }
    return hex(Array(text.utf8))
  }
}

/// Canonical row encoding for source fingerprints: every value is tagged (0 = NULL,
/// 1 = present) and written little-endian at a fixed width (integers and dates as 8 bytes,
/// doubles as their IEEE bit pattern, booleans as one byte, strings as an 8-byte length then
/// UTF-8 bytes). `rowid` is excluded: a re-export may renumber rows without changing them.
///
/// One buffer receives many rows: the fingerprint streams every row into it and hands it to
/// SHA-256 in large chunks, so no row ever gets an allocation of its own. The buffer is a
/// struct over memory it allocated; its owner calls `deallocate()` (a struct, not a class, so
/// the hot stores carry no dynamic exclusivity checks).
struct CanonicalBuffer {
  private(set) var base: UnsafeMutableRawPointer
  private(set) var capacity: Int
  var count = 0

  init(capacity: Int) {
    self.capacity = max(capacity, 64)
    base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
  }

  func deallocate() { base.deallocate() }

  var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  @inline(__always) mutating func reserve(_ n: Int) {
    if capacity - count < n { grow(n) }
  }

  private mutating func grow(_ n: Int) {
    let newCapacity = max(capacity * 2, count + n)
    let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
    bigger.copyMemory(from: base, byteCount: count)
    base.deallocate()
    base = bigger
    capacity = newCapacity
  }

  // Each writer reserves what it stores before storing it, so every store below lands inside
  // `base[0..<capacity]`; `storeBytes` allows the unaligned offsets the format has.
  @inline(__always) mutating func null() {
    reserve(1)
    base.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
    count += 1
  }

  @inline(__always) mutating func int(_ v: Int64) {
    reserve(9)
    base.storeBytes(of: 1, toByteOffset: count, as: UInt8.self)
    base.storeBytes(of: v.littleEndian, toByteOffset: count + 1, as: Int64.self)
    count += 9
  }

  @inline(__always) mutating func double(_ v: Double) {
    reserve(9)
    base.storeBytes(of: 1, toByteOffset: count, as: UInt8.self)
    base.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: count + 1, as: UInt64.self)
    count += 9
  }

  @inline(__always) mutating func bool(_ v: Bool) {
    reserve(2)
    base.storeBytes(of: 1, toByteOffset: count, as: UInt8.self)
    base.storeBytes(of: v ? 1 : 0, toByteOffset: count + 1, as: UInt8.self)
    count += 2
  }

  @inline(__always) mutating func int<T: ColumnElement & FixedWidthInteger>(_ c: Column<T>, _ i: Int) {
    if c.validity[i] { int(Int64(c.values[i])) } else { null() }
  }

  @inline(__always) mutating func date(_ c: Column<Date32>, _ i: Int) {
    if c.validity[i] { int(Int64(c.values[i].daysSinceEpoch)) } else { null() }
  }

  @inline(__always) mutating func double(_ c: Column<Double>, _ i: Int) {
    if c.validity[i] { double(c.values[i]) } else { null() }
  }

  @inline(__always) mutating func bool(_ c: Column<Bool>, _ i: Int) {
    if c.validity[i] { bool(c.values[i]) } else { null() }
  }

  @inline(__always) mutating func string(_ c: StringColumn, _ i: Int) {
    guard c.validity[i] else { return null() }
    let start = Int(c.offsets[i]), end = Int(c.offsets[i + 1])
    let n = end - start
    reserve(9 + n)
    base.storeBytes(of: 1, toByteOffset: count, as: UInt8.self)
    base.storeBytes(of: UInt64(n).littleEndian, toByteOffset: count + 1, as: UInt64.self)
    if n > 0 {
      let at = base + count + 9
      // The slice is bounds-checked against the column's bytes before the copy.
      c.bytes.withUnsafeBytes { src in
        at.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start..<end]).baseAddress!, byteCount: n)
      }
    }
    count += 9 + n
  }
}

/// A source table as the fingerprint sees it: a business key of (date, text) and the columns
/// of its canonical rows, in encoding order.
protocol CanonicalRows {
  var rowCount: Int { get }
  var keyDate: Column<Date32> { get }
  var keyText: StringColumn { get }
  var columns: [CanonicalColumn] { get }
}

/// The `source` block of a manifest.
public enum SourceFingerprinter {
  /// Fingerprints the database file and the rows a build read from it. `fileSHA256` is the
  /// file's digest when the caller computed it already (a build hashes the file while it reads
  /// it); nil hashes the file here.
  public static func fingerprint(_ source: SourceData, fileSHA256: String? = nil) throws(SnapshotError)
    -> Manifest.SourceFingerprint
  {
    try fingerprint(source) { () throws(SnapshotError) in
      if let fileSHA256 { return fileSHA256 }
      return try Digest.file(atPath: source.path)
    }
  }

  /// The same, with the file's digest asked for only once the tables are fingerprinted: a
  /// build hashes the file on another thread while it reads it, and this thread fingerprints
  /// the rows meanwhile instead of waiting for that hash first.
  public static func fingerprint(_ source: SourceData, fileSHA256: () throws(SnapshotError) -> String)
    throws(SnapshotError) -> Manifest.SourceFingerprint
  {
    let name = source.path.split(separator: "/").last.map(String.init) ?? source.path
    var tables: [String: Manifest.TableFingerprint] = [
      "player_game_summary": pgs(source.pgs),
      "player_composite_factors": pcf(source.pcf),
    ]
    if let schedule = source.schedule { tables["schedule"] = Self.schedule(schedule) }
    return Manifest.SourceFingerprint(file: name, sha256: try fileSHA256(), tables: tables)
  }

  /// Hashes the row count, then every row's canonical encoding in business-key order, ties
  /// ordered by the encoded bytes (docs/SNAPSHOTS.md "Source content fingerprint"). Rows are
  /// never materialised one by one: `canonicalOrder` gives the permutation, and the rows are
  /// encoded in that order a block at a time, column by column, into one buffer hashed per
  /// block.
  static func digest<Rows: CanonicalRows>(_ rows: Rows) -> String {
    let n = rows.rowCount
    let encoder = CanonicalBlockEncoder(columns: rows.columns, rowCount: n)
    let order = canonicalOrder(rows)
    var hasher = SHA256()
    var out = CanonicalBuffer(capacity: 32 << 10)
    defer { out.deallocate() }
    out.base.storeBytes(of: UInt64(n).littleEndian, toByteOffset: 0, as: UInt64.self)
    out.count = 8
    let block = encoder.rowsPerBlock
    let cursors = UnsafeMutablePointer<Int>.allocate(capacity: block)
    defer { cursors.deallocate() }
    withExtendedLifetime(encoder.columns) {
      order.withUnsafeBufferPointer { all in
        var start = 0
        while start < n {
          let m = min(n - start, block)
          encoder.encode(all.baseAddress! + start, m, cursors: cursors, into: &out)
          hasher.update(bufferPointer: out.bytes)
          out.count = 0
          start += m
        }
      }
    }
    if out.count > 0 { hasher.update(bufferPointer: out.bytes) }
    return Digest.hexString(hasher.finalize())
  }

  /// The rows' indices in canonical order: by business key (date, then the text's bytes),
  /// rows with equal keys by their encoded bytes.
  ///
  /// The text is interned (`KeyTextRanks`): each distinct text gets its rank among the
  /// distinct texts in byte order, so a key is one integer, (date − earliest date) then rank,
  /// packed with the row index into a UInt64 and put in order by an LSD radix sort over the
  /// key's bits alone. A table already in key order (`inKeyOrder`) is neither interned nor
  /// sorted.
  ///
  /// `packedBits` is the word the key and row index must fit in to be radix-sorted; tests
  /// lower it to run the comparison-sort path on small tables.
  static func canonicalOrder<Rows: CanonicalRows>(_ rows: Rows, packedBits: Int = 64) -> [Int32] {
    let n = rows.rowCount
    precondition(n <= Int(Int32.max), "a table of \(n) rows is past the fingerprint's row index range")
    let dates = rows.keyDate, text = rows.keyText
    precondition(
      dates.count == n && text.count == n, "key columns of \(dates.count) and \(text.count) rows in a table of \(n)")
    guard n > 0 else { return [] }
    if let presorted = inKeyOrder(dates, text, columns: rows.columns) { return presorted }
    let ranks = KeyTextRanks(text)
    // Dates biased so NULL (Int32.min) comes first and unsigned order is the dates' order.
    var day = [UInt32](repeating: 0, count: n)
    var earliest = UInt32.max, latest = UInt32.min
    dates.values.withUnsafeBufferPointer { values in
      dates.validity.words.withUnsafeBufferPointer { valid in
        for i in 0..<n {
          let d =
            UInt32(bitPattern: CanonicalBlockEncoder.isValid(valid, i) ? values[i].daysSinceEpoch : Int32.min)
            ^ 0x8000_0000
          day[i] = d
          earliest = min(earliest, d)
          latest = max(latest, d)
        }
      }
    }
    let rankBits = UInt64.bitWidth - UInt64(ranks.distinct - 1).leadingZeroBitCount
    let dayBits = UInt64.bitWidth - UInt64(latest - earliest).leadingZeroBitCount
    let rowBits = UInt64.bitWidth - UInt64(n - 1).leadingZeroBitCount
    let keyBits = dayBits + rankBits

    var order: [Int32]
    if keyBits + rowBits <= packedBits {
      var packed = [UInt64](repeating: 0, count: n)
      packed.withUnsafeMutableBufferPointer { p in
        ranks.rank.withUnsafeBufferPointer { rank in
          for i in 0..<n {
            let key = UInt64(day[i] - earliest) << UInt64(rankBits) | UInt64(rank[i])
            p[i] = key << UInt64(rowBits) | UInt64(i)
          }
        }
      }
      radixSort(&packed, lowBit: rowBits, bits: keyBits)
      let rowMask = rowBits == 0 ? 0 : UInt64.max >> UInt64(64 - rowBits)
      order = packed.map { Int32(truncatingIfNeeded: $0 & rowMask) }
    } else {
      // Keys too wide to share a word with the row index (billions of rows or distinct
      // texts): the same order by a comparison sort.
      var keyed = (0..<n).map { i in
        (key: UInt64(day[i] - earliest) << UInt64(rankBits) | UInt64(ranks.rank[i]), row: Int32(i))
      }
      keyed.sort { $0.key != $1.key ? $0.key < $1.key : $0.row < $1.row }
      order = keyed.map(\.row)
    }

    // Rows with equal keys (same date, same text) are ordered by their encoded bytes.
    var start = 0
    while start < n {
      var end = start + 1
      let key = (day[Int(order[start])], ranks.rank[Int(order[start])])
      while end < n, day[Int(order[end])] == key.0, ranks.rank[Int(order[end])] == key.1 { end += 1 }
      if end - start > 1 { orderDuplicates(&order[start..<end], rows.columns) }
      start = end
    }
    return order
  }

  /// The identity order, duplicates of a key put in encoded-byte order, when the rows
  /// already come in key order (an exporter that writes them sorted, as the synthetic PCF
  /// table is): one pass comparing each row's key with the previous row's, no interning and
  /// no sort. nil as soon as a row is out of order.
  static func inKeyOrder(_ dates: Column<Date32>, _ text: StringColumn, columns: [CanonicalColumn]) -> [Int32]? {
    let n = dates.count
    CanonicalBlockEncoder.checkOffsets(text, name: "key text column")
    var duplicateRuns: [Range<Int>] = []
    let sorted = dates.values.withUnsafeBufferPointer { values in
      dates.validity.words.withUnsafeBufferPointer { valid in
        text.offsets.withUnsafeBufferPointer { off in
          text.bytes.withUnsafeBytes { raw -> Bool in
            let bytes = raw.baseAddress ?? CanonicalBlockEncoder.dummy
            func day(_ i: Int) -> UInt32 {
              UInt32(bitPattern: CanonicalBlockEncoder.isValid(valid, i) ? values[i].daysSinceEpoch : Int32.min)
                ^ 0x8000_0000
            }
            var previousDay = day(0)
            var runStart = 0
            for i in 1..<max(n, 1) {
              let d = day(i)
              var order = d < previousDay ? -1 : d > previousDay ? 1 : 0
              if order == 0 {
                let a = Int(off[i - 1]), aCount = Int(off[i]) - a
                let b = Int(off[i]), bCount = Int(off[i + 1]) - b
                let common = min(aCount, bCount)
                let c = common == 0 ? 0 : Int(memcmp(bytes + b, bytes + a, common))
                order = c != 0 ? c : bCount - aCount
              }
              if order < 0 { return false }
              if order > 0 {
                if i - runStart > 1 { duplicateRuns.append(runStart..<i) }
                runStart = i
              }
              previousDay = d
            }
            if n - runStart > 1 { duplicateRuns.append(runStart..<n) }
            return true
          }
        }
      }
    }
    guard sorted else { return nil }
    var order = (0..<Int32(n)).map { $0 }
    for run in duplicateRuns { orderDuplicates(&order[run], columns) }
    return order
  }

  /// LSD radix sort of `values` by their bits `lowBit..<lowBit+bits` (lowBit + bits ≤ 64), in
  /// digits of at most 12 bits; stable, so equal keys keep their row order. A digit every
  /// value shares is skipped.
  static func radixSort(_ values: inout [UInt64], lowBit: Int, bits: Int) {
    guard bits > 0, values.count > 1 else { return }
    let passes = (bits + 11) / 12
    let digitBits = (bits + passes - 1) / passes
    let buckets = 1 << digitBits
    var other = [UInt64](repeating: 0, count: values.count)
    var counts = [Int](repeating: 0, count: buckets)
    for pass in 0..<passes {
      let shift = UInt64(lowBit + pass * digitBits)
      // The last digit may be narrower: bits above the key are not part of the order.
      let mask = UInt64((1 << min(digitBits, bits - pass * digitBits)) - 1)
      var skip = false
      values.withUnsafeBufferPointer { src in
        counts.withUnsafeMutableBufferPointer { c in
          for b in 0..<buckets { c[b] = 0 }
          for v in src { c[Int((v &>> shift) & mask)] += 1 }
          var total = 0
          for b in 0..<buckets {
            if c[b] == src.count { skip = true }
            let k = c[b]
            c[b] = total
            total += k
          }
        }
      }
      if skip { continue }
      values.withUnsafeBufferPointer { src in
        other.withUnsafeMutableBufferPointer { dst in
          counts.withUnsafeMutableBufferPointer { c in
            for v in src {
              let b = Int((v &>> shift) & mask)
              dst[c[b]] = v
              c[b] += 1
            }
          }
        }
      }
      swap(&values, &other)
    }
  }

  /// Orders rows whose whole keys are equal (duplicates of one key, a handful) by their
  /// encoded bytes, each row encoded once.
  static func orderDuplicates(_ run: inout ArraySlice<Int32>, _ columns: [CanonicalColumn]) {
    var buffer = CanonicalBuffer(capacity: 1024)
    defer { buffer.deallocate() }
    var encoded: [Int32: [UInt8]] = [:]
    for row in run {
      buffer.count = 0
      for c in columns { c.encode(Int(row), into: &buffer) }
      encoded[row] = Array(buffer.bytes)
    }
    run.sort { a, b in encoded[a, default: []].lexicographicallyPrecedes(encoded[b, default: []]) }
  }

  static func newest(_ c: Column<Int64>) -> String? {
    var best: Int64?
    for i in 0..<c.count { if let v = c[i], v > (best ?? Int64.min) { best = v } }
    return best.map { Timestamp.format(micros: $0) }
  }

  struct PGSRows: CanonicalRows {
    let t: PlayerGameSummary
    /// The integer stats are spelled out in `columns`, in this order (checked against
    /// `integerStatColumns` so a new stat column cannot be left out silently).
    static let statOrder = [
      "points", "fg_makes", "fg_attempts", "three_pt_makes", "three_pt_attempts", "ft_makes", "ft_attempts",
      "offensive_rebounds", "defensive_rebounds", "assists", "steals", "blocks", "turnovers", "personal_fouls",
      "plus_minus",
    ]
    init(_ t: PlayerGameSummary) {
      precondition(
        t.integerStatColumns.map(\.name) == Self.statOrder,
        "PlayerGameSummary.integerStatColumns changed: update PGSRows.columns and statOrder")
      self.t = t
    }
    var rowCount: Int { t.count }
    var keyDate: Column<Date32> { t.gameDate }
    var keyText: StringColumn { t.playerLookup }
    var columns: [CanonicalColumn] {
      [
        .string(t.playerLookup), .string(t.playerFullName), .string(t.universalPlayerId), .string(t.gameId),
        .date(t.gameDate), .int32(t.seasonYear), .string(t.teamAbbr), .string(t.opponentTeamAbbr), .bool(t.isHome),
        .double(t.minutesPlayed), .int32(t.points), .int32(t.fgMakes), .int32(t.fgAttempts), .int32(t.threePtMakes),
        .int32(t.threePtAttempts), .int32(t.ftMakes), .int32(t.ftAttempts), .int32(t.offensiveRebounds),
        .int32(t.defensiveRebounds), .int32(t.assists), .int32(t.steals), .int32(t.blocks), .int32(t.turnovers),
        .int32(t.personalFouls), .int32(t.plusMinus), .double(t.usageRate), .bool(t.isDnp), .int64(t.processedAt),
      ]
    }
  }

  struct PCFRows: CanonicalRows {
    let t: PlayerCompositeFactors
    var rowCount: Int { t.count }
    var keyDate: Column<Date32> { t.gameDate }
    var keyText: StringColumn { t.playerLookup }
    var columns: [CanonicalColumn] {
      [
        .string(t.playerLookup), .date(t.gameDate), .string(t.gameId), .int32(t.fatigueScore),
        .double(t.shotZoneMismatchScore), .double(t.paceScore), .double(t.usageSpikeScore),
        .double(t.totalCompositeAdjustment), .string(t.calculationVersion), .int64(t.processedAt),
      ]
    }
  }

  /// Schedule key: (game_date, game_id).
  struct ScheduleRows: CanonicalRows {
    let t: Schedule
    var rowCount: Int { t.count }
    var keyDate: Column<Date32> { t.gameDate }
    var keyText: StringColumn { t.gameId }
    var columns: [CanonicalColumn] {
      [.string(t.gameId), .date(t.gameDate), .int32(t.seasonYear), .string(t.homeTeamAbbr), .string(t.awayTeamAbbr)]
    }
  }

  static func pgs(_ t: PlayerGameSummary) -> Manifest.TableFingerprint {
    .init(rowCount: t.count, contentSHA256: digest(PGSRows(t)), newestProcessedAt: newest(t.processedAt))
  }

  static func pcf(_ t: PlayerCompositeFactors) -> Manifest.TableFingerprint {
    .init(rowCount: t.count, contentSHA256: digest(PCFRows(t: t)), newestProcessedAt: newest(t.processedAt))
  }

  static func schedule(_ t: Schedule) -> Manifest.TableFingerprint {
    .init(rowCount: t.count, contentSHA256: digest(ScheduleRows(t: t)), newestProcessedAt: nil)
  }
}

/// One column of a table's canonical rows, in the order the row encoding lists them.
enum CanonicalColumn {
  case string(StringColumn)
  case int32(Column<Int32>)
  case int64(Column<Int64>)
  case date(Column<Date32>)
  case double(Column<Double>)
  case bool(Column<Bool>)

  var count: Int {
    switch self {
    case .string(let c): c.count
    case .int32(let c): c.count
    case .int64(let c): c.count
    case .date(let c): c.count
    case .double(let c): c.count
    case .bool(let c): c.count
    }
  }

  var nullCount: Int {
    switch self {
    case .string(let c): c.nullCount
    case .int32(let c): c.nullCount
    case .int64(let c): c.nullCount
    case .date(let c): c.nullCount
    case .double(let c): c.nullCount
    case .bool(let c): c.nullCount
    }
  }

  /// Bytes a present value takes: tag and fixed-width value, or tag and length for a string
  /// (its bytes come on top).
  var validityWords: [UInt64] {
    switch self {
    case .string(let c): c.validity.words
    case .int32(let c): c.validity.words
    case .int64(let c): c.validity.words
    case .date(let c): c.validity.words
    case .double(let c): c.validity.words
    case .bool(let c): c.validity.words
    }
  }

  var presentWidth: Int {
    if case .bool = self { return 2 }
    return 9
  }

  /// One row's encoding, appended: the tie-break path, which encodes a handful of rows.
  func encode(_ i: Int, into out: inout CanonicalBuffer) {
    switch self {
    case .string(let c): out.string(c, i)
    case .int32(let c): out.int(c, i)
    case .int64(let c): out.int(c, i)
    case .date(let c): out.date(c, i)
    case .double(let c): out.double(c, i)
    case .bool(let c): out.bool(c, i)
    }
  }
}

/// Encodes rows into one buffer column by column, a block of rows at a time: first every
/// row's length (a fixed width for the whole row, adjusted only by the columns whose width
/// varies: strings and columns with NULLs), then each row's start by a running sum, then each
/// column's values stored at their rows' cursors. Each loop handles one column type over raw
/// memory, so there is no per-field dispatch, bounds check or capacity check; the bytes are
/// the ones `CanonicalColumn.encode` appends row by row.
///
/// A block is a few dozen rows, about 16 KiB encoded, so that the 28 passes of a PGS block
/// over its rows all stay in the L1 cache (with 1024-row blocks each pass went out to L2 and
/// the stores stalled), and the block is hashed while it is still there.
struct CanonicalBlockEncoder {
  enum Kind { case string, int32, int64, date, double, bool }

  /// One column's storage as raw pointers, taken once per table instead of once per block.
  struct Raw {
    var kind: Kind
    var values: UnsafeRawPointer
    var validity: UnsafePointer<UInt64>
    var offsets: UnsafePointer<Int32>
    var bytes: UnsafeRawPointer
    var byteCount: Int
    var hasNulls: Bool
    var presentWidth: Int
    /// The fewest bytes the fields after this one take in any row: a string shorter than 16
    /// bytes is copied as 16 when the rest of its row is long enough to be overwritten.
    var minTail: Int
  }

  /// Owns the arrays `raw` points into: the pointers stay valid while these values hold the
  /// arrays' storage, which nothing mutates during a fingerprint.
  let columns: [CanonicalColumn]
  let raw: [Raw]
  /// A row's length when no value is NULL and every string is empty.
  let fullWidth: Int
  /// Columns whose fields vary in width from row to row.
  let variable: [Int]
  let rowsPerBlock: Int

  init(columns: [CanonicalColumn], rowCount: Int) {
    // The loops read values at these strides (a Date32 is its Int32, a Bool one byte 0/1).
    precondition(MemoryLayout<Date32>.stride == 4 && MemoryLayout<Bool>.stride == 1, "unexpected element layout")
    for (k, c) in columns.enumerated() {
      precondition(c.count == rowCount, "canonical column \(k) has \(c.count) rows, the table \(rowCount)")
      if case .string(let s) = c { Self.checkOffsets(s, name: "canonical column \(k)") }
    }
    self.columns = columns
    var raw: [Raw] = []
    for c in columns {
      let hasNulls = c.nullCount > 0
      var r = Raw(
        kind: .int32, values: Self.dummy, validity: Self.words(c.validityWords),
        offsets: Self.dummy.assumingMemoryBound(to: Int32.self),
        bytes: Self.dummy, byteCount: 0, hasNulls: hasNulls, presentWidth: c.presentWidth, minTail: 0)
      switch c {
      case .string(let s):
        r.kind = .string
        r.offsets = Self.address(s.offsets).assumingMemoryBound(to: Int32.self)
        r.bytes = Self.address(s.bytes)
        r.byteCount = s.bytes.count
      case .int32(let v): (r.kind, r.values) = (.int32, Self.address(v.values))
      case .int64(let v): (r.kind, r.values) = (.int64, Self.address(v.values))
      case .date(let v): (r.kind, r.values) = (.date, Self.address(v.values))
      case .double(let v): (r.kind, r.values) = (.double, Self.address(v.values))
      case .bool(let v): (r.kind, r.values) = (.bool, Self.address(v.values))
      }
      raw.append(r)
    }
    var tail = 0
    for k in raw.indices.reversed() {
      raw[k].minTail = tail
      tail += raw[k].hasNulls ? 1 : raw[k].presentWidth
    }
    self.raw = raw
    fullWidth = raw.reduce(0) { $0 + $1.presentWidth }
    variable = raw.indices.filter { raw[$0].kind == .string || raw[$0].hasNulls }
    rowsPerBlock = max(8, (16 << 10) / (fullWidth + 32))
  }

  /// Stands in for the address of an empty array: never read, as no row refers to it.
  nonisolated(unsafe) static let dummy = UnsafeRawPointer(
    UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16))

  static func address<T>(_ a: [T]) -> UnsafeRawPointer { a.withUnsafeBytes { $0.baseAddress ?? dummy } }
  static func words(_ a: [UInt64]) -> UnsafePointer<UInt64> { address(a).assumingMemoryBound(to: UInt64.self) }

  /// The block loops copy string bytes through raw pointers, so a column whose offsets do
  /// not describe its own bytes is refused before any copy.
  static func checkOffsets(_ s: StringColumn, name: String) {
    precondition(s.offsets.count == s.count + 1, "\(name): \(s.offsets.count) offsets for \(s.count) rows")
    s.offsets.withUnsafeBufferPointer { off in
      var previous = off[0]
      precondition(previous >= 0, "\(name): first offset \(previous) is negative")
      for i in 1..<off.count {
        precondition(off[i] >= previous, "\(name): offset \(i) (\(off[i])) is before offset \(i - 1) (\(previous))")
        previous = off[i]
      }
      precondition(
        Int(previous) <= s.bytes.count, "\(name): last offset \(previous) is past its \(s.bytes.count) bytes")
    }
  }

  @inline(__always) static func isValid(_ words: UnsafeBufferPointer<UInt64>, _ r: Int) -> Bool {
    (words[r &>> 6] &>> UInt64(r & 63)) & 1 != 0
  }

  @inline(__always) static func isValid(_ words: UnsafePointer<UInt64>, _ r: Int) -> Bool {
    (words[r &>> 6] &>> UInt64(r & 63)) & 1 != 0
  }

  /// Appends the rows `order[0..<m]` (indices into the columns, m ≤ `rowsPerBlock`) to `out`,
  /// in that order. `cursors` holds at least m entries.
  func encode(
    _ order: UnsafePointer<Int32>, _ m: Int, cursors: UnsafeMutablePointer<Int>, into out: inout CanonicalBuffer
  ) {
    for j in 0..<m { cursors[j] = fullWidth }
    for k in variable {
      let c = raw[k]
      if c.kind == .string {
        for j in 0..<m {
          let r = Int(order[j])
          cursors[j] &+= Self.isValid(c.validity, r) ? Int(c.offsets[r &+ 1] &- c.offsets[r]) : -8
        }
      } else {
        let shrink = c.presentWidth - 1
        for j in 0..<m where !Self.isValid(c.validity, Int(order[j])) { cursors[j] &-= shrink }
      }
    }
    var end = out.count
    for j in 0..<m {
      let length = cursors[j]
      cursors[j] = end
      end &+= length
    }
    // 16 bytes past the end: room for the last row's short-string copy (see `strings`).
    out.reserve(end - out.count + 16)
    let base = out.base
    for c in raw {
      switch c.kind {
      case .string: Self.strings(c, order, m, cursors, base)
      case .int32:
        Self.fixed(c, order, m, cursors, base) {
          UInt64(bitPattern: Int64($0.load(fromByteOffset: $1 &* 4, as: Int32.self)))
        }
      case .int64: Self.fixed(c, order, m, cursors, base) { $0.load(fromByteOffset: $1 &* 8, as: UInt64.self) }
      case .date:
        Self.fixed(c, order, m, cursors, base) {
          UInt64(bitPattern: Int64($0.load(fromByteOffset: $1 &* 4, as: Int32.self)))
        }
      case .double: Self.fixed(c, order, m, cursors, base) { $0.load(fromByteOffset: $1 &* 8, as: UInt64.self) }
      case .bool:
        for j in 0..<m {
          let r = Int(order[j]), at = cursors[j]
          if !c.hasNulls || Self.isValid(c.validity, r) {
            base.storeBytes(of: 1, toByteOffset: at, as: UInt8.self)
            base.storeBytes(
              of: c.values.load(fromByteOffset: r, as: UInt8.self) != 0 ? 1 : 0, toByteOffset: at &+ 1, as: UInt8.self)
            cursors[j] = at &+ 2
          } else {
            base.storeBytes(of: 0, toByteOffset: at, as: UInt8.self)
            cursors[j] = at &+ 1
          }
        }
      }
    }
    out.count = end
  }

  /// An 8-byte value column: tag 1 and the value's 64 bits little-endian, or tag 0.
  @inline(__always) static func fixed(
    _ c: Raw, _ order: UnsafePointer<Int32>, _ m: Int, _ cursors: UnsafeMutablePointer<Int>,
    _ base: UnsafeMutableRawPointer, _ bits: (UnsafeRawPointer, Int) -> UInt64
  ) {
    if !c.hasNulls {
      for j in 0..<m {
        let r = Int(order[j]), at = cursors[j]
        base.storeBytes(of: 1, toByteOffset: at, as: UInt8.self)
        base.storeBytes(of: bits(c.values, r).littleEndian, toByteOffset: at &+ 1, as: UInt64.self)
        cursors[j] = at &+ 9
      }
      return
    }
    for j in 0..<m {
      let r = Int(order[j]), at = cursors[j]
      if isValid(c.validity, r) {
        base.storeBytes(of: 1, toByteOffset: at, as: UInt8.self)
        base.storeBytes(of: bits(c.values, r).littleEndian, toByteOffset: at &+ 1, as: UInt64.self)
        cursors[j] = at &+ 9
      } else {
        base.storeBytes(of: 0, toByteOffset: at, as: UInt8.self)
        cursors[j] = at &+ 1
      }
    }
  }

  /// A string column: tag 1, the byte length as 8 bytes little-endian, the bytes; or tag 0.
  /// Strings of up to 16 bytes are copied as two 8-byte words when the column has 16 bytes
  /// from the string's start and the rest of the row is at least 16 − n bytes long: the
  /// extra bytes land on this row's later fields, which are written after this one (or on
  /// the 16 bytes reserved past the block), never on another row.
  static func strings(
    _ c: Raw, _ order: UnsafePointer<Int32>, _ m: Int, _ cursors: UnsafeMutablePointer<Int>,
    _ base: UnsafeMutableRawPointer
  ) {
    let lastWideStart = c.byteCount &- 16
    for j in 0..<m {
      let r = Int(order[j]), at = cursors[j]
      if !c.hasNulls || isValid(c.validity, r) {
        let start = Int(c.offsets[r]), n = Int(c.offsets[r &+ 1]) &- start
        base.storeBytes(of: 1, toByteOffset: at, as: UInt8.self)
        base.storeBytes(of: UInt64(n).littleEndian, toByteOffset: at &+ 1, as: UInt64.self)
        if n <= 16, start <= lastWideStart, n &+ c.minTail >= 16 {
          base.storeBytes(
            of: c.bytes.loadUnaligned(fromByteOffset: start, as: UInt64.self), toByteOffset: at &+ 9, as: UInt64.self)
          base.storeBytes(
            of: c.bytes.loadUnaligned(fromByteOffset: start &+ 8, as: UInt64.self), toByteOffset: at &+ 17,
            as: UInt64.self)
        } else if n > 0 {
          (base + (at &+ 9)).copyMemory(from: c.bytes + start, byteCount: n)
        }
        cursors[j] = at &+ 9 &+ n
      } else {
        base.storeBytes(of: 0, toByteOffset: at, as: UInt8.self)
        cursors[j] = at &+ 1
      }
    }
  }
}

/// The rank of each row's text among the column's distinct texts in byte order (NULL counts
/// as the empty text, as in the key bytes the spec sorts by). Each row's bytes are hashed
/// once and looked up in an open-addressing table of the distinct texts, whose bytes are
/// copied into one small pool: the rows' own bytes are scattered over megabytes, the pool of
/// a few thousand names stays in cache. The distinct texts are then sorted.
struct KeyTextRanks {
  /// Per row.
  var rank: [UInt32]
  var distinct: Int

  init(_ text: StringColumn) {
    let n = text.count
    CanonicalBlockEncoder.checkOffsets(text, name: "key text column")
    var id = [UInt32](repeating: 0, count: n)
    var set = ByteStringSet()
    text.offsets.withUnsafeBufferPointer { off in
      text.bytes.withUnsafeBytes { raw in
        let bytes = raw.baseAddress ?? CanonicalBlockEncoder.dummy
        for i in 0..<n {
          let start = Int(off[i])
          id[i] = UInt32(set.insert(bytes + start, Int(off[i + 1]) - start))
        }
      }
    }
    var byBytes = Array(0..<set.count)
    byBytes.sort { set.compare($0, $1) < 0 }
    var rankOfID = [UInt32](repeating: 0, count: set.count)
    for (r, k) in byBytes.enumerated() { rankOfID[k] = UInt32(r) }
    for i in 0..<n { id[i] = rankOfID[Int(id[i])] }
    rank = id
    distinct = set.count
  }
}

/// Distinct byte strings, each with an id in order of first insertion: an open-addressing
/// table of (hash, id) over one pool holding every distinct string's bytes. Used to rank key
/// texts and to count distinct values of utf8 columns without a `String` per row.
struct ByteStringSet: Sendable {
  private var slots: [Int32] = Array(repeating: -1, count: 1024)
  private var hashes: [UInt64] = []
  private var starts: [Int] = [0]
  private var pool: [UInt8] = []

  var count: Int { hashes.count }

  /// The id of the string `count` bytes at `p`, inserting it if it is new.
  mutating func insert(_ p: UnsafeRawPointer, _ count: Int) -> Int {
    let h = ByteHash.hash(p, count)
    var mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: h) & mask
    let found: Int? = slots.withUnsafeBufferPointer { slots in
      hashes.withUnsafeBufferPointer { hashes in
        starts.withUnsafeBufferPointer { starts in
          pool.withUnsafeBytes { pool in
            while slots[slot] >= 0 {
              let k = Int(slots[slot])
              if hashes[k] == h, starts[k + 1] - starts[k] == count,
                count == 0 || memcmp(pool.baseAddress! + starts[k], p, count) == 0
              {
                return k
              }
              slot = (slot + 1) & mask
            }
            return nil
          }
        }
      }
    }
    if let found { return found }
    let k = hashes.count
    slots[slot] = Int32(k)
    hashes.append(h)
    pool.append(contentsOf: UnsafeRawBufferPointer(start: p, count: count))
    starts.append(pool.count)
    if hashes.count * 2 > slots.count {
      // Keep the load under one half: rehash into twice the slots.
      slots = Array(repeating: -1, count: slots.count * 2)
      mask = slots.count - 1
      for (j, hj) in hashes.enumerated() {
        var s = Int(truncatingIfNeeded: hj) & mask
        while slots[s] >= 0 { s = (s + 1) & mask }
        slots[s] = Int32(j)
      }
    }
    return k
  }

  /// The bytes of string `k`.
  func withBytes<R>(_ k: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    pool.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[starts[k]..<starts[k + 1]])) }
  }

  /// Byte-wise order of strings `a` and `b`: negative, zero or positive.
  func compare(_ a: Int, _ b: Int) -> Int {
    withBytes(a) { x in
      withBytes(b) { y in
        let common = min(x.count, y.count)
        let c = common == 0 ? 0 : Int(memcmp(x.baseAddress!, y.baseAddress!, common))
        return c != 0 ? c : x.count - y.count
      }
    }
  }

  /// Adds every string of `other`.
  mutating func formUnion(_ other: ByteStringSet) {
    for k in 0..<other.count {
      other.withBytes(k) { _ = insert($0.baseAddress ?? CanonicalBlockEncoder.dummy, $0.count) }
    }
  }
}

/// A fast, deterministic hash of a byte string for in-memory tables (never stored): eight
/// bytes per step, multiplied and folded, with the length mixed in.
enum ByteHash {
  @inline(__always) static func hash(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: count)
    var k = 0
    while k + 8 <= count {
      h = (h ^ p.loadUnaligned(fromByteOffset: k, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
      h ^= h &>> 31
      k += 8
    }
    if k < count {
      var tail: UInt64 = 0
      for j in k..<count { tail |= UInt64(p.load(fromByteOffset: j, as: UInt8.self)) << UInt64(8 * (j - k)) }
      h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
    }
    h ^= h &>> 29
    h = h &* 0xBF58_476D_1CE4_E5B9
    return h ^ (h &>> 32)
  }
}
