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
struct CanonicalRowEncoder {
  var bytes: [UInt8] = []

  mutating func int(_ v: Int64?) {
    guard let v else { bytes.append(0); return }
    bytes.append(1)
    withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
  }
  mutating func double(_ v: Double?) {
    guard let v else { bytes.append(0); return }
    bytes.append(1)
    withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
  }
  mutating func bool(_ v: Bool?) {
    guard let v else { bytes.append(0); return }
    bytes.append(1)
    bytes.append(v ? 1 : 0)
  }
  mutating func string(_ c: StringColumn, _ i: Int) {
    guard c.validity[i] else { bytes.append(0); return }
    bytes.append(1)
    c.withBytes(at: i) { b in
      withUnsafeBytes(of: UInt64(b.count).littleEndian) { bytes.append(contentsOf: $0) }
      bytes.append(contentsOf: b)
    }
  }
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

  /// Hashes rows in business-key order: (key bytes, then the whole encoded row to order
  /// duplicates of a key deterministically).
  static func digest(rowCount: Int, key: (Int) -> [UInt8], row: (Int) -> [UInt8]) -> String {
    var rows: [(key: [UInt8], row: [UInt8])] = []
    rows.reserveCapacity(rowCount)
    for i in 0..<rowCount { rows.append((key(i), row(i))) }
    rows.sort { a, b in
      if a.key != b.key { return a.key.lexicographicallyPrecedes(b.key) }
      return a.row.lexicographicallyPrecedes(b.row)
    }
    var hasher = SHA256()
    withUnsafeBytes(of: UInt64(rowCount).littleEndian) { hasher.update(bufferPointer: $0) }
    for r in rows { hasher.update(data: r.row) }
    return Digest.hexString(hasher.finalize())
  }

  /// Business key (game_date, player_lookup) as bytes that sort like the key: the date biased
  /// to unsigned big-endian, then the lookup's UTF-8 bytes.
  static func keyBytes(date: Date32?, lookup: StringColumn, _ i: Int) -> [UInt8] {
    var k: [UInt8] = []
    let d = UInt32(bitPattern: (date?.daysSinceEpoch ?? Int32.min)) ^ 0x8000_0000
    withUnsafeBytes(of: d.bigEndian) { k.append(contentsOf: $0) }
    lookup.withBytes(at: i) { k.append(contentsOf: $0) }
    return k
  }

  static func newest(_ c: Column<Int64>) -> String? {
    var best: Int64?
    for i in 0..<c.count { if let v = c[i], v > (best ?? Int64.min) { best = v } }
    return best.map { Timestamp.format(micros: $0) }
  }

  static func pgs(_ t: PlayerGameSummary) -> Manifest.TableFingerprint {
    let sha = digest(rowCount: t.count, key: { keyBytes(date: t.gameDate[$0], lookup: t.playerLookup, $0) }) { i in
      var e = CanonicalRowEncoder()
      e.string(t.playerLookup, i)
      e.string(t.playerFullName, i)
      e.string(t.universalPlayerId, i)
      e.string(t.gameId, i)
      e.int(t.gameDate[i].map { Int64($0.daysSinceEpoch) })
      e.int(t.seasonYear[i].map(Int64.init))
      e.string(t.teamAbbr, i)
      e.string(t.opponentTeamAbbr, i)
      e.bool(t.isHome[i])
      e.double(t.minutesPlayed[i])
      for (_, c) in t.integerStatColumns { e.int(c[i].map(Int64.init)) }
      e.double(t.usageRate[i])
      e.bool(t.isDnp[i])
      e.int(t.processedAt[i])
      return e.bytes
    }
    return .init(rowCount: t.count, contentSHA256: sha, newestProcessedAt: newest(t.processedAt))
  }

  static func pcf(_ t: PlayerCompositeFactors) -> Manifest.TableFingerprint {
    let sha = digest(rowCount: t.count, key: { keyBytes(date: t.gameDate[$0], lookup: t.playerLookup, $0) }) { i in
      var e = CanonicalRowEncoder()
      e.string(t.playerLookup, i)
      e.int(t.gameDate[i].map { Int64($0.daysSinceEpoch) })
      e.string(t.gameId, i)
      e.int(t.fatigueScore[i].map(Int64.init))
      e.double(t.shotZoneMismatchScore[i])
      e.double(t.paceScore[i])
      e.double(t.usageSpikeScore[i])
      e.double(t.totalCompositeAdjustment[i])
      e.string(t.calculationVersion, i)
      e.int(t.processedAt[i])
      return e.bytes
    }
    return .init(rowCount: t.count, contentSHA256: sha, newestProcessedAt: newest(t.processedAt))
  }

  /// Schedule key: (game_date, game_id).
  static func schedule(_ t: Schedule) -> Manifest.TableFingerprint {
    let sha = digest(rowCount: t.count, key: { keyBytes(date: t.gameDate[$0], lookup: t.gameId, $0) }) { i in
      var e = CanonicalRowEncoder()
      e.string(t.gameId, i)
      e.int(t.gameDate[i].map { Int64($0.daysSinceEpoch) })
      e.int(t.seasonYear[i].map(Int64.init))
      e.string(t.homeTeamAbbr, i)
      e.string(t.awayTeamAbbr, i)
      return e.bytes
    }
    return .init(rowCount: t.count, contentSHA256: sha, newestProcessedAt: nil)
  }
}
