import Columnar
@testable import DatasetCLI
import Foundation
import Gates
import Pipeline
import SQLiteSource
import Snapshots
import Testing

@Suite struct ConfigTests {
  let defaultsPath = RealFixture.repoRoot.appendingPathComponent("Schemas/gates.default.json").path

  @Test func shippedDefaultsFileAgreesWithEmbeddedDefaults() throws {
    let data = try #require(FileManager.default.contents(atPath: defaultsPath))
    // Overlaid on a config where every value differs, so a key missing from the file shows.
    var other = GateConfig.defaults
    other.pcfDateCoverageFailBelowPercent = 1
    other.pcfPlayerCoverageWarnDateBelowPercent = 1
    other.pcfPlayerCoverageFailDatesBelowPercent = 1
    other.usageRateSeasonFailBelowPercent = 1
    other.usageRateMonthWarnBelowPercent = 1
    other.sourceFieldFailBelowPercent = 1
    other.duplicateKeysFailAbove = 7
    other.gameIntegrityMinActivePlayersPerTeam = 1
    other.gameIntegrityMaxActivePlayersPerTeam = 99
    other.gameIntegrityFailAbove = 7
    other.valueRangesFailAbovePercent = 7
    other.valueRangesUsageMinMinutes = 7
    other.valueRangesUsageReportAbove = 7
    other.pcfStalenessFailAbove = 7
    other.constantFeaturesWarnDominantSharePercent = 7
    other.pointInTimeMinSampleRows = 7
    #expect(try other.overlaid(json: data, source: "gates.default.json") == GateConfig.defaults)
  }

  @Test func partialFileChangesOnlyWhatItNames() throws {
    let c = try GateConfig.defaults.overlaid(
      json: Data(#"{"pcf_date_coverage": {"fail_below_percent": 90}}"#.utf8), source: "t.json")
    var expected = GateConfig.defaults
    expected.pcfDateCoverageFailBelowPercent = 90
    #expect(c == expected)
  }

  /// argument-parser printed the top-level help and exited 0 for `dataset gates --help` and
  /// `dataset help gates` (a spec audit): a misspelt command is a usage error however it is asked.
  @Test func anUnknownCommandIsAUsageErrorEvenWithHelp() {
    for args in [["gates", "--help"], ["help", "gates"], ["gates"], ["gates", "--json"]] {
      #expect(unknownCommand(in: args)?.hasPrefix("error: unknown command 'gates': expected one of import,") == true)
    }
    for args in [
      ["build", "--help"], ["help", "build"], ["help"], ["--help"], ["--version"], [], ["help", "--help"],
    ] {
      #expect(unknownCommand(in: args) == nil, "\(args)")
    }
    #expect(DatasetCommand.run(["gates", "--help"]) == ExitStatus.usage.rawValue)
  }

  @Test func unknownGateIsAUsageErrorNamingIt() {
    #expect(
      throws: UsageError(
        "t.json: unknown gate 'pcf_coverage': the gates are pcf_date_coverage, pcf_player_coverage, usage_rate_coverage, source_field_coverage, duplicate_keys, game_integrity, value_ranges, pcf_staleness, constant_features, point_in_time"
      )
    ) {
      try GateConfig.defaults.overlaid(
        json: Data(#"{"pcf_coverage": {"fail_below_percent": 90}}"#.utf8), source: "t.json")
    }
  }

  @Test func malformedValuesAreUsageErrorsNamingThem() {
    #expect(throws: UsageError("t.json: value_ranges.fail_above_percent = \"0.1\" is not a number")) {
      try GateConfig.defaults.overlaid(
        json: Data(#"{"value_ranges": {"fail_above_percent": "0.1"}}"#.utf8), source: "t.json")
    }
    #expect(throws: UsageError("t.json: duplicate_keys.fail_above_count = true is not a number")) {
      try GateConfig.defaults.overlaid(
        json: Data(#"{"duplicate_keys": {"fail_above_count": true}}"#.utf8), source: "t.json")
    }
    #expect(
      throws: UsageError(
        "t.json: pcf_date_coverage.fail_below_percent = 120 is not allowed: expected a number from 0 to 100")
    ) {
      try GateConfig.defaults.overlaid(
        json: Data(#"{"pcf_date_coverage": {"fail_below_percent": 120}}"#.utf8), source: "t.json")
    }
    #expect(
      throws: UsageError(
        "t.json: game_integrity.min_active_players_per_team = 4.5 is not allowed: expected a whole number from 0 to 100"
      )
    ) {
      try GateConfig.defaults.overlaid(
        json: Data(#"{"game_integrity": {"min_active_players_per_team": 4.5}}"#.utf8), source: "t.json")
    }
    #expect(
      throws: UsageError("t.json: gate pcf_staleness has no setting 'fail_below' (its settings: fail_above_count)")
    ) {
      try GateConfig.defaults.overlaid(json: Data(#"{"pcf_staleness": {"fail_below": 1}}"#.utf8), source: "t.json")
    }
  }

  /// Bounds each in range can still contradict each other: then no team could pass, and the
  /// fault is the file's (exit 1), not the data's (exit 2).
  @Test func contradictoryBoundsAreAUsageError() {
    #expect(
      throws: UsageError(
        "t.json: game_integrity.min_active_players_per_team = 30 is above game_integrity.max_active_players_per_team = 20; no team could pass"
      )
    ) {
      try GateConfig.defaults.overlaid(
        json: Data(#"{"game_integrity": {"min_active_players_per_team": 30}}"#.utf8), source: "t.json")
    }
    #expect(throws: Never.self) {
      try GateConfig.defaults.overlaid(
        json: Data(#"{"game_integrity": {"min_active_players_per_team": 8, "max_active_players_per_team": 8}}"#.utf8),
        source: "t.json")
    }
  }

  /// A file that is not JSON, or JSON that is not an object, says where and what was expected.
  @Test func brokenOrMisshapenFilesSayWhereAndWhatWasExpected() {
    let expected = #"expected {"gate_name": {"setting": number}}"#
    let cases: [(String, String)] = [
      (
        "{\n  \"value_ranges\": {\"fail_above_percent\": 1}\n  \"pcf_staleness\": {}\n}",
        "t.json: not valid JSON (line 3, column 3: expected ',' or '}' after an object member, found '\"'); \(expected)"
      ),
      (
        #"{"value_ranges": {"fail_above_percent": 1}, "value_ranges": {"fail_above_percent": 2}}"#,
        #"t.json: not valid JSON (line 1, column 45: the key "value_ranges" appears twice in one object); "# + expected
      ),
      ("[1]", "t.json: a list is not a JSON object of gates; \(expected)"),
      ("95", "t.json: 95 is not a JSON object of gates; \(expected)"),
    ]
    for (text, message) in cases {
      #expect(throws: UsageError(message), "\(text)") {
        try GateConfig.defaults.overlaid(json: Data(text.utf8), source: "t.json")
      }
    }
  }
}

@Suite struct OptionTests {
  func resolve(_ args: [String], at instant: String = "2023-01-16T04:30:00Z") throws(CommandFailure) -> ResolvedSource {
    do {
      return try SourceOptions.parse(args).resolve(clock: .fixed(instant), defaultsFile: nil)
    } catch let f as CommandFailure {
      throw f
    } catch {
      throw CommandFailure(.usage, "parse: \(error)")
    }
  }

  @Test func keywordsResolveInEasternAndAreRecorded() throws {
    let r = try resolve([
      "--db", "x.sqlite", "--season", "2022-23", "--start-date", "today-7", "--end-date", "YESTERDAY",
    ])
    #expect(r.seasonYears == [2022])
    #expect(r.startDate?.date == "2023-01-08")
    #expect(r.startDate?.keyword == "today-7")
    #expect(r.endDate?.date == "2023-01-14")
    #expect(r.endDate?.given == "YESTERDAY")
    #expect(r.endDate?.timeZone == "America/New_York")
  }

  // A clock that moves one second per reading, started a second before midnight Eastern: the
  // two keywords must still name the same day, and resolved_at is the reading they used.
  @Test func everyKeywordResolvesAgainstOneClockReading() throws {
    let start = try #require(Timestamp.parseMicros("2023-01-16T04:59:59Z"))
    final class Ticks: @unchecked Sendable { var next: Int64 = 0 }
    let ticks = Ticks()
    let clock = WallClock {
      defer { ticks.next += 1_000_000 }
      return start + ticks.next
    }
    let args = ["--db", "x.sqlite", "--start-date", "yesterday", "--end-date", "yesterday", "--season", "current"]
    let r = try SourceOptions.parse(args).resolve(clock: clock, defaultsFile: nil)
    #expect(r.startDate?.date == "2023-01-14" && r.endDate?.date == "2023-01-14")
    #expect(r.resolvedAtMicros == start)
    #expect(r.seasonYears == [2022])
  }

  @Test func seasonsFromDatesWhenNoSeasonGiven() throws {
    let r = try resolve(["--db", "x", "--start-date", "2022-04-01", "--end-date", "2023-01-01"])
    #expect(r.seasonYears == [2021, 2022])
  }

  @Test func usageErrors() {
    #expect(
      throws: CommandFailure(
        .usage, "error: invalid season 'last': expected a season like 2022-23, its start year 2022, or current")
    ) {
      try resolve(["--db", "x", "--season", "last"])
    }
    #expect(throws: CommandFailure(.usage, "error: unknown gate 'usage': the gates are \(GateName.list)")) {
      try resolve(["--db", "x", "--season", "2022", "--override", "usage", "--reason", "r"])
    }
    #expect(
      throws: CommandFailure(
        .usage, "error: 1 --override but 0 --reason: each overridden gate needs its own --reason \"why\"")
    ) {
      try resolve(["--db", "x", "--season", "2022", "--override", "usage_rate_coverage"])
    }
    #expect(throws: CommandFailure(.usage, "error: --start-date 2023-02-01 is after --end-date 2023-01-01")) {
      try resolve(["--db", "x", "--start-date", "2023-02-01", "--end-date", "2023-01-01"])
    }
    #expect(throws: CommandFailure(.unusableInput, "error: --config /nonexistent.json: no such readable file")) {
      try resolve(["--db", "x", "--season", "2022", "--config", "/nonexistent.json"])
    }
    #expect(
      throws: CommandFailure(.unusableInput, "error: --config /etc: is a folder, expected a JSON file of thresholds")
    ) {
      try resolve(["--db", "x", "--season", "2022", "--config", "/etc"])
    }
    // A bad season is still the usage error reported, whatever else is wrong.
    #expect(
      throws: CommandFailure(
        .usage, "error: invalid season 'bogus': expected a season like 2022-23, its start year 2022, or current")
    ) {
      try resolve(["--db", "x", "--season", "bogus", "--config", "/nonexistent.json"])
    }
  }

  /// A folder given as --feature-set was looked up as a name ("no Schemas/features//tmp.json");
  /// a file given as build's --out failed with "mkdir failed: Not a directory".
  @Test func pathsOfTheWrongKindAreNamedAsSuch() throws {
    #expect(
      throws: CommandFailure(
        .unusableInput,
        "error: --feature-set /tmp: expected a feature-set name (props_v1) or the path of its .json spec")
    ) { try FeatureSetLocation.locate("/tmp") }
    let file = NSTemporaryDirectory() + "/out-is-a-file-\(getpid())"
    #expect(FileManager.default.createFile(atPath: file, contents: Data()))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let build = try BuildCommand.parse(["--db", "x.sqlite", "--season", "2022-23", "--out", file])
    #expect(
      throws: CommandFailure(
        .unusableInput, "error: --out \(file): is a file, not a folder (the root of the snapshots, Datasets by default)"
      )
    ) { try build.run() }
  }

  /// A window that leaves a season asked for no day would build it empty: a usage error
  /// naming the dates and the season's span, before the database is opened.
  @Test func windowOutsideASeasonIsAUsageError() throws {
    #expect(
      throws: CommandFailure(
        .usage,
        "error: --start-date 2021-11-01 and --end-date 2021-12-01 leave no day of season 2022-23 (--season 2022-23: by the date rule it runs from 2022-10-01 to 2023-09-30)"
      )
    ) { try resolve(["--db", "x", "--season", "2022-23", "--start-date", "2021-11-01", "--end-date", "2021-12-01"]) }
    #expect(
      throws: CommandFailure(
        .usage,
        "error: --start-date yesterday (2023-01-14) leaves no day of season 2021-22 (--season 2021: by the date rule it runs from 2021-10-01 to 2022-09-30)"
      )
    ) { try resolve(["--db", "x", "--season", "2022", "--season", "2021", "--start-date", "yesterday"]) }
    // Touching the season's span by one day is enough.
    #expect(try resolve(["--db", "x", "--season", "2022", "--end-date", "2022-10-01"]).seasonYears == [2022])
  }
}

extension CommandFailure: Equatable {
  public static func == (a: CommandFailure, b: CommandFailure) -> Bool {
    a.status == b.status && a.message == b.message
  }
}

@Suite struct ReportTests {
  static let report = GateReport(
    database: "league.sqlite",
    seasons: [
      SeasonExpectation(
        season: "2022-23", dateSource: "pgs", openingNight: "2022-10-18", bootstrapEnds: "2022-10-31", gameDates: 164,
        expectedDates: 150)
    ],
    startDate: nil, endDate: nil, thresholds: .defaults,
    gates: [
      GateResult(
        name: "pcf_date_coverage", status: .fail, figure: "PCF covers 146 of 150 expected dates (97.3 %)", value: 97.33,
        threshold: "fail below 98 %", summary: "missing: 2023-01-04, 2023-01-05, 2023-01-06, … (4 in all)",
        evidence: ["2023-01-04", "2023-01-05", "2023-01-06", "2023-01-07"]),
      GateResult(
        name: "constant_features", status: .warn, figure: "1 of 5 factors constant", value: 100, threshold: "warn",
        summary: "pace_score: constant 0", evidence: ["pace_score: constant 0"]),
    ])

  @Test func tableIsWhatThePersonSees() {
    #expect(
      GateTable.render(Self.report, colour: false) == """
        database league.sqlite
        season 2022-23: 164 game dates (PGS game dates), opening night 2022-10-18, bootstrap through 2022-10-31; 150 expected PCF dates

        status  gate               figure                                         threshold        evidence
        FAIL    pcf_date_coverage  PCF covers 146 of 150 expected dates (97.3 %)  fail below 98 %  missing: 2023-01-04, 2023-01-05, 2023-01-06, … (4 in all)
        WARN    constant_features  1 of 5 factors constant                        warn             pace_score: constant 0

        1 gate failed (pcf_date_coverage): refusing

        """)
  }

  /// Eight seasons' figures joined on one line ran to 866 characters (session 13 review): a
  /// table shows them one season to a line; JSON and manifests keep the joined form.
  @Test func severalSeasonsFiguresGoOneToALine() {
    let seasons = ["2021-22", "2022-23"]
    #expect(
      GateResult.figureLines("2021-22: a; b; 2022-23: c (1; 2)", seasons: seasons) == [
        "2021-22: a; b", "2022-23: c (1; 2)",
      ])
    #expect(
      GateResult.figureLines("0 duplicate keys in PGS; 0 in PCF", seasons: seasons) == [
        "0 duplicate keys in PGS; 0 in PCF"
      ])
    #expect(GateResult.figureLines("2021-22: a; 2022-23: b", seasons: ["2021-22"]) == ["2021-22: a; 2022-23: b"])
    var report = Self.report
    report.seasons.insert(
      SeasonExpectation(
        season: "2021-22", dateSource: "pgs", openingNight: "2021-10-19", bootstrapEnds: "2021-11-01", gameDates: 165,
        expectedDates: 147), at: 0)
    report.gates[0].figure =
      "2021-22: PCF covers 147 of 147 expected dates (100.0 %); 2022-23: PCF covers 146 of 150 expected dates (97.3 %)"
    let lines = GateTable.render(report, colour: false).split(separator: "\n", omittingEmptySubsequences: false)
    let at = lines.firstIndex { $0.hasPrefix("FAIL") }!
    #expect(
      lines[at].hasPrefix(
        "FAIL    pcf_date_coverage  2021-22: PCF covers 147 of 147 expected dates (100.0 %)  fail below 98 %  missing:")
    )
    #expect(lines[at + 1] == "                           2022-23: PCF covers 146 of 150 expected dates (97.3 %)")
    #expect(lines[at + 2].hasPrefix("WARN    constant_features  1 of 5 factors constant "))
  }

  /// Past eight seasons a table names the seasons that failed, then those that warned (equal
  /// figures on one line), and counts the rest: a 75-season backfill printed 755 lines, and a
  /// failed gate's first line showed a season that had passed (session 14 review).
  @Test func manySeasonsFoldToTheOnesThatFailedOrWarned() {
    var report = Self.report
    let labels = (2010..<2020).map { Season.label($0) }
    report.seasons = labels.map {
      SeasonExpectation(
        season: $0, dateSource: "pgs", openingNight: nil, bootstrapEnds: nil, gameDates: 1, expectedDates: 1)
    }
    report.gates[0].seasons = labels.map {
      GateResult.SeasonVerdict(season: $0, status: .pass, figure: "PCF covers 150 of 150")
    }
    report.gates[0].seasons[7] = .init(season: labels[7], status: .fail, figure: "PCF covers 140 of 150")
    report.gates[0].seasons[3] = .init(season: labels[3], status: .fail, figure: "PCF covers 141 of 150")
    report.gates[1].seasons = labels.map {
      GateResult.SeasonVerdict(season: $0, status: .warn, figure: "1 of 5 factors constant")
    }
    let lines = GateTable.render(report, colour: false).split(separator: "\n").map(String.init)
    let at = lines.firstIndex { $0.hasPrefix("FAIL") }!
    #expect(lines[at].hasPrefix("FAIL    pcf_date_coverage  2013-14: PCF covers 141 of 150 "))
    #expect(lines[at + 1].trimmingCharacters(in: .whitespaces) == "2017-18: PCF covers 140 of 150")
    #expect(lines[at + 2].trimmingCharacters(in: .whitespaces) == "8 other seasons pass")
    #expect(
      lines[at + 3].hasPrefix(
        "WARN    constant_features  10 seasons (2010-11, 2011-12, 2012-13, …): 1 of 5 factors constant "))
    #expect(lines[at + 4].isEmpty || lines[at + 4].hasPrefix("1 gate failed"))
    // Up to eight seasons, every season's figure, as before.
    report.gates[0].seasons = Array(report.gates[0].seasons.prefix(8))
    report.gates[0].figure = labels.prefix(8).map { "\($0): x" }.joined(separator: "; ")
    report.seasons = Array(report.seasons.prefix(8))
    let eight = GateTable.render(report, colour: false).split(separator: "\n").map(String.init)
    let first = eight.firstIndex { $0.hasPrefix("FAIL") }!
    #expect(eight[first].hasPrefix("FAIL    pcf_date_coverage  2010-11: x "))
    #expect(eight[first + 7].trimmingCharacters(in: .whitespaces) == "2017-18: x")
  }

  /// `show` of a 75-season snapshot printed 837 lines; a manifest has no per-season verdicts,
  /// so past eight seasons it shows the seasons its evidence names, worst first.
  @Test func showFoldsToTheSeasonsTheEvidenceNames() {
    let labels = (2010..<2020).map { Season.label($0) }
    let figure = labels.map { "\($0): figure of \($0)" }.joined(separator: "; ")
    var g = Manifest.GateRecord(
      name: "usage_rate_coverage", status: "fail", figure: figure, value: 40, threshold: "t",
      evidence: [
        "all rows lack inputs", "2017-18: usage_rate on 40 %", "2013-14 2014-01: month at 80 %", "2017-18 again",
      ],
      evidenceTotal: 4, override: nil)
    #expect(
      ShowCommand.figureLines(g, seasons: labels) == [
        "2017-18: figure of 2017-18", "2013-14: figure of 2013-14", "8 other seasons: `show --json` has each figure",
      ])
    g.evidence = []
    #expect(ShowCommand.figureLines(g, seasons: labels) == ["10 seasons: `show --json` has each figure"])
    #expect(ShowCommand.figureLines(g, seasons: Array(labels.prefix(8))).count == 8)
  }

  @Test func colourOnlyOnTheStatusWhenAsked() {
    let text = GateTable.render(Self.report, colour: true)
    #expect(text.contains("\u{1B}[31mFAIL  \u{1B}[0m  pcf_date_coverage"))
    #expect(text.contains("\u{1B}[33mWARN  \u{1B}[0m  constant_features"))
  }

  @Test func jsonRoundTripsWithStableNames() throws {
    let text = Self.report.json()
    let decoded = try JSONDecoder().decode(GateReport.self, from: Data(text.utf8))
    #expect(decoded == Self.report)
    let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    #expect(
      Set(object.keys) == [
        "database", "seasons", "start_date", "end_date", "thresholds", "gates", "passed", "counts", "notes",
      ])
    let gate = try #require((object["gates"] as? [[String: Any]])?.first)
    #expect(
      Set(gate.keys) == [
        "name", "status", "figure", "value", "threshold", "summary", "evidence", "evidence_total", "overridden",
        "override_reason",
      ])
    #expect(object["passed"] as? Bool == false)
  }

  @Test func evidenceIsCappedWithItsTotal() {
    let r = GateResult(
      name: "x", status: .fail, figure: "", value: nil, threshold: "", summary: "", evidence: (0..<45).map(String.init))
    #expect(r.evidence == (0..<20).map(String.init))
    #expect(r.evidenceTotal == 45)
  }
}
