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
  public static func file(atPath path: String) throws(SnapshotError) -> String {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
    defer { Glibc.close(fd) }
    var hasher = SHA256()
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, operation: "read", errno: errno)
      }
      if n == 0 { break }
      buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
    return hexString(hasher.finalize())
  }

  /// `content_sha256`: over each file's path and SHA-256 (in manifest order) and every schema
  /// column's name, type and nullability. Meanings are prose and deliberately left out, so
  /// rewording a column's description does not make a new version.
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
      c.bytes.withUnsafeBytes { src in at.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start..<end]).baseAddress!, byteCount: n) }
    }
    count += 9 + n
  }
}

/// A source table as the fingerprint sees it: a business key of (date, text) and the
/// canonical encoding of each row.
protocol CanonicalRows {
  var rowCount: Int { get }
  var keyDate: Column<Date32> { get }
  var keyText: StringColumn { get }
  func encode(_ i: Int, into out: inout CanonicalBuffer)
}

/// The `source` block of a manifest.
public enum SourceFingerprinter {
  /// Fingerprints the database file and the rows a build read from it.
  public static func fingerprint(_ source: SourceData) throws(SnapshotError) -> Manifest.SourceFingerprint {
    let name = source.path.split(separator: "/").last.map(String.init) ?? source.path
    var tables: [String: Manifest.TableFingerprint] = [
      "player_game_summary": pgs(source.pgs),
      "player_composite_factors": pcf(source.pcf),
    ]
    if let schedule = source.schedule { tables["schedule"] = Self.schedule(schedule) }
    return Manifest.SourceFingerprint(file: name, sha256: try Digest.file(atPath: source.path), tables: tables)
  }

  /// A row's place in the sort: the business key's first 12 bytes as two big-endian words
  /// (biased date, then the text's first 4 bytes; the text's next 8), zero-padded. Unequal
  /// words order rows exactly as their full key bytes do (a padding zero only differs from a
  /// real byte above zero, where the shorter key is a prefix and sorts first); equal words
  /// fall back to the full key, then to the encoded rows.
  struct SortEntry {
    var high: UInt64
    var low: UInt64
    var row: Int32
  }

  /// Hashes the row count, then every row's canonical encoding in business-key order, ties
  /// ordered by the encoded bytes (docs/SNAPSHOTS.md "Source content fingerprint"). Rows are
  /// never materialised one by one: an index permutation is sorted by keys compared in
  /// place, and the rows are encoded in that order into one buffer hashed in 256 KiB chunks.
  static func digest<Rows: CanonicalRows>(_ rows: Rows) -> String {
    let n = rows.rowCount
    precondition(n <= Int(Int32.max), "a table of \(n) rows is past the fingerprint's row index range")
    let dates = rows.keyDate, text = rows.keyText
    var entries: [SortEntry] = []
    entries.reserveCapacity(n)
    text.bytes.withUnsafeBufferPointer { bytes in
      for i in 0..<n {
        let day = dates.validity[i] ? dates.values[i].daysSinceEpoch : Int32.min
        var high = UInt64(UInt32(bitPattern: day) ^ 0x8000_0000) << 32
        var low: UInt64 = 0
        let start = Int(text.offsets[i]), end = Int(text.offsets[i + 1])
        let prefix = min(end - start, 12)
        for k in 0..<prefix {
          let b = UInt64(bytes[start + k])
          if k < 4 { high |= b << UInt64(8 * (3 - k)) } else { low |= b << UInt64(8 * (11 - k)) }
        }
        entries.append(SortEntry(high: high, low: low, row: Int32(i)))
      }
    }

    // The comparator captures nothing, so the sort stays a tight loop over 24-byte entries;
    // the rare runs whose 12-byte prefixes tie are ordered afterwards by the full comparison.
    entries.sort { a, b in a.high != b.high ? a.high < b.high : a.low < b.low }
    var runStart = 0
    while runStart < n {
      var runEnd = runStart + 1
      while runEnd < n, entries[runEnd].high == entries[runStart].high, entries[runEnd].low == entries[runStart].low {
        runEnd += 1
      }
      if runEnd - runStart > 1 { orderTies(&entries[runStart..<runEnd], rows) }
      runStart = runEnd
    }

    let chunk = 256 << 10
    var hasher = SHA256()
    var out = CanonicalBuffer(capacity: chunk + 4096)
    defer { out.deallocate() }
    out.reserve(8)
    out.base.storeBytes(of: UInt64(n).littleEndian, toByteOffset: 0, as: UInt64.self)
    out.count = 8
    for e in entries {
      rows.encode(Int(e.row), into: &out)
      if out.count >= chunk {
        hasher.update(bufferPointer: out.bytes)
        out.count = 0
      }
    }
    hasher.update(bufferPointer: out.bytes)
    return Digest.hexString(hasher.finalize())
  }

  /// Orders rows whose prefix words are equal: by the full key bytes, then rows whose whole
  /// keys are equal (duplicates of one key, a handful) by their encoded bytes, each row
  /// encoded once.
  static func orderTies<Rows: CanonicalRows>(_ run: inout ArraySlice<SortEntry>, _ rows: Rows) {
    let text = rows.keyText
    run.sort { a, b in text.compareBytes(Int(a.row), Int(b.row)) < 0 }
    var buffer = CanonicalBuffer(capacity: 1024)
    defer { buffer.deallocate() }
    var start = run.startIndex
    while start < run.endIndex {
      var end = start + 1
      while end < run.endIndex, text.compareBytes(Int(run[start].row), Int(run[end].row)) == 0 { end += 1 }
      if end - start > 1 {
        var encoded: [Int32: [UInt8]] = [:]
        for e in run[start..<end] {
          buffer.count = 0
          rows.encode(Int(e.row), into: &buffer)
          encoded[e.row] = Array(buffer.bytes)
        }
        run[start..<end].sort { a, b in
          encoded[a.row, default: []].lexicographicallyPrecedes(encoded[b.row, default: []])
        }
      }
      start = end
    }
  }

  static func newest(_ c: Column<Int64>) -> String? {
    var best: Int64?
    for i in 0..<c.count { if let v = c[i], v > (best ?? Int64.min) { best = v } }
    return best.map { Timestamp.format(micros: $0) }
  }

  struct PGSRows: CanonicalRows {
    let t: PlayerGameSummary
    /// The integer stats are spelled out below (a loop over `integerStatColumns` retained
    /// and released every column of every row); this is the order they must keep.
    static let statOrder = [
      "points", "fg_makes", "fg_attempts", "three_pt_makes", "three_pt_attempts", "ft_makes", "ft_attempts",
      "offensive_rebounds", "defensive_rebounds", "assists", "steals", "blocks", "turnovers", "personal_fouls",
      "plus_minus",
    ]
    init(_ t: PlayerGameSummary) {
      precondition(
        t.integerStatColumns.map(\.name) == Self.statOrder,
        "PlayerGameSummary.integerStatColumns changed: update PGSRows.encode and statOrder")
      self.t = t
    }
    var rowCount: Int { t.count }
    var keyDate: Column<Date32> { t.gameDate }
    var keyText: StringColumn { t.playerLookup }
    func encode(_ i: Int, into e: inout CanonicalBuffer) {
      e.string(t.playerLookup, i)
      e.string(t.playerFullName, i)
      e.string(t.universalPlayerId, i)
      e.string(t.gameId, i)
      e.date(t.gameDate, i)
      e.int(t.seasonYear, i)
      e.string(t.teamAbbr, i)
      e.string(t.opponentTeamAbbr, i)
      e.bool(t.isHome, i)
      e.double(t.minutesPlayed, i)
      e.int(t.points, i)
      e.int(t.fgMakes, i)
      e.int(t.fgAttempts, i)
      e.int(t.threePtMakes, i)
      e.int(t.threePtAttempts, i)
      e.int(t.ftMakes, i)
      e.int(t.ftAttempts, i)
      e.int(t.offensiveRebounds, i)
      e.int(t.defensiveRebounds, i)
      e.int(t.assists, i)
      e.int(t.steals, i)
      e.int(t.blocks, i)
      e.int(t.turnovers, i)
      e.int(t.personalFouls, i)
      e.int(t.plusMinus, i)
      e.double(t.usageRate, i)
      e.bool(t.isDnp, i)
      e.int(t.processedAt, i)
    }
  }

  struct PCFRows: CanonicalRows {
    let t: PlayerCompositeFactors
    var rowCount: Int { t.count }
    var keyDate: Column<Date32> { t.gameDate }
    var keyText: StringColumn { t.playerLookup }
    func encode(_ i: Int, into e: inout CanonicalBuffer) {
      e.string(t.playerLookup, i)
      e.date(t.gameDate, i)
      e.string(t.gameId, i)
      e.int(t.fatigueScore, i)
      e.double(t.shotZoneMismatchScore, i)
      e.double(t.paceScore, i)
      e.double(t.usageSpikeScore, i)
      e.double(t.totalCompositeAdjustment, i)
      e.string(t.calculationVersion, i)
      e.int(t.processedAt, i)
    }
  }

  /// Schedule key: (game_date, game_id).
  struct ScheduleRows: CanonicalRows {
    let t: Schedule
    var rowCount: Int { t.count }
    var keyDate: Column<Date32> { t.gameDate }
    var keyText: StringColumn { t.gameId }
    func encode(_ i: Int, into e: inout CanonicalBuffer) {
      e.string(t.gameId, i)
      e.date(t.gameDate, i)
      e.int(t.seasonYear, i)
      e.string(t.homeTeamAbbr, i)
      e.string(t.awayTeamAbbr, i)
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
