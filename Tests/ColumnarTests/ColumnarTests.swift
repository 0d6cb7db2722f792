import Testing
@testable import Columnar
import TestSupport

@Suite struct ValidityBitmapTests {
  @Test(arguments: [0, 1, 7, 8, 9, 63, 64, 65, 127, 128, 129])
  func appendMatchesNaiveBools(count: Int) {
    var rng = SplitMix64(seed: UInt64(count) &+ 17)
    let bits = (0..<count).map { _ in rng.next() & 1 == 1 }
    let bitmap = ValidityBitmap(bits)
    bitmap.checkInvariants()
    #expect(bitmap.count == count)
    #expect((0..<count).map { bitmap[$0] } == bits)
    #expect(bitmap.nullCount == bits.filter { !$0 }.count)
    let packed = bitmap.packedBytes
    #expect(packed.count == (count + 7) / 8)
    let back = packed.withUnsafeBytes { ValidityBitmap(packedBytes: $0, count: count) }
    #expect(back == bitmap)
  }

  /// Word-at-a-time joining against the bit-at-a-time reference, for every pair of lengths
  /// around word boundaries, with random bits and with all-valid and all-NULL runs.
  @Test func appendContentsOfMatchesBitByBit() {
    let lengths = [0, 1, 2, 31, 63, 64, 65, 100, 127, 128, 129, 200]
    var rng = SplitMix64(seed: 2024)
    for a in lengths {
      for b in lengths {
        for pattern in 0..<3 {
          func bits(_ n: Int) -> [Bool] { (0..<n).map { _ in pattern == 0 ? rng.next() & 1 == 1 : pattern == 1 } }
          let first = bits(a), second = bits(b)
          var joined = ValidityBitmap(first)
          joined.append(contentsOf: ValidityBitmap(second))
          joined.checkInvariants()
          #expect(joined == ValidityBitmap(first + second), "lengths \(a) + \(b), pattern \(pattern)")
        }
      }
    }
  }

  @Test func allValidClearsBitsPastTheEnd() {
    for n in [1, 63, 64, 65] {
      let b = ValidityBitmap(count: n, allValid: true)
      b.checkInvariants()
      #expect(b.nullCount == 0)
    }
  }
}

@Suite struct ColumnTests {
  @Test func nullSlotsHoldThePlaceholder() {
    let c = Column<Double>(optionals: [1.5, nil, 3])
    c.checkInvariants()
    #expect(c.values == [1.5, 0, 3])
    #expect(c[1] == nil)
    #expect(c.nullCount == 1)
  }

  @Test func stringsKeepEmptyAndNullApart() {
    let s = StringColumn(["a", "", nil, "héllo"])
    s.checkInvariants()
    #expect(s[0] == "a")
    #expect(s[1] == "")
    #expect(s[2] == nil)
    #expect(s[3] == "héllo")
    #expect(s.offsets == [0, 1, 1, 1, 7])
    #expect(s.gather([3, 2, 0]) == StringColumn(["héllo", nil, "a"]))
  }
}

@Suite struct CivilDateTests {
  @Test func roundTripsEveryDayOfFourCenturies() {
    var expected = CivilDate(year: 1900, month: 1, day: 1)!.date32.daysSinceEpoch
    for year in 1900...2300 {
      for month in 1...12 {
        for day in 1...CivilDate.daysInMonth(year: year, month: month) {
          let c = CivilDate(year: year, month: month, day: day)!
          #expect(c.date32.daysSinceEpoch == expected)
          #expect(CivilDate(c.date32) == c)
          expected += 1
        }
      }
    }
    #expect(CivilDate(year: 1970, month: 1, day: 1)!.date32.daysSinceEpoch == 0)
  }

  @Test(arguments: ["2023-13-45", "23/01/2023", "", "2023-02-29", "2023-1-05", "２０２３-01-05", "2023-01-05 "])
  func rejectsWhatIsNotACalendarDate(text: String) {
    #expect(CivilDate(iso: text) == nil)
  }

  @Test func acceptsLeapDay() {
    #expect(CivilDate(iso: "2024-02-29")?.description == "2024-02-29")
  }
}

@Suite struct TimestampTests {
  @Test func parsesWarehouseForms() {
    let base = Timestamp.parseMicros("2023-01-05T12:34:56Z")
    #expect(base != nil)
    #expect(Timestamp.parseMicros("2023-01-05 12:34:56") == base)
    #expect(Timestamp.parseMicros("2023-01-05T13:34:56+01:00") == base)
    #expect(Timestamp.parseMicros("2023-01-05T12:34:56.5Z") == base! + 500_000)
    #expect(Timestamp.parseMicros("2023-01-05T12:34:56.1234567Z") == base! + 123_456)
    #expect(Timestamp.format(micros: base!) == "2023-01-05T12:34:56Z")
    #expect(Timestamp.format(micros: base! + 5) == "2023-01-05T12:34:56.000005Z")
  }

  @Test(arguments: ["2023-01-05", "2023-01-05T25:00:00Z", "yesterday", "2023-01-05T12:34:56Q", "2023-01-05T12:34:56."])
  func rejectsMalformed(text: String) {
    #expect(Timestamp.parseMicros(text) == nil)
  }
}

typealias SplitMix64 = SeededRandom
