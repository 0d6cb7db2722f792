// gates.md § Dates: keywords resolve in America/New_York, any letter case; anything else is a
// usage error naming the value and the accepted forms.
import Columnar
import Gates
import SQLiteSource
import Testing

@Suite struct DateTests {
  func resolve(_ text: String, at instant: String) throws -> String {
    CivilDate(try DateExpression.parse(text).resolve(clock: .fixed(instant))).description
  }

  // 2023-01-15 23:30 EST is 2023-01-16 04:30 UTC: UTC already says "the 16th".
  @Test func lateEveningEasternWinterIsStillToday() throws {
    #expect(try resolve("today", at: "2023-01-16T04:30:00Z") == "2023-01-15")
    #expect(try resolve("yesterday", at: "2023-01-16T04:30:00Z") == "2023-01-14")
    #expect(try resolve("tomorrow", at: "2023-01-16T04:30:00Z") == "2023-01-16")
  }

  // 00:30 EST on the 16th is 05:30 UTC on the 16th.
  @Test func justAfterMidnightEasternWinterIsTheNewDay() throws {
    #expect(try resolve("today", at: "2023-01-16T05:30:00Z") == "2023-01-16")
    #expect(try resolve("yesterday", at: "2023-01-16T05:30:00Z") == "2023-01-15")
  }

  // Summer: EDT is UTC−4, so 23:30 EDT is 03:30 UTC next day and 00:30 EDT is 04:30 UTC.
  @Test func lateEveningAndJustAfterMidnightEasternSummer() throws {
    #expect(try resolve("today", at: "2023-07-05T03:30:00Z") == "2023-07-04")
    #expect(try resolve("today", at: "2023-07-05T04:30:00Z") == "2023-07-05")
    // 04:30 UTC in winter is still 23:30 of the previous day: the offset really changed.
    #expect(try resolve("today", at: "2023-01-05T04:30:00Z") == "2023-01-04")
  }

  // DST starts 2023-03-12 02:00 EST (07:00 UTC); ends 2023-11-05 02:00 EDT (06:00 UTC).
  @Test func offsetsAcrossBothDaylightSavingChanges() {
    func offset(_ iso: String) -> Int64 {
      EasternTime.offsetSeconds(atUTCSeconds: Timestamp.parseMicros(iso)! / 1_000_000)
    }
    #expect(offset("2023-03-12T06:59:59Z") == -18000)
    #expect(offset("2023-03-12T07:00:00Z") == -14400)
    #expect(offset("2023-11-05T05:59:59Z") == -14400)
    #expect(offset("2023-11-05T06:00:00Z") == -18000)
    // 2024: second Sunday of March is the 10th, first Sunday of November the 3rd.
    #expect(offset("2024-03-10T06:59:59Z") == -18000)
    #expect(offset("2024-03-10T07:00:00Z") == -14400)
    #expect(offset("2024-11-03T05:59:59Z") == -14400)
    #expect(offset("2024-11-03T06:00:00Z") == -18000)
  }

  @Test func keywordsAt2330And0030AcrossTheSpringChange() throws {
    // 2023-03-11 23:30 EST (before the change) = 03-12 04:30 UTC.
    #expect(try resolve("today", at: "2023-03-12T04:30:00Z") == "2023-03-11")
    // 2023-03-12 23:30 EDT (after the change) = 03-13 03:30 UTC.
    #expect(try resolve("today", at: "2023-03-13T03:30:00Z") == "2023-03-12")
    #expect(try resolve("yesterday", at: "2023-03-13T03:30:00Z") == "2023-03-11")
    // 2023-03-13 00:30 EDT = 04:30 UTC.
    #expect(try resolve("today", at: "2023-03-13T04:30:00Z") == "2023-03-13")
  }

  @Test func keywordsAt2330And0030AcrossTheAutumnChange() throws {
    // 2023-11-04 23:30 EDT = 11-05 03:30 UTC.
    #expect(try resolve("today", at: "2023-11-05T03:30:00Z") == "2023-11-04")
    // 2023-11-05 23:30 EST (after the change) = 11-06 04:30 UTC.
    #expect(try resolve("today", at: "2023-11-06T04:30:00Z") == "2023-11-05")
    // 2023-11-06 00:30 EST = 05:30 UTC.
    #expect(try resolve("today", at: "2023-11-06T05:30:00Z") == "2023-11-06")
    #expect(try resolve("today-7", at: "2023-11-06T05:30:00Z") == "2023-10-30")
  }

  // gates.md: "A scheduler that sends the literal YESTERDAY must get yesterday's date".
  @Test(arguments: ["YESTERDAY", "Yesterday", "yesterday", " yesterday "])
  func schedulerSendsLiteralYESTERDAY(_ text: String) throws {
    #expect(try resolve(text, at: "2023-01-16T15:00:00Z") == "2023-01-15")
  }

  @Test func todayMinusNAnyCase() throws {
    #expect(try DateExpression.parse("TODAY-3") == .relative(keyword: "today-3", days: -3))
    #expect(try resolve("Today-30", at: "2023-01-16T15:00:00Z") == "2022-12-17")
    #expect(try DateExpression.parse("2023-01-04") == .absolute(CivilDate(year: 2023, month: 1, day: 4)!))
  }

  @Test func todayMinusTooManyDaysSaysTheLimit() {
    #expect(throws: UsageError("invalid --end-date 'today-123456': N in today-N is at most 99999 days")) {
      try DateExpression.parse("today-123456", option: "--end-date")
    }
  }

  @Test(arguments: ["2023-1-4", "today+1", "today-", "today-x", "now", "", "01/04/2023"])
  func malformedDatesAreUsageErrorsNamingTheValue(_ text: String) {
    #expect(
      throws: UsageError(
        "invalid --end-date '\(text)': expected YYYY-MM-DD, today, yesterday, tomorrow or today-N (N days before today; any letter case; resolved in America/New_York)"
      )
    ) {
      try DateExpression.parse(text, option: "--end-date")
    }
  }

  @Test func resolvedDateRecordsKeywordDateAndZone() throws {
    let r = ResolvedDate(
      given: "YESTERDAY", expression: try DateExpression.parse("YESTERDAY"), clock: .fixed("2023-01-16T04:30:00Z"))
    #expect(
      r == ResolvedDate(given: "YESTERDAY", keyword: "yesterday", date: "2023-01-14", timeZone: "America/New_York"))
  }

  @Test func seasons() throws {
    #expect(try SeasonSelector.parse("2022-23") == .startYear(2022))
    #expect(try SeasonSelector.parse("2022") == .startYear(2022))
    #expect(try SeasonSelector.parse("1999-00") == .startYear(1999))
    #expect(try SeasonSelector.parse("CURRENT") == .current)
    // "current" before October is the season that started the previous autumn (date rule),
    // and the month is read on the Eastern calendar, not UTC's.
    #expect(SeasonSelector.current.resolve(clock: .fixed("2023-09-30T12:00:00Z")) == 2022)
    #expect(SeasonSelector.current.resolve(clock: .fixed("2023-10-01T03:30:00Z")) == 2022)  // 09-30 23:30 EDT
    #expect(SeasonSelector.current.resolve(clock: .fixed("2023-10-01T04:30:00Z")) == 2023)  // 10-01 00:30 EDT
    #expect(
      throws: UsageError(
        "invalid season '2022-24': its second part must be the year after 2022 (the season starting in 2022 is 2022-23); expected a season like 2022-23, its start year 2022, or current"
      )
    ) {
      try SeasonSelector.parse("2022-24")
    }
    #expect(
      throws: UsageError("invalid season '22-23': expected a season like 2022-23, its start year 2022, or current")
    ) {
      try SeasonSelector.parse("22-23")
    }
    // 9999-00 parsed once, then no source could hold it and messages named "season_year 9999".
    #expect(throws: UsageError.self) { try SeasonSelector.parse("9999-00") }
    #expect(throws: UsageError.self) { try SeasonSelector.parse("9999") }
    #expect(throws: UsageError.self) { try SeasonSelector.parse("1945") }
    #expect(try SeasonSelector.parse("9998") == .startYear(9998))
  }

  /// The right shape but no such day: the message says why, not the accepted forms again.
  @Test func aDayThatDoesNotExistIsNamedAsSuch() throws {
    #expect(
      throws: UsageError(
        "invalid --end-date '2023-02-29': no such day (February 2023 has 28 days; day 29 asked for)")
    ) { try DateExpression.parse("2023-02-29", option: "--end-date") }
    #expect(throws: UsageError("invalid date '2023-13-01': no such day (there is no month 13; day 1 asked for)")) {
      try DateExpression.parse("2023-13-01")
    }
    let leapDay = try #require(CivilDate(year: 2024, month: 2, day: 29))
    #expect(try DateExpression.parse("2024-02-29") == .absolute(leapDay))
  }

  @Test func seasonListsWriteRunsAsTheirEnds() {
    #expect(Season.labels([]) == "")
    #expect(Season.labels([2022]) == "2022-23")
    #expect(Season.labels([2021, 2022]) == "2021-22, 2022-23")
    #expect(Season.labels([2022, 2019, 2020, 2021, 2024]) == "2019-20 to 2022-23 (4 seasons), 2024-25")
    #expect(Season.labels(Array(0...2021)) == "0000-01 to 2021-22 (2022 seasons)")
  }
}

extension ResolvedDate {
  init(given: String, keyword: String?, date: String, timeZone: String) {
    self.init(given: given, expression: .absolute(CivilDate(iso: date)!), clock: .system)
    self.given = given
    self.keyword = keyword
    self.timeZone = timeZone
  }
}
