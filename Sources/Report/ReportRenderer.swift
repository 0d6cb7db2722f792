import Columnar
import Gates

/// Renders a `ReportInput` as one self-contained page: inline CSS and SVG, no script, no
/// external resource, so it opens offline, survives being mailed around and prints on A4.
///
/// The markup is XHTML-compatible (see `Markup`). Colours never carry meaning alone: every
/// calendar cell has its day number and a tooltip, missing days are struck through, bars have
/// their figure beside them, statuses are spelled out.
public enum ReportRenderer {
  public static func render(_ input: ReportInput) -> String {
    var m = Markup()
    m.raw("<!DOCTYPE html>\n")
    m.open("html", [("xmlns", "http://www.w3.org/1999/xhtml"), ("lang", "en")])
    m.open("head")
    m.empty("meta", [("charset", "utf-8")])
    m.empty("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")])
    m.element("title", [], "dataset report: \(input.title)")
    // Raw text in HTML: entities would not be decoded there, so the sheet must need none.
    precondition(!stylesheet.contains("<") && !stylesheet.contains("&"), "stylesheet needs escaping")
    m.open("style")
    m.raw(stylesheet)
    m.close()
    m.close()
    m.open("body")
    m.element("h1", [], "dataset report: \(input.title)")
    m.open("dl", [("class", "facts")])
    for fact in input.facts {
      m.element("dt", [], fact.label)
      m.element("dd", [], fact.value)
    }
    m.close()
    summary(&m, input)
    for season in input.seasons { seasonSection(&m, season) }
    gateSection(&m, input.gates)
    if let snapshot = input.snapshot { snapshotSection(&m, snapshot) }
    m.close()
    m.close()
    precondition(m.isBalanced, "report markup left an element open")
    return m.text + "\n"
  }

  // MARK: - Summary

  /// The at-a-glance list: what is wrong, in words, before any chart.
  static func summary(_ m: inout Markup, _ input: ReportInput) {
    var lines: [(cls: String, text: String)] = []
    let failed = input.gates.filter { $0.status == .fail }
    let warned = input.gates.filter { $0.status == .warn }
    if !input.gates.isEmpty {
      if failed.isEmpty && warned.isEmpty {
        lines.append(("pass", "All \(input.gates.count) gates pass."))
      } else {
        if !failed.isEmpty {
          lines.append(("fail", "Failing gates: \(failed.map(\.name).joined(separator: ", "))."))
        }
        if !warned.isEmpty {
          lines.append(("warn", "Warnings: \(warned.map(\.name).joined(separator: ", "))."))
        }
      }
    }
    for season in input.seasons {
      let missing = season.missingDates
      let expected = season.expectedDates
      // The badge follows the gate's rule, so the summary never says FAIL where the gate passes.
      let datesBelow = Double(expected - missing.count) < season.dateCoverageThreshold * Double(expected)
      if !missing.isEmpty {
        let ranges = Format.dateRanges(missing)
        let shown = ranges.prefix(6).joined(separator: ", ") + (ranges.count > 6 ? ", …" : "")
        lines.append(
          (
            datesBelow ? "fail" : "note",
            "\(season.label): PCF missing on \(missing.count) of \(expected) expected dates: \(shown)."
              + (datesBelow ? "" : " Coverage stays above the \(Format.threshold(season.dateCoverageThreshold)) line.")
          ))
      } else if expected > 0 {
        lines.append(("pass", "\(season.label): PCF present on all \(expected) expected dates."))
      }
      let lowMonths = season.months.filter {
        $0.activeRows > 0 && Double($0.usageRateRows) < season.usageRateThreshold * Double($0.activeRows)
      }
      if !lowMonths.isEmpty {
        let active = season.months.reduce(0) { $0 + $1.activeRows }
        let filled = season.months.reduce(0) { $0 + $1.usageRateRows }
        let seasonBelow = Double(filled) < season.usageRateSeasonThreshold * Double(active)
        let text = lowMonths.map {
          "\(Format.monthTitle($0.month)) (\(Format.percent($0.usageRateRows, of: $0.activeRows)))"
        }.joined(separator: ", ")
        lines.append(
          (
            seasonBelow ? "fail" : "warn",
            "\(season.label): usage_rate below \(Format.threshold(season.usageRateThreshold)) in \(text); "
              + "the season holds \(Format.percent(filled, of: active))."
          ))
      }
    }
    guard !lines.isEmpty else { return }
    m.open("section", [("class", "summary"), ("aria-label", "summary")])
    m.element("h2", [], "At a glance")
    m.open("ul")
    for line in lines {
      m.open("li", [("class", "status-\(line.cls)")])
      m.element("span", [("class", "badge \(line.cls)")], badgeText(line.cls))
      m.content(" " + line.text)
      m.close()
    }
    m.close()
    m.close()
  }

  static func badgeText(_ status: String) -> String {
    switch status {
    case "pass": "✓ PASS"
    case "warn": "! WARN"
    case "note": "i NOTE"
    default: "✕ FAIL"
    }
  }

  // MARK: - Calendar heatmap

  static let cell = 24
  static let gap = 2

  static func seasonSection(_ m: inout Markup, _ season: SeasonSection) {
    m.open("section", [("class", "season"), ("id", "season-\(season.label)")])
    m.element("h2", [], "Season \(season.label)")
    let expected = season.expectedDates
    let missing = season.missingDates
    let covered = expected - missing.count
    let passes = expected == 0 || Double(covered) >= season.dateCoverageThreshold * Double(expected)
    let source =
      "Expected dates come from the \(season.dateSource)"
      + (season.openingNight.map { "; opening night \($0), bootstrap days 0–13 excluded." } ?? ".")
    m.open("p", [("class", "season-figure")])
    if expected == 0 {
      // Nothing to measure (a window of bootstrap days only, say): neither PASS nor FAIL.
      m.element("span", [("class", "badge note")], badgeText("note"))
      m.content(" No expected PCF date in the range checked. " + source)
    } else {
      m.element("span", [("class", "badge \(passes ? "pass" : "fail")")], badgeText(passes ? "pass" : "fail"))
      m.content(
        " PCF covers \(covered) of \(expected) expected dates (\(Format.percent(covered, of: expected))); "
          + "the line is \(Format.threshold(season.dateCoverageThreshold)). " + source)
    }
    m.close()

    m.element("h3", [], "PCF coverage by day")
    legend(&m, season)
    m.open("div", [("class", "calendar")])
    var start = 0
    while start < season.days.count {
      let c = CivilDate(season.days[start].date)
      var end = start
      while end + 1 < season.days.count && CivilDate(season.days[end + 1].date).month == c.month { end += 1 }
      monthGrid(&m, season, Array(season.days[start...end]), year: c.year, month: c.month)
      start = end + 1
    }
    m.close()
    if !missing.isEmpty {
      m.open("p", [("class", "missing-list")])
      m.element("strong", [], "Missing PCF dates (\(missing.count)): ")
      m.content(Format.dateRanges(missing).joined(separator: ", "))
      m.close()
    }

    m.element("h3", [], "Coverage by month")
    monthBars(&m, season)
    m.close()
  }

  static func legend(_ m: inout Markup, _ season: SeasonSection) {
    m.open("ul", [("class", "legend")])
    for status in DayStatus.allCases {
      let n = season.days.filter { $0.status == status }.count
      if status == .outsideWindow && n == 0 { continue }
      m.open("li")
      m.open(
        "svg",
        [
          ("xmlns", "http://www.w3.org/2000/svg"), ("width", "18"), ("height", "18"), ("viewBox", "0 0 18 18"),
          ("aria-hidden", "true"),
        ])
      m.open("g", [("class", "swatch \(status.rawValue)")])
      m.empty("rect", [("x", "1"), ("y", "1"), ("width", "16"), ("height", "16"), ("rx", "3")])
      if status == .missing {
        m.empty("line", [("class", "strike"), ("x1", "3"), ("y1", "15"), ("x2", "15"), ("y2", "3")])
      }
      m.close()
      m.close()
      m.content(" \(status.label): \(n)")
      m.close()
    }
    let low = season.days.filter { isLow($0, season) }.count
    m.open("li")
    m.open(
      "svg",
      [
        ("xmlns", "http://www.w3.org/2000/svg"), ("width", "18"), ("height", "18"), ("viewBox", "0 0 18 18"),
        ("aria-hidden", "true"),
      ])
    m.open("g", [("class", "swatch covered low")])
    m.empty("rect", [("x", "1"), ("y", "1"), ("width", "16"), ("height", "16"), ("rx", "3")])
    m.empty("path", [("class", "corner"), ("d", "M9 1 H17 V9 Z")])
    m.close()
    m.close()
    // A subset of "PCF present"; the gate also counts missing days (at 0 %), drawn above.
    m.content(
      " PCF present, for fewer than \(Format.threshold(season.playerCoverageThreshold)) of active players: \(low)")
    m.close()
    m.close()
  }

  static func isLow(_ day: DayCell, _ season: SeasonSection) -> Bool {
    day.status == .covered && day.activePlayers > 0
      && Double(day.activeWithPCF) < season.playerCoverageThreshold * Double(day.activePlayers)
  }

  /// One month as a Sunday-first 7-column grid; each day a `<g class="day STATUS">` with its
  /// date in `data-date` and the figures in an SVG `<title>` (the hover text).
  static func monthGrid(_ m: inout Markup, _ season: SeasonSection, _ days: [DayCell], year: Int, month: Int) {
    guard let first = days.first else { return }
    let lead = Format.weekday(first.date)
    let rows = (lead + days.count + 6) / 7
    let pitch = cell + gap
    let header = 14
    let width = 7 * pitch
    let height = header + rows * pitch
    let missingHere = days.filter { $0.status == .missing }.count
    // The month's usage_rate gap is named on the calendar too, where the eye already is.
    let label = "\(year)-\(month < 10 ? "0" : "")\(month)"
    let usageGap = season.months.first {
      $0.month == label && $0.activeRows > 0
        && Double($0.usageRateRows) < season.usageRateThreshold * Double($0.activeRows)
    }
    m.open("figure", [("class", "month")])
    m.open("figcaption")
    m.content("\(Format.monthNames[month - 1]) \(year)")
    if missingHere > 0 { m.element("span", [("class", "caption-flag")], " · \(missingHere) missing") }
    if let gap = usageGap {
      m.element(
        "span", [("class", "caption-flag")], " · usage_rate \(Format.percent(gap.usageRateRows, of: gap.activeRows))")
    }
    m.close()
    m.open(
      "svg",
      [
        ("xmlns", "http://www.w3.org/2000/svg"), ("width", "\(width)"), ("height", "\(height)"),
        ("viewBox", "0 0 \(width) \(height)"), ("role", "img"),
        ("aria-label", "PCF coverage, \(Format.monthNames[month - 1]) \(year)"),
      ])
    for (k, name) in Format.weekdayNames.enumerated() {
      m.element(
        "text",
        [("class", "weekday"), ("x", "\(k * pitch + cell / 2)"), ("y", "10"), ("text-anchor", "middle")],
        String(name.prefix(1)))
    }
    for (k, day) in days.enumerated() {
      let slot = lead + k
      let x = (slot % 7) * pitch
      let y = header + (slot / 7) * pitch
      var cls = "day \(day.status.rawValue)"
      if isLow(day, season) { cls += " low" }
      m.open("g", [("class", cls), ("data-date", day.date.description), ("transform", "translate(\(x),\(y))")])
      m.element("title", [], tooltip(day, season))
      m.empty("rect", [("width", "\(cell)"), ("height", "\(cell)"), ("rx", "3")])
      if day.status == .missing {
        m.empty("line", [("class", "strike"), ("x1", "3"), ("y1", "\(cell - 3)"), ("x2", "\(cell - 3)"), ("y2", "3")])
      }
      if isLow(day, season) { m.empty("path", [("class", "corner"), ("d", "M\(cell / 2) 0 H\(cell) V\(cell / 2) Z")]) }
      m.element(
        "text", [("x", "\(cell / 2)"), ("y", "\(cell / 2 + 4)"), ("text-anchor", "middle")],
        String(CivilDate(day.date).day))
      m.close()
    }
    m.close()
    m.close()
  }

  static func tooltip(_ day: DayCell, _ season: SeasonSection) -> String {
    var text = "\(day.date) (\(Format.weekdayNames[Format.weekday(day.date)])): \(day.status.label)"
    if let n = day.seasonDay, day.status != .noGames { text += ", season day \(n)" }
    if day.status != .noGames {
      text += ". Active PGS players: \(day.activePlayers)"
      if day.status == .covered || day.status == .missing {
        text += ", \(day.activeWithPCF) with a PCF row"
        if day.activePlayers > 0 { text += " (\(Format.percent(day.activeWithPCF, of: day.activePlayers)))" }
      }
      text += "; PCF rows for \(day.pcfPlayers) player\(day.pcfPlayers == 1 ? "" : "s")."
    }
    return text
  }

  // MARK: - Month bars

  static let barWidth = 200

  static func monthBars(_ m: inout Markup, _ season: SeasonSection) {
    m.open("div", [("class", "scroll")])
    m.open("table", [("class", "months")])
    m.open("thead")
    m.open("tr")
    m.element("th", [("scope", "col")], "Month")
    m.element("th", [("scope", "col"), ("class", "num")], "Active rows")
    m.element("th", [("scope", "col")], "usage_rate present (line: \(Format.threshold(season.usageRateThreshold)))")
    m.element("th", [("scope", "col")], "Weakest source field (line: \(Format.threshold(season.sourceFieldThreshold)))")
    m.close()
    m.close()
    m.open("tbody")
    for row in season.months {
      m.open("tr", [("data-month", row.month)])
      m.element("th", [("scope", "row")], Format.monthTitle(row.month))
      m.element("td", [("class", "num")], Format.count(row.activeRows))
      bar(
        &m, kind: "usage", rows: row.usageRateRows, of: row.activeRows, threshold: season.usageRateThreshold,
        what: "usage_rate in \(Format.monthTitle(row.month))")
      // Naming one field when none lacks a value would point at a problem that is not there.
      let complete = row.weakestSourceFieldOf > 0 && row.weakestSourceFieldRows == row.weakestSourceFieldOf
      let field =
        complete ? "all \(CoverageBreakdown.sourceFields.count) fields" : (row.weakestSourceField ?? "source fields")
      bar(
        &m, kind: "source", rows: row.weakestSourceFieldRows, of: row.weakestSourceFieldOf,
        threshold: season.sourceFieldThreshold, what: "\(field) in \(Format.monthTitle(row.month))", fieldName: field)
      m.close()
    }
    m.close()
    m.close()
    m.close()
  }

  /// One cell: the figure in words, then the bar with its threshold line beneath. The rect
  /// carries `data-share` and the line `data-threshold`, so a test (or a script) reads the
  /// numbers without measuring pixels.
  static func bar(
    _ m: inout Markup, kind: String, rows: Int, of whole: Int, threshold: Double, what: String,
    fieldName: String? = nil
  ) {
    let share = whole > 0 ? Double(rows) / Double(whole) : 0
    let below = whole > 0 && Double(rows) < threshold * Double(whole)
    let state = below ? "below" : "ok"
    m.open("td", [("class", "metric \(state)")])
    m.open("div", [("class", "figure")])
    if let fieldName { m.element("code", [], fieldName) }
    m.content((fieldName == nil ? "" : " ") + Format.percent(rows, of: whole))
    m.element("span", [("class", "of")], " (\(Format.count(rows)) of \(Format.count(whole)))")
    if below { m.element("strong", [("class", "flag")], " below the line") }
    m.close()
    m.open(
      "svg",
      [
        ("xmlns", "http://www.w3.org/2000/svg"), ("class", "bar"), ("viewBox", "0 0 \(barWidth) 12"),
        ("preserveAspectRatio", "none"), ("width", "100%"), ("height", "12"), ("role", "img"),
        ("aria-label", "\(what): \(Format.percent(rows, of: whole))"),
      ])
    m.element("title", [], "\(what): \(Format.count(rows)) of \(Format.count(whole)) rows non-NULL")
    m.empty("rect", [("class", "track \(state)"), ("width", "\(barWidth)"), ("height", "12")])
    m.empty(
      "rect",
      [
        ("class", "fill \(kind) \(state)"), ("width", Format.decimal(share * Double(barWidth), places: 2)),
        ("height", "12"), ("data-share", Format.attributeShare(share)),
      ])
    let x = Format.decimal(threshold * Double(barWidth), places: 2)
    m.empty(
      "line",
      [
        ("class", "threshold"), ("x1", x), ("x2", x), ("y1", "0"), ("y2", "12"),
        ("data-threshold", Format.attributeShare(threshold)), ("vector-effect", "non-scaling-stroke"),
      ])
    m.close()
    m.close()
  }

  // MARK: - Gates

  static func gateSection(_ m: inout Markup, _ gates: [GateRow]) {
    m.open("section", [("class", "gates"), ("id", "gates")])
    m.element("h2", [], "Gates")
    guard !gates.isEmpty else {
      m.element("p", [], "The gates were not run.")
      m.close()
      return
    }
    m.open("div", [("class", "scroll")])
    m.open("table", [("class", "gate-table")])
    m.open("thead")
    m.open("tr")
    for h in ["Gate", "Status", "Figure", "Threshold", "Evidence"] { m.element("th", [("scope", "col")], h) }
    m.close()
    m.close()
    m.open("tbody")
    for gate in gates {
      m.open("tr", [("class", "gate \(gate.status.rawValue)"), ("data-gate", gate.name)])
      m.open("th", [("scope", "row")])
      m.element("code", [], gate.name)
      m.close()
      m.open("td", [("class", "status"), ("data-label", "Status")])
      m.element("span", [("class", "badge \(gate.status.rawValue)")], badgeText(gate.status.rawValue))
      if let reason = gate.override { m.element("div", [("class", "override")], "overridden: \(reason)") }
      m.close()
      m.element("td", [("data-label", "Figure")], gate.figure)
      m.element("td", [("data-label", "Threshold")], gate.threshold)
      m.open("td", [("class", "evidence"), ("data-label", "Evidence")])
      if gate.evidence.isEmpty {
        m.content("none")
      } else {
        m.open("ul")
        for item in gate.evidence { m.element("li", [], item) }
        if gate.evidenceTotal > gate.evidence.count {
          m.element("li", [("class", "more")], "… and \(Format.count(gate.evidenceTotal - gate.evidence.count)) more")
        }
        m.close()
      }
      m.close()
      m.close()
    }
    m.close()
    m.close()
    m.close()
    m.close()
  }

  // MARK: - Snapshot

  static func snapshotSection(_ m: inout Markup, _ snapshot: SnapshotSection) {
    m.open("section", [("class", "snapshot"), ("id", "snapshot")])
    m.element("h2", [], "Snapshot \(snapshot.name)")
    var line = "\(Format.count(snapshot.rowCount)) rows, \(snapshot.columns.count) columns"
    if let parent = snapshot.parentName {
      line += "; compared with \(parent)"
      if let rows = snapshot.parentRowCount {
        let delta = snapshot.rowCount - rows
        line += " (\(Format.count(rows)) rows, \(delta >= 0 ? "+" : "")\(Format.count(delta)))"
      }
    } else {
      line += "; " + (snapshot.parentNote ?? "no parent version to compare with")
    }
    if !snapshot.schemaChanges.isEmpty { line += ". Schema: " + snapshot.schemaChanges.joined(separator: "; ") }
    let flagged = snapshot.columns.filter { !$0.flags.isEmpty }
    line += ". Drift flags: \(flagged.isEmpty ? "none" : flagged.map(\.name).joined(separator: ", "))."
    m.element("p", [], line)
    m.open("div", [("class", "scroll")])
    m.open("table", [("class", "columns")])
    m.open("thead")
    m.open("tr")
    for h in ["Column", "Type", "NULL share", "Mean ± std", "Range", "Histogram", "Drift"] {
      m.element("th", [("scope", "col")], h)
    }
    m.close()
    m.close()
    m.open("tbody")
    for column in snapshot.columns {
      m.open("tr", [("data-column", column.name), ("class", column.flags.isEmpty ? "" : "flagged")])
      m.open("th", [("scope", "row")])
      m.element("code", [], column.name)
      m.close()
      m.element("td", [], column.type)
      m.open("td", [("class", "nulls")])
      nullBar(&m, column)
      m.close()
      if let mean = column.mean {
        m.element(
          "td", [("class", "num")],
          "\(Format.statistic(mean, type: column.type == "date32" ? "date32" : "float64")) ± "
            + Format.statistic(column.std ?? 0, type: column.type == "date32" ? "date32" : "float64", spread: true))
      } else if let distinct = column.distinctCount {
        m.element("td", [("class", "num")], "\(Format.count(distinct)) distinct")
      } else {
        m.element("td", [], "")
      }
      if let lo = column.min, let hi = column.max {
        m.element(
          "td", [("class", "num")],
          "\(Format.statistic(lo, type: column.type)) … \(Format.statistic(hi, type: column.type))")
      } else {
        m.element("td", [], "")
      }
      m.open("td", [("class", "hist-cell")])
      histogram(&m, column)
      m.close()
      m.open("td", [("class", "drift")])
      if column.flags.isEmpty {
        m.content(snapshot.parentName == nil ? "" : "ok")
      } else {
        for flag in column.flags { m.element("span", [("class", "badge warn")], "! \(flag)") }
      }
      m.close()
      m.close()
    }
    m.close()
    m.close()
    m.close()
    m.close()
  }

  static func nullBar(_ m: inout Markup, _ column: ColumnRow) {
    m.open(
      "svg",
      [
        ("xmlns", "http://www.w3.org/2000/svg"), ("class", "nullbar"), ("width", "60"), ("height", "10"),
        ("viewBox", "0 0 60 10"), ("aria-hidden", "true"),
      ])
    m.empty("rect", [("class", "track"), ("width", "60"), ("height", "10")])
    m.empty(
      "rect", [("class", "fill nulls"), ("width", Format.decimal(column.nullShare * 60, places: 2)), ("height", "10")])
    m.close()
    m.content(" " + Format.percent(column.nullShare))
    // Only a change the reader can see is worth a second line ("was 0.0 %, +0.0 pp" on 60
    // columns is noise), and the change is that of the two figures as shown (both rounded
    // down), so "0.0 % was 9.9 %" reads −9.9 pp, never −10.0.
    func shownTenths(_ share: Double) -> Int { Int((share * 1000).rounded(.down)) }
    if let parent = column.parentNullShare, column.nullShare.isFinite, parent.isFinite,
      shownTenths(column.nullShare) != shownTenths(parent)
    {
      let pp = Double(shownTenths(column.nullShare) - shownTenths(parent)) / 10
      m.element(
        "div", [("class", "was")],
        "was \(Format.percent(parent)), \(pp >= 0 ? "+" : "")\(Format.decimal(pp, places: 1)) pp")
    }
  }

  /// Bars of this snapshot's histogram; the parent's, when given, as an outline on the same
  /// x axis (the union of both ranges), so a shift shows as an offset.
  static func histogram(_ m: inout Markup, _ column: ColumnRow) {
    guard let h = column.histogram, !h.counts.isEmpty else { return }
    let width = 120.0, height = 28.0
    var axisLo = h.lower, axisHi = h.upper
    if let p = column.parentHistogram, !p.counts.isEmpty {
      axisLo = Swift.min(axisLo, p.lower)
      axisHi = Swift.max(axisHi, p.upper)
    }
    let span = axisHi > axisLo ? axisHi - axisLo : 1
    func x(_ v: Double) -> Double { (v - axisLo) / span * width }
    // Heights as shares of each side's own total, so a parent with more rows is not taller.
    let total = Double(Swift.max(h.counts.reduce(0, +), 1))
    let parentTotal = Double(Swift.max(column.parentHistogram?.counts.reduce(0, +) ?? 1, 1))
    let peak = Swift.max(
      Double(h.counts.max() ?? 0) / total, Double(column.parentHistogram?.counts.max() ?? 0) / parentTotal, 1e-12)
    m.open(
      "svg",
      [
        ("xmlns", "http://www.w3.org/2000/svg"), ("class", "hist"), ("width", "120"), ("height", "28"),
        ("viewBox", "0 0 120 28"), ("role", "img"), ("aria-label", "histogram of \(column.name)"),
      ])
    var title =
      "\(column.name): \(h.counts.count) bins of width \(Format.decimal(h.binWidth, places: 3)) from \(Format.decimal(h.lower)); tallest bin \(Format.count(h.counts.max() ?? 0)) rows"
    if column.parentHistogram != nil { title += "; outline: parent version" }
    m.element("title", [], title)
    m.empty("rect", [("class", "track"), ("width", "120"), ("height", "28")])
    for (k, c) in h.counts.enumerated() where c > 0 {
      let x0 = x(h.lower + Double(k) * h.binWidth)
      let w = Swift.max(x(h.lower + Double(k + 1) * h.binWidth) - x0, 0.6)
      let barHeight = Swift.max(Double(c) / total / peak * height, 0.8)
      m.empty(
        "rect",
        [
          ("class", "bin"), ("x", Format.decimal(x0, places: 2)), ("y", Format.decimal(height - barHeight, places: 2)),
          ("width", Format.decimal(w, places: 2)), ("height", Format.decimal(barHeight, places: 2)),
        ])
    }
    // The parent's outline only where it differs: identical outlines over every bar hide them.
    if let p = column.parentHistogram, !p.counts.isEmpty, p != h {
      var points: [String] = []
      for (k, c) in p.counts.enumerated() {
        let y = Format.decimal(height - Double(c) / parentTotal / peak * height, places: 2)
        points.append("\(Format.decimal(x(p.lower + Double(k) * p.binWidth), places: 2)),\(y)")
        points.append("\(Format.decimal(x(p.lower + Double(k + 1) * p.binWidth), places: 2)),\(y)")
      }
      m.empty("polyline", [("class", "parent"), ("points", points.joined(separator: " "))])
    }
    m.close()
  }

  // MARK: - Style

  /// Colours picked to stay apart for the common colour-vision deficiencies (blue-green vs
  /// vermilion), with shape cues (strike, corner mark) and words carrying the same meaning.
  static let stylesheet = """
    :root { --ok: #1b7f5b; --ok-light: #7cc4a4; --bad: #c8381e; --warn: #b26b00; --boot: #9aa5b1;
      --none: #ffffff; --line: #222; --muted: #5b6470; --track: #eef1f4; }
    * { box-sizing: border-box; }
    body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
      color: #1d232a; margin: 0 auto; padding: 16px 20px 40px; max-width: 1180px; }
    h1 { font-size: 22px; margin: 0 0 6px; }
    h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #d5dbe1; padding-bottom: 3px; }
    h3 { font-size: 15px; margin: 18px 0 6px; }
    code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
    dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px;
      color: var(--muted); }
    dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
    .summary ul { list-style: none; padding: 0; margin: 0; }
    .summary li { margin: 4px 0; }
    .badge { display: inline-block; font-weight: 700; font-size: 12px; padding: 1px 6px; border-radius: 3px;
      color: #fff; white-space: nowrap; }
    .badge.pass { background: var(--ok); } .badge.warn { background: var(--warn); }
    .badge.fail { background: var(--bad); } .badge.note { background: #3b6ea8; }
    .legend { list-style: none; padding: 0; margin: 4px 0 8px; display: flex; flex-wrap: wrap; gap: 4px 18px; }
    .legend li { display: flex; align-items: center; gap: 4px; }
    .calendar { display: flex; flex-wrap: wrap; gap: 10px 18px; }
    figure.month { margin: 0; break-inside: avoid; }
    figure.month figcaption { font-weight: 600; font-size: 13px; margin-bottom: 2px; }
    .caption-flag { color: var(--bad); }
    svg text { font: 10px system-ui, sans-serif; fill: #1d232a; }
    svg text.weekday { fill: var(--muted); font-size: 9px; }
    .day rect, .swatch rect { stroke: #c3cad2; stroke-width: 1; }
    .day.covered rect, .swatch.covered rect { fill: var(--ok); stroke: var(--ok); }
    .day.covered text { fill: #fff; font-weight: 600; }
    .day.covered.low rect, .swatch.covered.low rect { fill: var(--ok-light); stroke: var(--ok); }
    .day.covered.low text { fill: #0b3b2a; }
    .corner { fill: var(--warn); }
    .day.missing rect, .swatch.missing rect { fill: var(--bad); stroke: #7a1d0c; stroke-width: 2; }
    .day.missing text { fill: #fff; font-weight: 700; }
    .strike { stroke: #fff; stroke-width: 1.5; opacity: 0.5; }
    .day.bootstrap rect, .swatch.bootstrap rect { fill: var(--boot); stroke: #6b7683; stroke-dasharray: 3 2; }
    .day.no-games rect, .swatch.no-games rect { fill: var(--none); }
    .day.no-games text { fill: #98a1ab; }
    .day.outside-window rect, .swatch.outside-window rect { fill: #e6e9ed; stroke-dasharray: 1 2; }
    .day.outside-window text { fill: #5b6470; }
    .missing-list { color: var(--bad); }
    .scroll { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e3e7eb; vertical-align: top; }
    thead th { font-size: 12px; color: var(--muted); border-bottom: 2px solid #c9d0d7; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    table.months th[scope=row] { white-space: nowrap; }
    table.months td.metric { width: 40%; min-width: 130px; }
    td.metric .figure { font-variant-numeric: tabular-nums; }
    td.metric .of { color: var(--muted); font-size: 12px; }
    td.metric.below .figure { color: var(--bad); }
    svg.bar { display: block; margin-top: 2px; }
    .track { fill: var(--track); }
    .track.below { fill: #fbe9e6; stroke: var(--bad); stroke-width: 1; vector-effect: non-scaling-stroke; }
    .fill.ok { fill: var(--ok); } .fill.below { fill: var(--bad); }
    .threshold { stroke: var(--line); stroke-width: 2; }
    .fill.nulls { fill: var(--warn); }
    td.nulls { white-space: nowrap; } td.nulls .was { font-size: 12px; color: var(--muted); }
    .bin { fill: #3b6ea8; } .parent { fill: none; stroke: var(--bad); stroke-width: 1; }
    tr.gate.fail th, tr.gate.fail td { background: #fbe9e6; }
    tr.gate.warn th, tr.gate.warn td { background: #fdf3e1; }
    .evidence ul { margin: 0; padding-left: 16px; } .evidence li.more { color: var(--muted); list-style: none; }
    .override { font-size: 12px; color: var(--muted); }
    tr.flagged th, tr.flagged td { background: #fdf3e1; }
    .drift .badge { margin: 0 4px 2px 0; }
    @media (max-width: 640px) {
      body { padding: 10px; font-size: 13px; }
      th, td { padding: 3px 4px; }
      table.months td.metric { min-width: 100px; }
      td.metric .of { display: block; }
      /* The gate table becomes one card per gate: five columns cannot share 400 px. */
      table.gate-table thead { display: none; }
      table.gate-table, table.gate-table tbody, table.gate-table tr, table.gate-table th,
      table.gate-table td { display: block; width: auto; }
      table.gate-table tr { border-bottom: 2px solid #c9d0d7; padding: 4px 0; }
      table.gate-table td { border: none; padding: 1px 4px; }
      table.gate-table td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: var(--muted); }
    }
    @page { size: A4; margin: 12mm; }
    @media print {
      body { max-width: none; padding: 0; font-size: 10pt; }
      * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
      h2 { break-after: avoid; } tr, figure.month, .summary { break-inside: avoid; }
      .scroll { overflow: visible; }
    }
    """
}
