// Date options of gates.md § Dates: `YYYY-MM-DD`, `today`, `yesterday`, `tomorrow`, `today-N`
// (any letter case), resolved in America/New_York, the calendar NBA game dates use.
import Clocks
import Columnar
import SQLiteSource

/// Where "now" comes from, injectable so tests can stand at 23:30 Eastern or across a DST change.
public struct WallClock: Sendable {
  /// Microseconds since 1970-01-01T00:00:00Z.
  public let nowMicros: @Sendable () -> Int64

  public init(nowMicros: @escaping @Sendable () -> Int64) { self.nowMicros = nowMicros }

  public static let system = WallClock { Clocks.realtimeMicros() }

  /// A clock stopped at an ISO 8601 instant (tests); traps on a malformed literal, which is a
  /// programmer mistake, not input.
  public static func fixed(_ iso: String) -> WallClock {
    guard let micros = Timestamp.parseMicros(iso) else { preconditionFailure("bad test instant \(iso)") }
    return WallClock { micros }
  }
}

/// US Eastern time by the rule of US law since 2007 (Energy Policy Act of 2005): EST is UTC−5;
/// EDT, UTC−4, runs from the second Sunday of March 02:00 EST to the first Sunday of November
/// 02:00 EDT. Implemented here rather than through Foundation's TimeZone so the answer does not
/// depend on a tzdata package being installed on the machine that runs the scheduler.
public enum EasternTime {
  public static let identifier = "America/New_York"

  /// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
  static func weekday(_ date: Date32) -> Int {
    let d = Int(date.daysSinceEpoch) + 4
    return ((d % 7) + 7) % 7
  }

  /// The n-th Sunday (1-based) of a month.
  static func nthSunday(_ n: Int, year: Int, month: Int) -> Date32 {
    let first = CivilDate(year: year, month: month, day: 1)!.date32
    let toSunday = (7 - weekday(first)) % 7
    return first.adding(days: toSunday + 7 * (n - 1))
  }

  /// UTC seconds at which daylight time starts and ends in `year`.
  static func daylightBounds(year: Int) -> (start: Int64, end: Int64) {
    let start = Int64(nthSunday(2, year: year, month: 3).daysSinceEpoch) * 86400 + 7 * 3600  // 02:00 EST
    let end = Int64(nthSunday(1, year: year, month: 11).daysSinceEpoch) * 86400 + 6 * 3600  // 02:00 EDT
    return (start, end)
  }

  /// Offset from UTC in seconds at a UTC instant: −18000 (EST) or −14400 (EDT).
  public static func offsetSeconds(atUTCSeconds t: Int64) -> Int64 {
    let utcDays = t >= 0 ? t / 86400 : (t - 86399) / 86400
    let year = CivilDate(Date32(daysSinceEpoch: Int32(utcDays))).year
    let bounds = daylightBounds(year: year)
    return (t >= bounds.start && t < bounds.end) ? -4 * 3600 : -5 * 3600
  }

  /// The Eastern calendar date at a UTC instant.
  public static func date(atUTCMicros micros: Int64) -> Date32 {
    let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    let local = seconds + offsetSeconds(atUTCSeconds: seconds)
    let days = local >= 0 ? local / 86400 : (local - 86399) / 86400
    return Date32(daysSinceEpoch: Int32(days))
  }

  public static func today(_ clock: WallClock) -> Date32 { date(atUTCMicros: clock.nowMicros()) }
}

/// A command-line mistake, with the message already written for a person (exit 1).
public struct UsageError: Error, Equatable, CustomStringConvertible, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A date option as typed: an ISO date or a keyword relative to today in America/New_York.
public enum DateExpression: Equatable, Sendable {
  case absolute(CivilDate)
  /// `today` (0), `yesterday` (−1), `tomorrow` (+1), `today-N` (−N).
  case relative(keyword: String, days: Int)

  public static let acceptedForms =
    "YYYY-MM-DD, today, yesterday, tomorrow or today-N (N days before today; any letter case; resolved in America/New_York)"

  /// Parses one option value; `option` names the flag in the error message.
  public static func parse(_ raw: String, option: String = "date") throws(UsageError) -> DateExpression {
    let text = raw.trimmingSpaces()
    if let date = CivilDate(iso: text) { return .absolute(date) }
    // Schedulers send YESTERDAY and Today; gates.md: they must get the date, not a parse error.
    let lower = text.lowercased()
    switch lower {
    case "today": return .relative(keyword: "today", days: 0)
    case "yesterday": return .relative(keyword: "yesterday", days: -1)
    case "tomorrow": return .relative(keyword: "tomorrow", days: 1)
    default: break
    }
    if lower.hasPrefix("today-") {
      let digits = lower.dropFirst("today-".count)
      if !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
        // Five digits reach back 273 years, before any NBA game: more is a typo, not a date.
        let significant = digits.drop { $0 == "0" }
        guard significant.count <= 5, let n = Int(significant.isEmpty ? "0" : significant) else {
          throw UsageError("invalid \(option) '\(raw)': N in today-N is at most 99999 days")
        }
        return .relative(keyword: "today-\(n)", days: -n)
      }
    }
    // The right shape but no such day (2023-02-29, 2023-04-31): say that, not the forms again.
    let u = Array(text.utf8)
    if u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
      u.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || (48...57).contains($0.element) }),
      let year = Int(text.prefix(4)), let month = Int(text.dropFirst(5).prefix(2)), let day = Int(text.suffix(2))
    {
      let why =
        (1...12).contains(month)
        ? "\(Self.monthNames[month - 1]) \(year) has \(CivilDate.daysInMonth(year: year, month: month)) days"
        : "there is no month \(month)"
      throw UsageError("invalid \(option) '\(raw)': no such day (\(why); day \(day) asked for)")
    }
    throw UsageError("invalid \(option) '\(raw)': expected \(acceptedForms)")
  }

  static let monthNames = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
    "December",
  ]

  public func resolve(clock: WallClock) -> Date32 {
    switch self {
    case .absolute(let date): return date.date32
    case .relative(_, let days): return EasternTime.today(clock).adding(days: days)
    }
  }
}

/// A resolved date option as the manifest records it: what was typed, the keyword, the date and
/// the time zone it was resolved in.
public struct ResolvedDate: Codable, Equatable, Sendable {
  public var given: String
  /// Lower-case keyword (`yesterday`, `today-3`), nil for an ISO date.
  public var keyword: String?
  public var date: String
  public var timeZone: String

  enum CodingKeys: String, CodingKey {
    case given, keyword, date
    case timeZone = "time_zone"
  }

  public init(given: String, expression: DateExpression, clock: WallClock) {
    self.given = given
    switch expression {
    case .absolute: keyword = nil
    case .relative(let k, _): keyword = k
    }
    date = CivilDate(expression.resolve(clock: clock)).description
    timeZone = EasternTime.identifier
  }

  public var date32: Date32 { Date32(iso: date) ?? Date32(daysSinceEpoch: 0) }

  /// `keyword` is written as null for an ISO date, so every report has the same fields.
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(given, forKey: .given)
    if let keyword { try c.encode(keyword, forKey: .keyword) } else { try c.encodeNil(forKey: .keyword) }
    try c.encode(date, forKey: .date)
    try c.encode(timeZone, forKey: .timeZone)
  }
}

/// `--season 2022-23 | 2022 | current`.
public enum SeasonSelector: Equatable, Sendable {
  case startYear(Int)
  case current

  public static let acceptedForms = "a season like 2022-23, its start year 2022, or current"

  public static func parse(_ raw: String) throws(UsageError) -> SeasonSelector {
    let text = raw.trimmingSpaces()
    if text.lowercased() == "current" { return .current }
    let u = Array(text.utf8)
    func number(_ s: ArraySlice<UInt8>) -> Int? {
      guard !s.isEmpty, s.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
      return s.reduce(0) { $0 * 10 + Int($1 - 48) }
    }
    // 1946: the first season (BAA 1946-47). 9998: the last a source can store (Season.storedYears).
    let years = 1946...Season.storedYears.upperBound
    if u.count == 4, let year = number(u[...]), years.contains(year) {
      return .startYear(year)
    }
    if let year = Season.startYear(ofLabel: text), years.contains(year) { return .startYear(year) }
    if u.count == 7, u[4] == UInt8(ascii: "-"), let year = number(u[0..<4]), number(u[5..<7]) != nil,
      years.contains(year)
    {
      throw UsageError(
        "invalid season '\(raw)': its second part must be the year after \(year) (the season starting in \(year) is \(Season.label(year))); expected \(acceptedForms)"
      )
    }
    throw UsageError("invalid season '\(raw)': expected \(acceptedForms)")
  }

  /// `current` is the season containing today in America/New_York by the date rule: before
  /// October it is the previous start year.
  public func resolve(clock: WallClock) -> Int {
    switch self {
    case .startYear(let y): return y
    case .current: return Season.startYear(of: EasternTime.today(clock))
    }
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
    return String(s)
  }
}
