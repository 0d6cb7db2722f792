import ArgumentParser
import Columnar
import Foundation
import Gates
import SQLiteSource

/// The options every command that reads the source database shares (`validate`, `build`):
/// which database, which seasons and dates, which thresholds, which overrides. Parsing stays
/// here; `resolve(clock:)` turns them into one `ResolvedSource` the library and the manifest use.
public struct SourceOptions: ParsableArguments {
  @Option(
    name: .long,
    help: ArgumentHelp(
      "The SQLite database holding player_game_summary and player_composite_factors.", valueName: "file"))
  public var db: String

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Season to read: 2022-23, its start year 2022, or current (the season containing today in America/New_York). Repeat for several.",
      valueName: "season"))
  public var season: [String] = []

  @Option(
    name: .customLong("start-date"),
    help: ArgumentHelp(
      "First game date considered: YYYY-MM-DD, today, yesterday, tomorrow or today-N (America/New_York).",
      valueName: "date"))
  public var startDate: String?

  @Option(
    name: .customLong("end-date"),
    help: ArgumentHelp("Last game date considered, same forms as --start-date.", valueName: "date"))
  public var endDate: String?

  @Option(
    name: .long,
    help: ArgumentHelp("JSON file of gate thresholds overriding Schemas/gates.default.json.", valueName: "file"))
  public var config: String?

  @Option(
    name: .long,
    help: ArgumentHelp("Let a failed gate through (needs a --reason; repeat both for several).", valueName: "gate"))
  public var override: [String] = []

  @Option(
    name: .long,
    help: ArgumentHelp(
      "Why the matching --override is acceptable; recorded in the report and manifest.", valueName: "text"))
  public var reason: [String] = []

  public init() {}

  /// Checks every option and resolves the date keywords against `clock`. Throws
  /// `CommandFailure(.usage, …)` naming the bad value and the accepted forms.
  public func resolve(clock: WallClock = .system, defaultsFile: String? = GateConfig.locateDefaultsFile())
    throws(CommandFailure)
    -> ResolvedSource
  {
    do {
      return try resolveOrThrow(clock: clock, defaultsFile: defaultsFile)
    } catch {
      // A file that cannot be read is input that cannot be used (exit 3, as for --db and
      // --feature-set); what a readable config says is part of the command line (exit 1).
      // Seasons and dates are parsed first, so a bad one is still the usage error reported.
      if let config,
        [Self.unreadableConfig(config), Self.unreadableConfig(config, why: Self.configIsFolder)].contains(error)
      {
        throw CommandFailure(.unusableInput, "error: \(error.message)")
      }
      throw CommandFailure(.usage, "error: \(error.message)")
    }
  }

  static let configIsFolder = "is a folder, expected a JSON file of thresholds"

  static func unreadableConfig(_ path: String, why: String = "no such readable file") -> UsageError {
    UsageError("--config \(path): \(why)")
  }

  func resolveOrThrow(clock wall: WallClock, defaultsFile: String?) throws(UsageError) -> ResolvedSource {
    // One reading of the clock for every keyword: `--start-date yesterday --end-date yesterday`
    // read at 23:59:59.9999 and 00:00:00 Eastern would otherwise span two days, and the
    // manifest's resolved_at is this instant, not one taken after the build.
    let now = wall.nowMicros()
    let clock = WallClock { now }
    let start = try startDate.map { (s: String) throws(UsageError) -> ResolvedDate in
      ResolvedDate(given: s, expression: try DateExpression.parse(s, option: "--start-date"), clock: clock)
    }
    let end = try endDate.map { (s: String) throws(UsageError) -> ResolvedDate in
      ResolvedDate(given: s, expression: try DateExpression.parse(s, option: "--end-date"), clock: clock)
    }
    if let start, let end, start.date > end.date {
      throw UsageError("--start-date \(start.date) is after --end-date \(end.date)")
    }
    var seasons: [ResolvedSeason] = []
    for raw in season {
      let year = try SeasonSelector.parse(raw).resolve(clock: clock)
      if !seasons.contains(where: { $0.startYear == year }) {
        seasons.append(ResolvedSeason(given: raw, startYear: year, label: Season.label(year)))
      }
    }
    if seasons.isEmpty {
      // Without --season the dates say which seasons are meant.
      guard let first = start ?? end, let last = end ?? start else {
        throw UsageError("no season given: pass --season (\(SeasonSelector.acceptedForms)) or --start-date/--end-date")
      }
      for year in Season.startYear(of: first.date32)...Season.startYear(of: last.date32) {
        seasons.append(ResolvedSeason(given: ResolvedSeason.fromDates, startYear: year, label: Season.label(year)))
      }
    }
    seasons.sort { $0.startYear < $1.startYear }
    // A window that leaves a season asked for no day at all is a contradiction on the command
    // line, not an empty season: it would build nothing for it.
    if start != nil || end != nil {
      for s in seasons {
        let span = Season.dateRange(s.startYear)
        let disjoint =
          (start.map { $0.date32 > span.upperBound } ?? false) || (end.map { $0.date32 < span.lowerBound } ?? false)
        if disjoint { throw UsageError(Self.outsideSeason(s, start: start, end: end, span: span)) }
      }
    }

    var thresholds = GateConfig.defaults
    var configSources: [String] = []
    // A `Schemas/gates.default.json` found on the search path is the repository's copy, equal
    // to the built-in defaults (a test keeps them so) — unless someone edited it or left another
    // one in the working directory. Then the verdict moves without any option on the command
    // line, so it is said, even with --quiet: the manifest's thresholds alone were found too late.
    var defaultsFileChanges: [String] = []
    if let defaultsFile, let data = FileManager.default.contents(atPath: defaultsFile) {
      thresholds = try thresholds.overlaid(json: data, source: defaultsFile)
      configSources.append(defaultsFile)
      defaultsFileChanges = thresholds.differences(from: .defaults)
    }
    if let config {
      var isFolder: ObjCBool = false
      if FileManager.default.fileExists(atPath: config, isDirectory: &isFolder), isFolder.boolValue {
        throw Self.unreadableConfig(config, why: Self.configIsFolder)
      }
      guard let data = FileManager.default.contents(atPath: config) else { throw Self.unreadableConfig(config) }
      thresholds = try thresholds.overlaid(json: data, source: config)
      configSources.append(config)
    }

    guard override.count == reason.count else {
      throw UsageError(
        "\(override.count) --override but \(reason.count) --reason: each overridden gate needs its own --reason \"why\""
      )
    }
    var overrides: [GateOverride] = []
    for (gate, why) in zip(override, reason) {
      // A leak is never fit to train on: the build refuses a failed check whatever is given,
      // so an override would only be written into the manifest without having done anything.
      guard try GateName.parse(gate) != .pointInTime else {
        throw UsageError(
          "--override point_in_time: the point-in-time check cannot be overridden (a feature that sees its own game or a later one is never fit to train on)"
        )
      }
      guard !overrides.contains(where: { $0.gate == gate }) else {
        throw UsageError("--override \(gate) is given twice: give each gate one --override and one --reason")
      }
      guard !why.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw UsageError("--override \(gate) needs a non-empty --reason")
      }
      overrides.append(GateOverride(gate: gate, reason: why))
    }
    var resolved = ResolvedSource(
      database: db, seasons: seasons, startDate: start, endDate: end, thresholds: thresholds,
      configSources: configSources,
      overrides: overrides, resolvedAtMicros: now)
    if let defaultsFile, !defaultsFileChanges.isEmpty {
      resolved.note(
        "gate thresholds from \(defaultsFile) differ from the built-in defaults: \(defaultsFileChanges.joined(separator: "; "))"
          + (config.map { " (then \($0) applies)" } ?? ""))
    }
    return resolved
  }
}

extension SourceOptions {
  static func outsideSeason(
    _ season: ResolvedSeason, start: ResolvedDate?, end: ResolvedDate?, span: ClosedRange<Date32>
  ) -> String {
    func shown(_ d: ResolvedDate) -> String { d.keyword == nil ? d.date : "\(d.given) (\(d.date))" }
    let window = [start.map { "--start-date \(shown($0))" }, end.map { "--end-date \(shown($0))" }].compactMap { $0 }
    return "\(window.joined(separator: " and ")) leave\(window.count == 1 ? "s" : "") no day of season \(season.label) "
      + "(--season \(season.given): by the date rule it runs from \(span.lowerBound) to \(span.upperBound))"
  }
}

extension ResolvedSource {
  /// The window's rows: a season asked for with `--season` whose PGS rows all lie outside
  /// `--start-date`/`--end-date` (the off-season, a break without games) would pass every gate
  /// and build an empty snapshot: exit 3, like a season without rows, naming what the season
  /// does hold. Seasons the dates gave (no `--season`) may be empty, as a rolling window from
  /// July to November spans one without games; only all of them empty is an error.
  ///
  /// Returns the seasons the dates gave that hold no rows in the window (left out by `build`), so
  /// that `validate` and `report`, which check them anyway, can say so as `build` does.
  @discardableResult
  func requireRowsInWindow(_ data: SourceData) throws(CommandFailure) -> [ResolvedSeason] {
    guard startDate != nil || endDate != nil else { return [] }
    let window = self.window
    var first: [Int: Date32] = [:], last: [Int: Date32] = [:], inWindow = Set<Int>()
    let pgs = data.pgs
    for i in 0..<pgs.count where pgs.seasonYear.validity[i] && pgs.gameDate.validity[i] {
      let season = Int(pgs.seasonYear.values[i]), date = pgs.gameDate.values[i]
      if window.contains(date) { inWindow.insert(season) }
      first[season] = min(first[season] ?? date, date)
      last[season] = max(last[season] ?? date, date)
    }
    // Seasons are all given or all from the dates (`resolveOrThrow` derives them only when no
    // --season is given): given ones must each have rows, derived ones at least one of them.
    let empty = seasons.filter { !inWindow.contains($0.startYear) }
    guard !empty.isEmpty, !(seasons.contains(where: \.isFromDates) && empty.count < seasons.count) else { return empty }
    var text = "season \(empty[0].label)\(windowText)"
    if empty.count > 1 {
      text = "seasons \(Season.labels(empty.map(\.startYear)))\(windowText)"
    } else if let a = first[empty[0].startYear], let b = last[empty[0].startYear] {
      text += " (its games run \(a) to \(b))"
    }
    throw CommandFailure(
      .unusableInput, "error: \(database): no player_game_summary rows of \(text); nothing to check or build",
      reason: .noRowsInWindow)
  }

  /// Leaves out the seasons the dates gave that the database does not hold (a rolling window
  /// reaching back into a season the export no longer carries), when `error` says so and one
  /// season remains; false when the error stands as it is.
  ///
  /// `read` gets the season years and runs again, once, with those left.
  mutating func readSeasons<T>(from reader: SourceReader, _ read: ([Int]) throws(SourceError) -> T) throws(SourceError)
    -> T
  {
    try widenOpenWindow(reader)
    do {
      return try read(seasonYears)
    } catch {
      guard leaveOutSeasons(missingIn: error) else { throw error }
      return try read(seasonYears)
    }
  }

  /// A window open at one end spans every season the database holds on that side (GATES.md:
  /// "without --season, the seasons are those the window spans"): `--start-date 2022-03-01`
  /// alone means 2021-22 and every later season, not 2021-22 only. Seasons in that range
  /// that the database lacks are left out by `readSeasons`, with a note.
  mutating func widenOpenWindow(_ reader: SourceReader) throws(SourceError) {
    guard (startDate == nil) != (endDate == nil), seasons.allSatisfy(\.isFromDates), let given = seasons.first,
      let held = try reader.seasonRange()
    else { return }
    let years =
      startDate != nil
      ? given.startYear...max(given.startYear, held.upperBound)
      : min(held.lowerBound, given.startYear)...given.startYear
    seasons = years.map { ResolvedSeason(given: ResolvedSeason.fromDates, startYear: $0, label: Season.label($0)) }
  }

  private mutating func leaveOutSeasons(missingIn error: SourceError) -> Bool {
    guard case .seasonsWithoutRows(_, let missing, _) = error, seasons.allSatisfy(\.isFromDates),
      seasons.contains(where: { !missing.contains($0.startYear) })
    else { return false }
    seasons.removeAll { missing.contains($0.startYear) }
    note("\(database) holds no season \(Season.labels(missing)), which the dates span; left out")
    return true
  }

  /// For `validate` and `report`: the seasons the dates gave without a row in the window are
  /// still checked (their gates pass over nothing), and the operator is told, as `build` tells
  /// them, that no file comes of them.
  mutating func noteSeasonsWithoutRows(_ empty: [ResolvedSeason]) {
    guard !empty.isEmpty else { return }
    note(
      "no player_game_summary rows\(windowText) in season \(Season.labels(empty.map(\.startYear))), which the dates "
        + "span; `dataset build` leaves it out")
  }

  /// Writes `note: text` on stderr (also under --quiet: notes say what the run checked or
  /// will hold) and keeps it for the JSON report.
  mutating func note(_ text: String) {
    notes.append(text)
    FileHandleOutput.standardError.write("note: \(text)\n")
  }

  /// " from 2023-01-01 to 2023-01-31", " from …" or " to …" as given; "" without a window.
  var windowText: String {
    [startDate.map { " from \($0.date)" }, endDate.map { " to \($0.date)" }].compactMap { $0 }.joined()
  }
}

public struct ResolvedSeason: Codable, Equatable, Sendable {
  public var given: String
  public var startYear: Int
  public var label: String

  /// Worked out from --start-date/--end-date, not given with --season.
  public var isFromDates: Bool { given == Self.fromDates }
  static let fromDates = "from dates"
}

/// Everything a run decided before reading a row: recorded as is in reports and manifests.
public struct ResolvedSource: Equatable, Sendable {
  public var database: String
  public var seasons: [ResolvedSeason]
  public var startDate: ResolvedDate?
  public var endDate: ResolvedDate?
  public var thresholds: GateConfig
  /// Files the thresholds came from, in the order applied (defaults file, then --config).
  public var configSources: [String]
  public var overrides: [GateOverride]
  /// The one clock reading every keyword was resolved against (microseconds since the epoch).
  public var resolvedAtMicros: Int64 = 0
  /// The `note:` lines written so far, for a JSON report.
  public var notes: [String] = []

  public var seasonYears: [Int] { seasons.map(\.startYear) }
  public var window: GateWindow { GateWindow(start: startDate?.date32, end: endDate?.date32) }
}
