import Columnar
import Gates
import Report
import SQLiteSource
import Testing

let defaultLines = ReportBuilder.Lines(dateCoverage: 0.95, playerCoverage: 0.90, usageRate: 0.95, sourceField: 0.99)

func renderFixture(gates: [GateRow] = [], snapshot: SnapshotSection? = nil) -> String {
  let seasons = ReportBuilder.seasons(CoverageBreakdown.compute(source: fixtureSeason()), lines: defaultLines)
  return ReportRenderer.render(
    ReportInput(
      title: "fixture.sqlite", facts: [("Database", "fixture.sqlite")], seasons: seasons, gates: gates,
      snapshot: snapshot))
}

/// Every `<g class="day …" data-date="…">` opening tag, as (class, date).
func dayCells(_ html: String) -> [(cls: String, date: String)] {
  var out: [(String, String)] = []
  var rest = html[...]
  while let r = rest.firstRange(of: "<g class=\"day ") {
    let tagEnd = rest[r.lowerBound...].firstIndex(of: ">") ?? rest.endIndex
    let tag = String(rest[r.lowerBound..<tagEnd])
    func attribute(_ name: String) -> String {
      guard let a = tag.firstRange(of: "\(name)=\"") else { return "" }
      return String(tag[a.upperBound...].prefix { $0 != "\"" })
    }
    out.append((attribute("class"), attribute("data-date")))
    rest = rest[tagEnd...]
  }
  return out
}

@Suite struct ReportRendererTests {
  @Test func oneCellPerCalendarDayWithItsStatus() {
    let cells = dayCells(renderFixture())
    #expect(cells.count == 92)
    #expect(cells.first?.date == "2022-10-01" && cells.last?.date == "2022-12-31")
    #expect(cells.first { $0.date == "2022-11-15" }?.cls == "day missing")
    #expect(cells.first { $0.date == "2022-11-21" }?.cls == "day covered low")
    #expect(cells.first { $0.date == "2022-11-23" }?.cls == "day covered")
    #expect(cells.first { $0.date == "2022-10-18" }?.cls == "day bootstrap")
    #expect(cells.first { $0.date == "2022-10-19" }?.cls == "day no-games")
  }

  @Test func hoverTextCarriesTheFigures() {
    let html = renderFixture()
    #expect(
      html.contains(
        "<title>2022-11-15 (Tue): PCF missing, season day 28. Active PGS players: 3, 0 with a PCF row (0.0 %); PCF rows for 0 players.</title>"
      ))
    #expect(
      html.contains(
        "<title>2022-11-21 (Mon): PCF present, season day 34. Active PGS players: 3, 1 with a PCF row (33.3 %); PCF rows for 1 player.</title>"
      ))
  }

  @Test func summaryNamesTheMissingDateAndTheLowMonth() {
    let html = renderFixture()
    #expect(html.contains("2022-23: PCF missing on 1 of 25 expected dates: 2022-11-15."))
    #expect(html.contains("2022-23: usage_rate below 95 % in November 2022 (66.6 %); the season holds 84.3 %."))
    #expect(html.contains("<strong>Missing PCF dates (1): </strong>2022-11-15</p>"))
  }

  // Months are held to the gate's month rule and the season to its season rule: the page drew
  // the season threshold as the month line, so a --config with different values contradicted
  // validate.
  @Test func monthsUseTheMonthRuleAndTheSeasonItsOwn() {
    func render(month: Double, season: Double) -> String {
      let lines = ReportBuilder.Lines(
        dateCoverage: 0.95, playerCoverage: 0.90, usageRate: month, usageRateSeason: season, sourceField: 0.99)
      return ReportRenderer.render(
        ReportInput(
          title: "f", facts: [],
          seasons: ReportBuilder.seasons(CoverageBreakdown.compute(source: fixtureSeason()), lines: lines),
          gates: [], snapshot: nil))
    }
    let relaxed = render(month: 0.60, season: 0.90)
    #expect(!relaxed.contains("usage_rate below"))
    #expect(relaxed.contains("usage_rate present (line: 60 %)"))
    let strict = render(month: 0.70, season: 0.80)
    #expect(strict.contains("2022-23: usage_rate below 70 % in November 2022 (66.6 %); the season holds 84.3 %."))
  }

  @Test func monthBarSitsBelowTheLineWithItsShare() {
    let html = renderFixture()
    #expect(
      html.contains(
        "<rect class=\"fill usage below\" width=\"133.33\" height=\"12\" data-share=\"0.666667\"/>"))
    #expect(html.contains("<rect class=\"fill usage ok\" width=\"200.00\" height=\"12\" data-share=\"1.000000\"/>"))
    #expect(html.contains("data-threshold=\"0.950000\""))
    #expect(
      html.contains(
        "<div class=\"figure\">66.6 %<span class=\"of\"> (30 of 45)</span><strong class=\"flag\"> below the line</strong></div>"
      ))
  }

  @Test func gateRowsEscapeEvidenceAndCountTheRest() {
    let gate = GateRow(
      name: "duplicate_keys", status: .fail, figure: "2 duplicate keys", threshold: "none allowed",
      evidence: ["PGS 2022-11-01 <a&b>"], evidenceTotal: 3, override: nil)
    let html = renderFixture(gates: [gate])
    #expect(html.contains("<li>PGS 2022-11-01 &lt;a&amp;b&gt;</li><li class=\"more\">… and 2 more</li>"))
    #expect(html.contains("<tr class=\"gate fail\" data-gate=\"duplicate_keys\">"))
    #expect(html.contains("<span class=\"badge fail\">✕ FAIL</span>"))
    #expect(html.contains("Failing gates: duplicate_keys."))
  }

  @Test func noScriptsAndNothingFetched() {
    let html = renderFixture()
    #expect(!html.contains("<script"))
    // The only URIs are the two namespace names, which no browser fetches.
    let rest = html.split(separator: "xmlns=\"http://www.w3.org/1999/xhtml\"").joined()
      .split(separator: "xmlns=\"http://www.w3.org/2000/svg\"").joined()
    #expect(!rest.contains("http"))
    #expect(!rest.contains("src="))
    #expect(!html.contains("url("))
  }

  @Test func snapshotColumnsShowNullShareDriftAndHistogram() {
    let column = ColumnRow(
      name: "usage_rate_avg_last_5", type: "float64", nullShare: 0.25, parentNullShare: 0.05, mean: 19.5, std: 4.25,
      min: 2, max: 40, histogram: HistogramBins(lower: 8, binWidth: 8, counts: [1, 0, 3, 2]),
      parentHistogram: HistogramBins(lower: 0, binWidth: 16, counts: [2, 2]), flags: ["NULL share +20.0 pp"])
    let date = ColumnRow(
      name: "game_date", type: "date32", nullShare: 0, parentNullShare: 0, mean: 19375.78, std: 47.08, min: 19283,
      max: 19456)
    let text = ColumnRow(name: "player_lookup", type: "utf8", nullShare: 0, distinctCount: 540)
    let html = renderFixture(
      snapshot: SnapshotSection(
        name: "props_v1/v2", parentName: "props_v1/v1", rowCount: 1200, parentRowCount: 1000,
        columns: [column, date, text]))
    #expect(
      html.contains(
        "1,200 rows, 3 columns; compared with props_v1/v1 (1,000 rows, +200). Drift flags: usage_rate_avg_last_5."))
    #expect(html.contains(" 25.0 %<div class=\"was\">was 5.0 %, +20.0 pp</div></td>"))
    #expect(html.contains("<span class=\"badge warn\">! NULL share +20.0 pp</span>"))
    // Union axis 0…40 over 120 px; shares of each side's own total, tallest share 3/6 = 0.5.
    // First bin [8, 16): x 24, width 24, share 1/6 → a third of the 28 px height.
    #expect(html.contains("<rect class=\"bin\" x=\"24.00\" y=\"18.67\" width=\"24.00\" height=\"9.33\"/>"))
    // Parent bins [0, 16) and [16, 32), half the rows each: share 0.5 = full height.
    #expect(html.contains("<polyline class=\"parent\" points=\"0.00,0.00 48.00,0.00 48.00,0.00 96.00,0.00\"/>"))
    // Dates read as dates, spreads in days; text columns show their distinct count.
    #expect(
      html.contains("<td class=\"num\">2023-01-18 ± 47.1 days</td><td class=\"num\">2022-10-18 … 2023-04-09</td>"))
    #expect(html.contains("<td class=\"num\">540 distinct</td>"))
    // An unchanged NULL share gets no "was" line.
    #expect(html.contains("<tr data-column=\"game_date\" class=\"\">"))
    #expect(!html.contains("was 0.0 %"))
  }

  @Test func nullShareChangeIsTheChangeOfTheFiguresShown() {
    // Shares are shown rounded down: 0.0 % and 9.9 % must read −9.9 pp, not the −10.0 of the
    // unrounded 9.99 pp; a change hidden by that rounding (10.09 % → 10.01 %) gets no line.
    let drop = ColumnRow(name: "pace_score", type: "float64", nullShare: 0.00004, parentNullShare: 0.09994)
    let hidden = ColumnRow(name: "fatigue_score", type: "int32", nullShare: 0.1001, parentNullShare: 0.1009)
    let html = renderFixture(
      snapshot: SnapshotSection(
        name: "props_v1/v2", parentName: "props_v1/v1", rowCount: 10, parentRowCount: 10, columns: [drop, hidden]))
    #expect(html.contains(" 0.0 %<div class=\"was\">was 9.9 %, -9.9 pp</div></td>"))
    #expect(!html.contains("was 10.0 %"))
  }

  @Test func aWindowWithoutExpectedDatesSaysSoAndMarksTheRestOutside() {
    // 2022-10-18…2022-10-30 are the bootstrap days of the fixture season.
    let breakdowns = CoverageBreakdown.compute(
      source: fixtureSeason(), start: day("2022-10-18"), end: day("2022-10-30"))
    let html = ReportRenderer.render(
      ReportInput(
        title: "t", facts: [], seasons: ReportBuilder.seasons(breakdowns, lines: defaultLines), gates: [],
        snapshot: nil))
    #expect(
      html.contains(
        "<span class=\"badge note\">i NOTE</span> No expected PCF date in the range checked. Expected dates come from"))
    #expect(dayCells(html).first { $0.date == "2022-11-01" }?.cls == "day outside-window")
    #expect(html.contains(" outside --start-date/--end-date (not checked): 25</li>"))
  }
}

@Suite struct GateRowOverrideTests {
  /// validate records the reason of an override that was not needed beside `overridden: false`;
  /// the page printed "overridden: …" under a gate that passed (architecture review, session 17).
  @Test func onlyAGateTheOverrideLetThroughSaysOverridden() {
    func gate(_ status: GateStatus) -> GateResult {
      GateResult(
        name: "usage_rate_coverage", status: status, figure: "", value: nil, threshold: "", summary: "", evidence: [])
    }
    var report = GateReport(
      database: "x.sqlite", seasons: [], startDate: nil, endDate: nil, thresholds: .defaults,
      gates: [gate(.pass), gate(.fail)])
    for k in report.gates.indices { report.gates[k].overrideReason = "backfill pending" }
    report.gates[1].overridden = true
    let rows = ReportBuilder.gateRows(report)
    #expect(rows[0].override == nil)
    #expect(rows[1].override == "backfill pending")
  }
}
