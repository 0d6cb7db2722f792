import Columnar

/// Number and date wording shared by the report's text, tooltips and data attributes.
public enum Format {
  /// "12,345".
  public static func count(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (k, ch) in digits.enumerated() {
      if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
      out.append(ch)
    }
    return n < 0 ? "-" + out : out
  }

  /// A share as a percentage with one decimal, rounded DOWN, so that 94.96 % reads "94.9 %"
  /// and never "95.0 %" beside a 95 % line it is below. Exact 100 % only when nothing is missing.
  static func percent(_ part: Int, of whole: Int) -> String {
    guard whole > 0 else { return "n/a" }
    let tenths = (part * 1000) / whole
    return "\(tenths / 10).\(tenths % 10) %"
  }

  /// A share given as a Double (0…1), one decimal, rounded down.
  static func percent(_ share: Double) -> String {
    guard share.isFinite else { return "n/a" }
    let tenths = Int((share * 1000).rounded(.down))
    let sign = tenths < 0 ? "-" : ""
    let m = tenths.magnitude
    return "\(sign)\(m / 10).\(m % 10) %"
  }

  /// A threshold share (0.95) as "95 %" (or "99.5 %").
  static func threshold(_ share: Double) -> String {
    let tenths = Int((share * 1000).rounded())
    return tenths % 10 == 0 ? "\(tenths / 10) %" : "\(tenths / 10).\(tenths % 10) %"
  }

  /// A statistic as an ML engineer reads it: a date32 value as a date (spreads in days),
  /// integers and booleans without a fraction, floats with three decimals; no digit grouping,
  /// so a season year reads 2022.
  static func statistic(_ x: Double, type: String, spread: Bool = false) -> String {
    switch type {
    case "date32":
      if spread { return "\(plain(x, places: 1)) days" }
      guard x.isFinite, x.magnitude < 1e8 else { return plain(x, places: 1) }
      return Date32(daysSinceEpoch: Int32(x.rounded(.down))).description
    case "int32", "int64", "bool":
      return x == x.rounded() ? plain(x, places: 0) : plain(x, places: 3)
    default:
      return plain(x, places: 3)
    }
  }

  /// `decimal` without digit grouping.
  static func plain(_ x: Double, places: Int) -> String {
    decimal(x, places: places).replacingAll(",", "")
  }

  /// A decimal with `places` digits after the point, rounded half away from zero; no
  /// exponent notation, so a mean of 1e-7 reads 0.000.
  static func decimal(_ x: Double, places: Int = 3) -> String {
    guard x.isFinite else { return x.isNaN ? "NaN" : (x < 0 ? "-inf" : "inf") }
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (x.magnitude * scale).rounded()
    guard scaled < 9e15 else { return String(x) }
    let n = Int(scaled)
    let whole = n / Int(scale)
    var frac = String(n % Int(scale))
    frac = String(repeating: "0", count: max(0, places - frac.count)) + frac
    let sign = x < 0 && n != 0 ? "-" : ""
    return places == 0 ? "\(sign)\(count(whole))" : "\(sign)\(count(whole)).\(frac)"
  }

  /// A share for a data attribute: fixed six decimals, machine-readable.
  static func attributeShare(_ share: Double) -> String {
    guard share.isFinite else { return "NaN" }
    let n = Int((share * 1_000_000).rounded())
    let whole = n / 1_000_000
    let frac = String(n % 1_000_000)
    return "\(whole).\(String(repeating: "0", count: 6 - frac.count))\(frac)"
  }

  static let monthNames = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
  ]
  static let weekdayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

  /// 0 = Sunday. 1970-01-01 was a Thursday.
  static func weekday(_ date: Date32) -> Int {
    let d = (Int(date.daysSinceEpoch) + 4) % 7
    return d < 0 ? d + 7 : d
  }

  /// "2023-01" → "January 2023".
  static func monthTitle(_ label: String) -> String {
    let parts = label.split(separator: "-")
    guard parts.count == 2, let m = Int(parts[1]), (1...12).contains(m) else { return label }
    return "\(monthNames[m - 1]) \(parts[0])"
  }

  /// Consecutive calendar days folded into ranges: "2023-01-05 to 2023-01-09 (5 days)".
  static func dateRanges(_ dates: [Date32]) -> [String] {
    var out: [String] = []
    var k = 0
    let sorted = dates.sorted()
    while k < sorted.count {
      var end = k
      while end + 1 < sorted.count && sorted[end + 1].days(since: sorted[end]) == 1 { end += 1 }
      if end == k {
        out.append(sorted[k].description)
      } else {
        out.append("\(sorted[k]) to \(sorted[end]) (\(end - k + 1) days)")
      }
      k = end + 1
    }
    return out
  }
}

extension String {
  func replacingAll(_ a: String, _ b: String) -> String {
    var out = ""
    var rest = self[...]
    while let r = rest.firstRange(of: a) {
      out += rest[..<r.lowerBound] + b
      rest = rest[r.upperBound...]
    }
    return out + rest
  }
}
