import Columnar
import SQLiteSource
import Testing

@testable import Snapshots

/// The streaming fingerprint (index permutation, keys compared in place, one hashed buffer)
/// against `NaiveFingerprint`, the first implementation kept as the reference: same
/// `content_sha256` on seeded random tables at boundary sizes, with NULL in every column
/// (keys included), duplicate keys with different rows, fully duplicated rows, non-ASCII text,
/// and keys that share the 12-byte prefix the fast sort compares first.
@Suite struct FingerprintEquivalenceTests {
  /// Keys chosen to stress the prefix words: equal prefixes, a prefix followed by a zero
  /// byte, keys shorter and longer than 12 bytes, multi-byte UTF-8 and the empty string.
  static let keys: [String] = [
    "", "a", "ab", "ab\u{0}", "ab\u{0}c", "abcd", "abcd\u{0}", "lebronjames", "lebronjamesx",
    "lebronjamesxy", "lebronjamesxz", "lebronjamesx\u{0}", "giannisantetokounmpo", "giannisantetokounmpa",
    "nikolajokić", "lukadončić", "Ωmega", "日本語の選手名前", "\u{7F}\u{80}", "zz",
  ]
  static let texts: [String] = ["", "x", "Ünïcødé", "LAL", "BOS", "boxscore_v1", "0022300001", "a\u{0}b"]

  struct Gen {
    var rng: SplitMix
    init(seed: UInt64) { rng = SplitMix(seed: seed) }
    mutating func int(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ oneIn: Int) -> Bool { int(oneIn) == 0 }
    mutating func key() -> String? {
      chance(15) ? nil : FingerprintEquivalenceTests.keys[int(FingerprintEquivalenceTests.keys.count)]
    }
    mutating func text() -> String? {
      chance(6) ? nil : FingerprintEquivalenceTests.texts[int(FingerprintEquivalenceTests.texts.count)]
    }
    /// Few distinct dates (and the extremes) so keys collide often.
    mutating func date() -> Date32? {
      if chance(12) { return nil }
      let days: [Int32] = [Int32.min, -1, 0, 1, 19_300, 19_301, Int32.max]
      return Date32(daysSinceEpoch: days[int(days.count)])
    }
    mutating func i32() -> Int32? { chance(5) ? nil : [Int32.min, -1, 0, 1, 7, Int32.max][int(6)] }
    mutating func i64() -> Int64? { chance(5) ? nil : [Int64.min, -1, 0, 1_700_000_000_000_000, Int64.max][int(5)] }
    mutating func f64() -> Double? {
      chance(5) ? nil : [0.0, -0.0, 1.5, -2.25, .nan, .infinity, -.infinity, .leastNonzeroMagnitude][int(8)]
    }
    mutating func bool() -> Bool? { chance(4) ? nil : chance(2) }
  }

  /// Appends row `from` again (a full duplicate) or a row that keeps `from`'s key and changes
  /// one value, so ties by key must be broken by the encoded row.
  static func pgs(rows: Int, seed: UInt64) -> PlayerGameSummary {
    var g = Gen(seed: seed)
    var t = PlayerGameSummary()
    var keys: [(String?, Date32?)] = []
    for i in 0..<rows {
      var key = (g.key(), g.date())
      if i > 0, g.chance(3) { key = keys[g.int(keys.count)] }
      keys.append(key)
      t.rowid.append(Int64(i))
      t.playerLookup.append(key.0)
      t.gameDate.append(key.1)
      t.playerFullName.append(g.text())
      t.universalPlayerId.append(g.text())
      t.gameId.append(g.text())
      t.seasonYear.append(g.i32())
      t.teamAbbr.append(g.text())
      t.opponentTeamAbbr.append(g.text())
      t.isHome.append(g.bool())
      t.minutesPlayed.append(g.f64())
      for path in [
        \PlayerGameSummary.points, \.fgMakes, \.fgAttempts, \.threePtMakes, \.threePtAttempts, \.ftMakes,
        \.ftAttempts, \.offensiveRebounds, \.defensiveRebounds, \.assists, \.steals, \.blocks, \.turnovers,
        \.personalFouls, \.plusMinus,
      ] {
        t[keyPath: path].append(g.chance(2) ? 0 : g.i32())
      }
      t.usageRate.append(g.f64())
      t.isDnp.append(g.bool())
      t.processedAt.append(g.i64())
    }
    return t
  }

  static func pcf(rows: Int, seed: UInt64) -> PlayerCompositeFactors {
    var g = Gen(seed: seed)
    var t = PlayerCompositeFactors()
    for i in 0..<rows {
      // Many rows repeat the previous key with other values.
      if i > 0, g.chance(2) {
        t.playerLookup.append(t.playerLookup[i - 1])
        t.gameDate.append(t.gameDate[i - 1])
      } else {
        t.playerLookup.append(g.key())
        t.gameDate.append(g.date())
      }
      t.rowid.append(Int64(1000 - i))
      t.gameId.append(g.text())
      t.fatigueScore.append(g.i32())
      t.shotZoneMismatchScore.append(g.f64())
      t.paceScore.append(g.f64())
      t.usageSpikeScore.append(g.f64())
      t.totalCompositeAdjustment.append(g.f64())
      t.calculationVersion.append(g.text())
      t.processedAt.append(g.chance(3) ? 5 : g.i64())
    }
    return t
  }

  static func schedule(rows: Int, seed: UInt64) -> Schedule {
    var g = Gen(seed: seed)
    var t = Schedule()
    for _ in 0..<rows {
      t.gameId.append(g.key())
      t.gameDate.append(g.date())
      t.seasonYear.append(g.i32())
      t.homeTeamAbbr.append(g.text())
      t.awayTeamAbbr.append(g.text())
    }
    return t
  }

  static let sizes = [0, 1, 2, 7, 8, 9, 63, 64, 65, 257, 1000]

  @Test(arguments: sizes)
  func playerGameSummaryMatchesTheNaiveReference(rows: Int) {
    for seed: UInt64 in [1, 2, 3] {
      let t = Self.pgs(rows: rows, seed: seed &* 7919 &+ UInt64(rows))
      #expect(SourceFingerprinter.pgs(t).contentSHA256 == NaiveFingerprint.pgs(t), "seed \(seed)")
    }
  }

  @Test(arguments: sizes)
  func compositeFactorsMatchTheNaiveReference(rows: Int) {
    for seed: UInt64 in [1, 2, 3] {
      let t = Self.pcf(rows: rows, seed: seed &* 104_729 &+ UInt64(rows))
      #expect(SourceFingerprinter.pcf(t).contentSHA256 == NaiveFingerprint.pcf(t), "seed \(seed)")
    }
  }

  @Test(arguments: sizes)
  func scheduleMatchesTheNaiveReference(rows: Int) {
    for seed: UInt64 in [1, 2, 3] {
      let t = Self.schedule(rows: rows, seed: seed &* 31 &+ UInt64(rows))
      #expect(SourceFingerprinter.schedule(t).contentSHA256 == NaiveFingerprint.schedule(t), "seed \(seed)")
    }
  }

  /// An empty table hashes the 8-byte zero count alone: SHA-256 of eight zero bytes.
  @Test func emptyTableHashesTheZeroCount() {
    let expected = "af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc"
    #expect(Digest.hex([UInt8](repeating: 0, count: 8)) == expected)
    #expect(SourceFingerprinter.pgs(PlayerGameSummary()).contentSHA256 == expected)
    #expect(SourceFingerprinter.pcf(PlayerCompositeFactors()).contentSHA256 == expected)
    #expect(SourceFingerprinter.schedule(Schedule()).contentSHA256 == expected)
  }

  /// Rows whose encodings run past the 256 KiB hashing chunk and the buffer's first capacity:
  /// long strings make single rows larger than the initial tie-break buffers, too.
  @Test func rowsLongerThanTheBuffersMatch() {
    var t = Self.pcf(rows: 300, seed: 99)
    var long = StringColumn()
    for i in 0..<t.count { long.append(i % 3 == 0 ? String(repeating: "é", count: 1500 + i) : t.calculationVersion[i]) }
    t.calculationVersion = long
    #expect(SourceFingerprinter.pcf(t).contentSHA256 == NaiveFingerprint.pcf(t))
  }
}
