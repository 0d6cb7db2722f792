/// A proleptic Gregorian calendar date, convertible to and from `Date32` without Foundation.
///
/// The day-count conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`
/// ("chrono-Compatible Low-Level Date Algorithms"), exact for every year this tool meets.
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
  public var year: Int
  public var month: Int
  public var day: Int

  /// Validates the date; nil for 2023-13-45, 2023-02-29 and the like.
  public init?(year: Int, month: Int, day: Int) {
    guard (1...12).contains(month), day >= 1, day <= CivilDate.daysInMonth(year: year, month: month) else {
      return nil
    }
    self.year = year
    self.month = month
    self.day = day
  }

  public init(_ date: Date32) {
    let z = Int(date.daysSinceEpoch) + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    day = doy - (153 * mp + 2) / 5 + 1
    month = mp < 10 ? mp + 3 : mp - 9
    year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  }

  /// Parses exactly `YYYY-MM-DD` (ASCII digits, real calendar date); nil otherwise.
  public init?(iso text: some StringProtocol) {
    let u = Array(text.utf8)
    guard let parsed = CivilDate.parse(isoBytes: u[...]) else { return nil }
    self = parsed
  }

  /// Parses exactly `YYYY-MM-DD` from raw bytes (an array slice, a buffer pointer, …).
  public static func parse<Bytes: RandomAccessCollection>(isoBytes u: Bytes) -> CivilDate?
  where Bytes.Element == UInt8, Bytes.Index == Int {
    parseISO(u)
  }

  /// The same parse for the bytes SQLite and the CSV reader hand out. A concrete overload so
  /// callers in other modules get a body specialised here: the generic one is not inlinable,
  /// and unspecialised it allocated on every call of the source reader's hot loop.
  public static func parse(isoBytes u: UnsafeBufferPointer<UInt8>) -> CivilDate? {
    parseISO(u)
  }

  private static func parseISO<Bytes: RandomAccessCollection>(_ u: Bytes) -> CivilDate?
  where Bytes.Element == UInt8, Bytes.Index == Int {
    guard u.count == 10 else { return nil }
    let b = u.startIndex
    guard u[b + 4] == UInt8(ascii: "-"), u[b + 7] == UInt8(ascii: "-") else { return nil }
    func digits(_ r: Range<Int>) -> Int? {
      var v = 0
      for i in r {
        let c = u[b + i]
        guard c >= 48 && c <= 57 else { return nil }
        v = v * 10 + Int(c - 48)
      }
      return v
    }
    guard let y = digits(0..<4), let m = digits(5..<7), let d = digits(8..<10) else { return nil }
    return CivilDate(year: y, month: m, day: d)
  }

  public var date32: Date32 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = month > 2 ? month - 3 : month + 9
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return Date32(daysSinceEpoch: Int32(era * 146_097 + doe - 719_468))
  }

  public static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

  public static func daysInMonth(year: Int, month: Int) -> Int {
    switch month {
    case 2: isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  public static func < (a: CivilDate, b: CivilDate) -> Bool { a.date32 < b.date32 }

  public var description: String {
    func pad(_ v: Int, _ w: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, w - s.count)) + s
    }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
  }
}

extension Date32 {
  public init?(iso text: some StringProtocol) {
    guard let c = CivilDate(iso: text) else { return nil }
    self = c.date32
  }

  public func adding(days: Int) -> Date32 { Date32(daysSinceEpoch: daysSinceEpoch + Int32(days)) }
  public func days(since other: Date32) -> Int { Int(daysSinceEpoch) - Int(other.daysSinceEpoch) }
}
