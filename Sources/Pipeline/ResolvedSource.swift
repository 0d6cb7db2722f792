import Columnar
import Gates
import SQLiteSource

/// What `--db`, `--season`, the dates, `--config` and `--override` resolved to (the CLI's
/// `SourceOptions` parses them), and the rules every command that reads the source applies to
/// them: seasons the dates span, an empty window, seasons the database lacks.
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
  public func requireRowsInWindow(_ data: SourceData) throws(CommandFailure) -> [ResolvedSeason] {
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
  public mutating func readSeasons<T>(from reader: SourceReader, _ read: ([Int]) throws(SourceError) -> T)
    throws(SourceError)
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
  public mutating func widenOpenWindow(_ reader: SourceReader) throws(SourceError) {
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
  public mutating func noteSeasonsWithoutRows(_ empty: [ResolvedSeason]) {
    guard !empty.isEmpty else { return }
    note(
      "no player_game_summary rows\(windowText) in season \(Season.labels(empty.map(\.startYear))), which the dates "
        + "span; `dataset build` leaves it out")
  }

  /// Keeps `text` for the JSON report and hands it to `onNote` at once (the CLI writes
  /// `note: text` on stderr, also under --quiet: notes say what the run checked or will hold).
  public mutating func note(_ text: String) {
    notes.append(text)
    onNote?(text)
  }

  /// " from 2023-01-01 to 2023-01-31", " from …" or " to …" as given; "" without a window.
  public var windowText: String {
    [startDate.map { " from \($0.date)" }, endDate.map { " to \($0.date)" }].compactMap { $0 }.joined()
  }
}

public struct ResolvedSeason: Codable, Equatable, Sendable {
  public var given: String
  public var startYear: Int
  public var label: String

  public init(given: String, startYear: Int, label: String) {
    self.given = given
    self.startYear = startYear
    self.label = label
  }

  /// The season that starts in `startYear`, as `--season 2022-23` gives it: its label from
  /// the date rule (`Season.label`), so it cannot disagree with the year.
  public init(startYear: Int) {
    self.init(given: Season.label(startYear), startYear: startYear, label: Season.label(startYear))
  }

  /// Worked out from --start-date/--end-date, not given with --season.
  public var isFromDates: Bool { given == Self.fromDates }
  public static let fromDates = "from dates"
}

/// Everything a run decided before reading a row: recorded as is in reports and manifests.
public struct ResolvedSource: Sendable {
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

  /// Called with each note as it is made, on the thread that made it; nil keeps them in
  /// `notes` only.
  public var onNote: (@Sendable (String) -> Void)?

  /// `resolvedAtMicros` is the instant the date keywords were resolved at, which the manifest
  /// records when a keyword was given; by default now.
  public init(
    database: String, seasons: [ResolvedSeason], startDate: ResolvedDate? = nil, endDate: ResolvedDate? = nil,
    thresholds: GateConfig = .defaults, configSources: [String] = [], overrides: [GateOverride] = [],
    resolvedAtMicros: Int64 = WallClock.system.nowMicros(), onNote: (@Sendable (String) -> Void)? = nil
  ) {
    self.database = database
    self.seasons = seasons
    self.startDate = startDate
    self.endDate = endDate
    self.thresholds = thresholds
    self.configSources = configSources
    self.overrides = overrides
    self.resolvedAtMicros = resolvedAtMicros
    self.onNote = onNote
  }

  public var seasonYears: [Int] { seasons.map(\.startYear) }

  /// What `SourceOptions` never produces and a hand-made value can hold, each of which made a
  /// version that `verify` then failed (a library review): a season whose label is not its
  /// year's, none at all, a window that ends before it starts, and an override of an unknown
  /// gate, of point_in_time, twice, or without a reason. A usage failure (exit 1).
  public func check() throws(CommandFailure) {
    func refuse(_ text: String) -> CommandFailure { CommandFailure(.usage, "error: \(text)") }
    guard !seasons.isEmpty else { throw refuse("no season: give at least one season to build") }
    for s in seasons where s.label != Season.label(s.startYear) {
      throw refuse(
        "season \(s.label) starting in \(s.startYear): expected the label \(Season.label(s.startYear)) "
          + "(ResolvedSeason(startYear:) gives it)")
    }
    if let start = startDate, let end = endDate, start.date32 > end.date32 {
      throw refuse("start date \(start.date) is after end date \(end.date)")
    }
    var seen = Set<String>()
    for o in overrides {
      let gate: GateName
      do { gate = try GateName.parse(o.gate) } catch { throw refuse("override: \(error.message)") }
      guard gate != .pointInTime else {
        throw refuse("override point_in_time: the point-in-time check cannot be overridden")
      }
      guard seen.insert(o.gate).inserted else { throw refuse("override \(o.gate) is given twice") }
      guard !o.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw refuse("override \(o.gate) needs a non-empty reason")
      }
    }
  }
  public var window: GateWindow { GateWindow(start: startDate?.date32, end: endDate?.date32) }
}
