import Columnar
import SQLiteSource

@testable import Snapshots

/// The first `SourceFingerprinter`, kept word for word as the naive reference the fast one is
/// compared with (docs/SNAPSHOTS.md "Source content fingerprint"): every row encoded into its
/// own array, a key array beside it, both sorted, then hashed (here in one piece, which
/// SHA-256 makes the same as feeding the rows one at a time).
enum NaiveFingerprint {
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

  static func digest(rowCount: Int, key: (Int) -> [UInt8], row: (Int) -> [UInt8]) -> String {
    var rows: [(key: [UInt8], row: [UInt8])] = []
    rows.reserveCapacity(rowCount)
    for i in 0..<rowCount { rows.append((key(i), row(i))) }
    rows.sort { a, b in
      if a.key != b.key { return a.key.lexicographicallyPrecedes(b.key) }
      return a.row.lexicographicallyPrecedes(b.row)
    }
    // One SHA-256 over the count and the rows is the same as feeding them one by one.
    var all: [UInt8] = []
    withUnsafeBytes(of: UInt64(rowCount).littleEndian) { all.append(contentsOf: $0) }
    for r in rows { all.append(contentsOf: r.row) }
    return Digest.hex(all)
  }

  static func keyBytes(date: Date32?, lookup: StringColumn, _ i: Int) -> [UInt8] {
    var k: [UInt8] = []
    let d = UInt32(bitPattern: (date?.daysSinceEpoch ?? Int32.min)) ^ 0x8000_0000
    withUnsafeBytes(of: d.bigEndian) { k.append(contentsOf: $0) }
    lookup.withBytes(at: i) { k.append(contentsOf: $0) }
    return k
  }

  static func pgs(_ t: PlayerGameSummary) -> String {
    digest(rowCount: t.count, key: { keyBytes(date: t.gameDate[$0], lookup: t.playerLookup, $0) }) { i in
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
  }

  static func pcf(_ t: PlayerCompositeFactors) -> String {
    digest(rowCount: t.count, key: { keyBytes(date: t.gameDate[$0], lookup: t.playerLookup, $0) }) { i in
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
  }

  static func schedule(_ t: Schedule) -> String {
    digest(rowCount: t.count, key: { keyBytes(date: t.gameDate[$0], lookup: t.gameId, $0) }) { i in
      var e = CanonicalRowEncoder()
      e.string(t.gameId, i)
      e.int(t.gameDate[i].map { Int64($0.daysSinceEpoch) })
      e.int(t.seasonYear[i].map(Int64.init))
      e.string(t.homeTeamAbbr, i)
      e.string(t.awayTeamAbbr, i)
      return e.bytes
    }
  }
}
