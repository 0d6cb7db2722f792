import ArgumentParser
import Columnar
import Foundation
import Gates
import Pipeline
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

  /// `note: …` on stderr, at once and also under --quiet: a note says what the run checked or
  /// what the snapshot will hold.
  static let printNote: @Sendable (String) -> Void = { FileHandleOutput.standardError.write("note: \($0)\n") }

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
      overrides: overrides, resolvedAtMicros: now, onNote: Self.printNote)
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
