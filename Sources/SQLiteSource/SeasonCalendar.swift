import Columnar

/// A season's game dates, opening night and bootstrap days, by the rule of source-tables.md
/// and features-props-v1.md: the schedule table when it has rows for the season, else the
/// distinct PGS game dates. Gates and Features both take bootstrap days from here, so the rule
/// lives in one place.
public struct SeasonCalendar: Sendable, Equatable {
  public enum DateSource: String, Sendable, Codable { case schedule, pgs }

  /// Days 0…13 counted from opening night are bootstrap days: no PCF rows, no feature rows.
  public static let bootstrapDays = 14

  public let season: Int
  /// Distinct game dates, ascending.
  public let gameDates: [Date32]
  public let dateSource: DateSource

  public init(season: Int, gameDates: [Date32], dateSource: DateSource) {
    self.season = season
    self.gameDates = Array(Set(gameDates)).sorted()
    self.dateSource = dateSource
  }

  public var openingNight: Date32? { gameDates.first }

  public func isBootstrap(_ date: Date32) -> Bool {
    guard let opening = openingNight else { return false }
    let day = date.days(since: opening)
    return day >= 0 && day < Self.bootstrapDays
  }

  /// Game dates that are not bootstrap days: the dates PCF must cover.
  public var expectedDates: [Date32] { gameDates.filter { !isBootstrap($0) } }

  /// One calendar per requested season of `source`.
  public static func calendars(for source: SourceData) -> [Int: SeasonCalendar] {
    var scheduleDates: [Int: [Date32]] = [:]
    if let schedule = source.schedule {
      for i in 0..<schedule.count {
        guard let season = schedule.seasonYear[i], let date = schedule.gameDate[i] else { continue }
        scheduleDates[Int(season), default: []].append(date)
      }
    }
    var pgsDates: [Int: Set<Date32>] = [:]
    let pgs = source.pgs
    for i in 0..<pgs.count {
      guard let season = pgs.seasonYear[i], let date = pgs.gameDate[i] else { continue }
      pgsDates[Int(season), default: []].insert(date)
    }
    var out: [Int: SeasonCalendar] = [:]
    for season in source.seasons {
      if let dates = scheduleDates[season], !dates.isEmpty {
        out[season] = SeasonCalendar(season: season, gameDates: dates, dateSource: .schedule)
      } else {
        out[season] = SeasonCalendar(season: season, gameDates: Array(pgsDates[season] ?? []), dateSource: .pgs)
      }
    }
    return out
  }
}
