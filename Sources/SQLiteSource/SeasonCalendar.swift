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
    let pgsDates = distinctGameDates(source.pgs)
    var out: [Int: SeasonCalendar] = [:]
    for season in source.seasons {
      if let dates = scheduleDates[season], !dates.isEmpty {
        out[season] = SeasonCalendar(season: season, gameDates: dates, dateSource: .schedule)
      } else {
        out[season] = SeasonCalendar(season: season, gameDates: pgsDates[season] ?? [], dateSource: .pgs)
      }
    }
    return out
  }

  /// The distinct game dates of each season_year, rows with a NULL season or date left out.
  /// Per day the season of its first row is kept in an array over the span of dates (a Set per
  /// season hashed every row); a day that also holds rows of another season is rare and goes to
  /// a Set. Dates spread wider than the rows (a stray 1900-01-01) take the Set path throughout.
  static func distinctGameDates(_ pgs: PlayerGameSummary) -> [Int: [Date32]] {
    var lo = Int32.max, hi = Int32.min
    for d in pgs.gameDate.values {
      lo = min(lo, d.daysSinceEpoch)
      hi = max(hi, d.daysSinceEpoch)
    }
    var out: [Int: [Date32]] = [:]
    guard lo <= hi else { return out }
    let span = Int(hi) - Int(lo) + 1
    var other = Set<DatedSeason>()
    if span <= max(1 << 16, 2 * pgs.count) {
      let none = Int32.min
      var owner = [Int32](repeating: none, count: span)
      for i in 0..<pgs.count {
        guard let season = pgs.seasonYear[i], let date = pgs.gameDate[i] else { continue }
        let d = Int(date.daysSinceEpoch - lo)
        if owner[d] == season { continue }
        if owner[d] == none { owner[d] = season } else { other.insert(DatedSeason(season: season, date: date)) }
      }
      for d in 0..<span where owner[d] != none {
        out[Int(owner[d]), default: []].append(Date32(daysSinceEpoch: lo + Int32(d)))
      }
    } else {
      for i in 0..<pgs.count {
        guard let season = pgs.seasonYear[i], let date = pgs.gameDate[i] else { continue }
        other.insert(DatedSeason(season: season, date: date))
      }
    }
    for x in other { out[Int(x.season), default: []].append(x.date) }
    return out
  }

  private struct DatedSeason: Hashable {
    var season: Int32
    var date: Date32
  }
}
