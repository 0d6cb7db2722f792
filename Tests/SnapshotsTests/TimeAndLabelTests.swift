import Foundation
import SQLiteSource
import Testing

@testable import Snapshots

/// The two checks that replaced Foundation's ICU-backed ones on the build's last steps.
@Suite struct TimeAndLabelTests {
  /// `utcString` against the `ISO8601DateFormatter` it replaced: every day of 1969–1972 (so
  /// before and after the epoch, a leap day, year ends) at a varying time of day, fractional
  /// seconds either side of zero, and far dates.
  @Test func utcStringIsWhatISO8601DateFormatterWrote() {
    let reference = ISO8601DateFormatter()
    reference.formatOptions = [.withInternetDateTime]
    reference.timeZone = TimeZone(identifier: "UTC")
    var instants: [Double] = [0, -0.25, 0.75, -1, 59.999, -86_400.5, 951_782_400, 4_102_444_799.9, 1_795_000_000.5]
    for day in -365...(3 * 365) { instants.append(Double(day) * 86_400 + Double((day * 7_919) % 86_400) + 0.5) }
    for t in instants {
      let date = Date(timeIntervalSince1970: t)
      #expect(SnapshotBuilder.utcString(date) == reference.string(from: date), "\(t)")
    }
  }

  @Test(
    arguments: [
      ("2022-23", 2022), ("1946-47", 1946), ("1999-00", 1999), ("0000-01", 0), ("9998-99", 9998),
      ("2022-24", nil), ("0000-00", nil), ("2022-2", nil), ("2022-234", nil), ("2022_23", nil), ("../x", nil),
      ("", nil),
      ("2022-23\n", nil), ("٢٠٢٢-٢٣", nil), ("2022-2x", nil),
    ] as [(String, Int?)])
  func seasonLabelsAreAStartYearAndTheYearAfter(_ label: String, _ year: Int?) {
    #expect(Season.startYear(ofLabel: label) == year)
    if let year { #expect(Season.label(year) == label) }
  }
}
