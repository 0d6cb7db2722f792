import Columnar
import SQLiteSource
import Testing

@testable import Snapshots

/// The fingerprint's fast paths against their plain equivalents: tables already in key order
/// (the sort is skipped), the comparison sort used when a key does not fit beside the row
/// index, the radix sort itself, the interning set, and string fields that are copied as two
/// words (short strings) or by `memcpy` (long ones, or a string as a row's last field).
@Suite struct FingerprintPathsTests {
  typealias Gen = FingerprintEquivalenceTests.Gen

  static func gather(_ t: PlayerCompositeFactors, _ order: [Int32]) -> PlayerCompositeFactors {
    let rows = order.map(Int.init)
    var out = PlayerCompositeFactors()
    out.rowid = rows.map { t.rowid[$0] }
    out.playerLookup = t.playerLookup.gather(rows)
    out.gameDate = t.gameDate.gather(rows)
    out.gameId = t.gameId.gather(rows)
    out.fatigueScore = t.fatigueScore.gather(rows)
    out.shotZoneMismatchScore = t.shotZoneMismatchScore.gather(rows)
    out.paceScore = t.paceScore.gather(rows)
    out.usageSpikeScore = t.usageSpikeScore.gather(rows)
    out.totalCompositeAdjustment = t.totalCompositeAdjustment.gather(rows)
    out.calculationVersion = t.calculationVersion.gather(rows)
    out.processedAt = t.processedAt.gather(rows)
    return out
  }

  /// Rows handed over in canonical order, duplicates of a key included, take the no-sort
  /// path and still give the reference digest; so does the same table reversed.
  @Test(arguments: [1, 2, 65, 400])
  func tableAlreadyInKeyOrderMatches(rows: Int) {
    for seed: UInt64 in [5, 6] {
      let t = FingerprintEquivalenceTests.pcf(rows: rows, seed: seed &+ UInt64(rows))
      let order = SourceFingerprinter.canonicalOrder(SourceFingerprinter.PCFRows(t: t))
      let sorted = Self.gather(t, order)
      let identity = (0..<Int32(rows)).map { $0 }
      #expect(SourceFingerprinter.canonicalOrder(SourceFingerprinter.PCFRows(t: sorted)) == identity)
      let want = NaiveFingerprint.pcf(t)
      #expect(SourceFingerprinter.pcf(sorted).contentSHA256 == want, "seed \(seed)")
      #expect(SourceFingerprinter.pcf(Self.gather(t, order.reversed())).contentSHA256 == want, "seed \(seed)")
    }
  }

  /// The comparison sort (keys too wide to share a word with the row index) gives the
  /// radix sort's order.
  @Test(arguments: [0, 1, 9, 64, 1000])
  func comparisonSortPathGivesTheRadixOrder(rows: Int) {
    for seed: UInt64 in [11, 12, 13] {
      let pgs = SourceFingerprinter.PGSRows(FingerprintEquivalenceTests.pgs(rows: rows, seed: seed &+ UInt64(rows)))
      #expect(SourceFingerprinter.canonicalOrder(pgs, packedBits: 0) == SourceFingerprinter.canonicalOrder(pgs))
      let schedule = SourceFingerprinter.ScheduleRows(t: FingerprintEquivalenceTests.schedule(rows: rows, seed: seed))
      #expect(
        SourceFingerprinter.canonicalOrder(schedule, packedBits: 0) == SourceFingerprinter.canonicalOrder(schedule))
    }
  }

  @Test func radixSortMatchesSortingTheKeyBits() {
    var g = Gen(seed: 77)
    for _ in 0..<60 {
      let n = g.int(3000)
      let lowBit = g.int(20), bits = 1 + g.int(44)
      // Few distinct digits in some arrays, so whole passes are skipped.
      let spread = UInt64(1) << UInt64([1, 8, 30, 63][g.int(4)])
      var values = (0..<n).map { _ in g.rng.next() % spread &+ UInt64(g.int(3)) << UInt64(lowBit) }
      let mask =
        (lowBit + bits == 64 ? UInt64.max : (UInt64(1) << UInt64(lowBit + bits)) - 1)
        & ~((UInt64(1) << UInt64(lowBit)) - 1)
      // Stable: equal keys keep their order, which the index in the low bits records.
      let want = values.enumerated().sorted { a, b in
        (a.element & mask, a.offset) < (b.element & mask, b.offset)
      }.map(\.element)
      SourceFingerprinter.radixSort(&values, lowBit: lowBit, bits: bits)
      let equal = values == want
      #expect(equal, "n \(n) lowBit \(lowBit) bits \(bits): \(values.count) values differ from the reference sort")
    }
  }

  /// Ids in order of first insertion, equal bytes equal ids, across several rehashes.
  @Test func byteStringSetMatchesADictionary() {
    var g = Gen(seed: 3)
    var set = ByteStringSet()
    var reference: [[UInt8]: Int] = [:]
    for _ in 0..<20_000 {
      let length = [0, 1, 7, 8, 9, 15, 16, 17, 40][g.int(9)]
      var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: g.int(3) + 97) }
      if length > 0, g.chance(4) { bytes[0] = 0xC3 }
      let id = bytes.withUnsafeBytes { set.insert($0.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, $0.count) }
      let want = reference[bytes] ?? reference.count
      reference[bytes] = want
      #expect(id == want)
    }
    #expect(set.count == reference.count)
    #expect(reference.count > 2048, "enough distinct strings to rehash several times")
    var copy = ByteStringSet()
    copy.formUnion(set)
    #expect(copy.count == set.count)
    let byBytes = (0..<set.count).sorted { set.compare($0, $1) < 0 }
    let names = reference.sorted { $0.value < $1.value }.map(\.key)
    #expect(byBytes.map { names[$0] } == names.sorted { $0.lexicographicallyPrecedes($1) })
  }

  /// Strings of every length around the two-word copy (0…40 bytes), in the key, in the
  /// middle of a row and as its last field, where the copy must not run into the next row.
  @Test(arguments: [1, 3, 64, 300])
  func stringsOfEveryLengthMatch(rows: Int) {
    var g = Gen(seed: UInt64(rows))
    func text() -> String? { g.chance(7) ? nil : String(repeating: g.chance(3) ? "é" : "x", count: g.int(41)) }
    var schedule = Schedule()
    var pcf = PlayerCompositeFactors()
    for i in 0..<rows {
      schedule.gameId.append(text())
      schedule.gameDate.append(Date32(daysSinceEpoch: Int32(g.int(3))))
      schedule.seasonYear.append(g.chance(5) ? nil : 2024)
      schedule.homeTeamAbbr.append(text())
      schedule.awayTeamAbbr.append(text())
      pcf.rowid.append(Int64(i))
      pcf.playerLookup.append(text())
      pcf.gameDate.append(Date32(daysSinceEpoch: Int32(g.int(2))))
      pcf.gameId.append(text())
      pcf.fatigueScore.append(g.chance(3) ? nil : Int32(g.int(100)))
      pcf.shotZoneMismatchScore.append(g.chance(3) ? nil : -0.0)
      pcf.paceScore.append(.leastNonzeroMagnitude)
      pcf.usageSpikeScore.append(g.chance(2) ? nil : 1.5)
      pcf.totalCompositeAdjustment.append(0)
      pcf.calculationVersion.append(text())
      pcf.processedAt.append(g.chance(2) ? nil : Int64(i))
    }
    #expect(SourceFingerprinter.schedule(schedule).contentSHA256 == NaiveFingerprint.schedule(schedule))
    #expect(SourceFingerprinter.pcf(pcf).contentSHA256 == NaiveFingerprint.pcf(pcf))
  }
}
