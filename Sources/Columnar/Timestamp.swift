/// ISO 8601 timestamps as microseconds since 1970-01-01T00:00:00Z.
///
/// Accepts what warehouse exports write: `2023-01-05T12:34:56Z`, a space instead of `T`,
/// optional fractional seconds (up to microseconds; more digits are truncated), and a `Z`,
/// `+HH:MM`, `-HH:MM`, `+HHMM` offset or none (read as UTC).
public enum Timestamp {
  public static func parseMicros(_ text: some StringProtocol) -> Int64? {
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBufferPointer { parseMicros(bytes: UnsafeBufferPointer($0)) }
  }

  public static func parseMicros(bytes u: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard u.count >= 19 else { return nil }
    guard let date = CivilDate.parse(isoBytes: UnsafeBufferPointer(rebasing: u[0..<10])) else { return nil }
    guard u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: " ") || u[10] == UInt8(ascii: "t") else { return nil }
    func two(_ i: Int) -> Int? {
      let a = u[i], b = u[i + 1]
      guard a >= 48, a <= 57, b >= 48, b <= 57 else { return nil }
      return Int(a - 48) * 10 + Int(b - 48)
    }
    guard let hh = two(11), u[13] == UInt8(ascii: ":"), let mm = two(14), u[16] == UInt8(ascii: ":"),
      let ss = two(17), hh < 24, mm < 60, ss < 61
    else { return nil }
    var i = 19
    var micros = 0
    if i < u.count, u[i] == UInt8(ascii: ".") {
      i += 1
      var digits = 0
      while i < u.count, u[i] >= 48, u[i] <= 57 {
        if digits < 6 { micros = micros * 10 + Int(u[i] - 48) }
        digits += 1
        i += 1
      }
      guard digits > 0 else { return nil }
      var scale = digits
      while scale < 6 {
        micros *= 10
        scale += 1
      }
    }
    var offsetSeconds = 0
    if i < u.count {
      switch u[i] {
      case UInt8(ascii: "Z"), UInt8(ascii: "z"):
        i += 1
      case UInt8(ascii: "+"), UInt8(ascii: "-"):
        let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
        i += 1
        guard i + 2 <= u.count, let oh = two(i) else { return nil }
        i += 2
        var om = 0
        if i < u.count, u[i] == UInt8(ascii: ":") { i += 1 }
        if i + 2 <= u.count, let m = two(i) {
          om = m
          i += 2
        }
        offsetSeconds = sign * (oh * 3600 + om * 60)
      default:
        return nil
      }
    }
    guard i == u.count else { return nil }
    let days = Int64(date.date32.daysSinceEpoch)
    let seconds = days * 86400 + Int64(hh * 3600 + mm * 60 + ss) - Int64(offsetSeconds)
    return seconds * 1_000_000 + Int64(micros)
  }

  /// `2023-01-05T12:34:56.123456Z` (fraction only when non-zero).
  public static func format(micros: Int64) -> String {
    let totalSeconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    let fraction = micros - totalSeconds * 1_000_000
    let days = totalSeconds >= 0 ? totalSeconds / 86400 : (totalSeconds - 86399) / 86400
    let secondOfDay = Int(totalSeconds - days * 86400)
    let date = CivilDate(Date32(daysSinceEpoch: Int32(days)))
    func pad(_ v: Int, _ w: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, w - s.count)) + s
    }
    var s = "\(date)T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
    if fraction != 0 { s += "." + pad(Int(fraction), 6) }
    return s + "Z"
  }
}
