import Columnar

/// `player_game_summary` (Phase 3), one entry per row read, as typed columns.
/// Column meanings are in `../shared/spec/source-tables.md` and `Schemas/source.sql`.
public struct PlayerGameSummary: Sendable, Equatable {
  public var rowid: [Int64] = []
  public var playerLookup = StringColumn()
  public var playerFullName = StringColumn()
  public var universalPlayerId = StringColumn()
  public var gameId = StringColumn()
  public var gameDate = Column<Date32>()
  public var seasonYear = Column<Int32>()
  public var teamAbbr = StringColumn()
  public var opponentTeamAbbr = StringColumn()
  public var isHome = Column<Bool>()
  public var minutesPlayed = Column<Double>()
  public var points = Column<Int32>()
  public var fgMakes = Column<Int32>()
  public var fgAttempts = Column<Int32>()
  public var threePtMakes = Column<Int32>()
  public var threePtAttempts = Column<Int32>()
  public var ftMakes = Column<Int32>()
  public var ftAttempts = Column<Int32>()
  public var offensiveRebounds = Column<Int32>()
  public var defensiveRebounds = Column<Int32>()
  public var assists = Column<Int32>()
  public var steals = Column<Int32>()
  public var blocks = Column<Int32>()
  public var turnovers = Column<Int32>()
  public var personalFouls = Column<Int32>()
  public var plusMinus = Column<Int32>()
  public var usageRate = Column<Double>()
  public var isDnp = Column<Bool>()
  /// Microseconds since 1970-01-01T00:00:00Z; NULL when the source had none.
  public var processedAt = Column<Int64>()

  public init() {}

  public var count: Int { rowid.count }

  /// The spec's ACTIVE row: `is_dnp` is not 1 and `minutes_played > 0`. Every coverage
  /// percentage and every rolling window counts these rows only.
  public func isActive(_ i: Int) -> Bool {
    if isDnp.validity[i] && isDnp.values[i] { return false }
    return minutesPlayed.validity[i] && minutesPlayed.values[i] > 0
  }

  /// Not marked as a DNP: `is_dnp` 0 or NULL (unknown). An active row has minutes by
  /// definition, so a lost minutes_played shows only among these rows; with `is_dnp = 0`
  /// alone, an export whose is_dnp was NULL lost 5 % of its played rows (minutes NULL) with
  /// every gate passing (a spec audit, session 18).
  public func isNotMarkedDNP(_ i: Int) -> Bool { !(isDnp.validity[i] && isDnp.values[i]) }

  /// The integer box-score columns by their SQL name, in table order.
  public var integerStatColumns: [(name: String, column: Column<Int32>)] {
    [
      ("points", points), ("fg_makes", fgMakes), ("fg_attempts", fgAttempts),
      ("three_pt_makes", threePtMakes), ("three_pt_attempts", threePtAttempts),
      ("ft_makes", ftMakes), ("ft_attempts", ftAttempts),
      ("offensive_rebounds", offensiveRebounds), ("defensive_rebounds", defensiveRebounds),
      ("assists", assists), ("steals", steals), ("blocks", blocks), ("turnovers", turnovers),
      ("personal_fouls", personalFouls), ("plus_minus", plusMinus),
    ]
  }
}

/// `player_composite_factors` (Phase 4).
public struct PlayerCompositeFactors: Sendable, Equatable {
  public var rowid: [Int64] = []
  public var playerLookup = StringColumn()
  public var gameDate = Column<Date32>()
  public var gameId = StringColumn()
  public var fatigueScore = Column<Int32>()
  public var shotZoneMismatchScore = Column<Double>()
  public var paceScore = Column<Double>()
  public var usageSpikeScore = Column<Double>()
  public var totalCompositeAdjustment = Column<Double>()
  public var calculationVersion = StringColumn()
  public var processedAt = Column<Int64>()

  public init() {}

  public var count: Int { rowid.count }

  /// `other`'s rows after these.
  public mutating func append(contentsOf other: PlayerCompositeFactors) {
    rowid += other.rowid
    for i in 0..<other.count {
      playerLookup.append(other.playerLookup[i])
      gameDate.append(other.gameDate[i])
      gameId.append(other.gameId[i])
      fatigueScore.append(other.fatigueScore[i])
      shotZoneMismatchScore.append(other.shotZoneMismatchScore[i])
      paceScore.append(other.paceScore[i])
      usageSpikeScore.append(other.usageSpikeScore[i])
      totalCompositeAdjustment.append(other.totalCompositeAdjustment[i])
      calculationVersion.append(other.calculationVersion[i])
      processedAt.append(other.processedAt[i])
    }
  }
}

/// The optional `schedule` table.
public struct Schedule: Sendable, Equatable {
  public var gameId = StringColumn()
  public var gameDate = Column<Date32>()
  public var seasonYear = Column<Int32>()
  public var homeTeamAbbr = StringColumn()
  public var awayTeamAbbr = StringColumn()

  public init() {}

  public var count: Int { gameDate.count }
}

/// Everything one build reads from the database, for the requested seasons.
public struct SourceData: Sendable {
  /// The database file as given.
  public var path: String
  /// Season start years requested, ascending.
  public var seasons: [Int]
  public var pgs: PlayerGameSummary
  /// PCF rows whose game_date falls in a requested season (by the date rule), then those on
  /// the dates of PGS rows read whose date the rule puts in a season not requested.
  public var pcf: PlayerCompositeFactors
  /// nil when the database has no `schedule` table.
  public var schedule: Schedule?
  /// PGS rows filed under the season before or after a requested one (not itself requested)
  /// that the date rule puts in the requested season: rows its selection by season_year leaves
  /// out. Nearly all are filed under the wrong year, and its files would lack them without a
  /// word; the gates judge them (`Season.reasonFiledElsewhere`).
  public var rowsFiledNextDoor: [RowFiledNextDoor] = []
  /// The playing span (`Season.Borders.playingSpans`) of the seasons not requested that
  /// `Season.reasonFiledElsewhere` asks about, read from their own rows: a season a row read is
  /// dated in, and the season before a requested one when rows of it are dated in that one.
  public var playingSpansNotRead: [Int: ClosedRange<Date32>] = [:]

  public init(path: String, seasons: [Int], pgs: PlayerGameSummary, pcf: PlayerCompositeFactors, schedule: Schedule?) {
    self.path = path
    self.seasons = seasons
    self.pgs = pgs
    self.pcf = pcf
    self.schedule = schedule
  }
}

/// How a read found its rows: what an operator needs to know why a one-season build of a large
/// export read the whole file.
public struct ReadSummary: Sendable, Equatable {
  /// Rows each table of the file holds, when the read learned it (the direct read does).
  public var pgsRowsInFile: Int?
  public var pcfRowsInFile: Int?
  /// Whether an index on the table's selector chose the pages read (SelectorIndex.swift).
  public var pgsIndexed = false
  public var pcfIndexed = false

  public init(pgsRowsInFile: Int? = nil, pcfRowsInFile: Int? = nil, pgsIndexed: Bool = false, pcfIndexed: Bool = false)
  {
    self.pgsRowsInFile = pgsRowsInFile
    self.pcfRowsInFile = pcfRowsInFile
    self.pgsIndexed = pgsIndexed
    self.pcfIndexed = pcfIndexed
  }

  /// Tables read whole for a small part of their rows, for want of an index on their selector:
  /// (table, selector, rows in the file, rows selected). A part is small below a quarter, and a
  /// table matters from 200,000 rows (reading that many costs tens of milliseconds).
  public func unindexedScans(pgsSelected: Int, pcfSelected: Int) -> [(
    table: String, selector: String, rows: Int, selected: Int
  )] {
    var out: [(String, String, Int, Int)] = []
    if !pgsIndexed, let rows = pgsRowsInFile, rows >= 200_000, pgsSelected * 4 < rows {
      out.append(("player_game_summary", "season_year", rows, pgsSelected))
    }
    if !pcfIndexed, let rows = pcfRowsInFile, rows >= 200_000, pcfSelected * 4 < rows {
      out.append(("player_composite_factors", "game_date", rows, pcfSelected))
    }
    return out
  }
}

/// Season rules from source-tables.md.
public enum Season {
  /// The PGS `season_year` values a source may hold: seasons whose every day (1 October to
  /// 30 September) is a `YYYY-MM-DD` date. Any other stored value is refused by every read
  /// path, naming the row: a `season_year` of -9223372036854775808 is damage, not a season, and
  /// arithmetic on it (labels, spans of seasons) would trap.
  public static let storedYears: ClosedRange<Int> = 0...9998

  /// The season start year of a game date: October or later belongs to that year's season,
  /// earlier dates to the previous one.
  public static func startYear(of date: Date32) -> Int { startYear(of: CivilDate(date)) }

  /// `startYear(of:)` of a calendar date: the one place the October rule is written.
  @inline(__always) public static func startYear(of date: CivilDate) -> Int {
    date.month >= 10 ? date.year : date.year - 1
  }

  /// The season start year of an ISO `YYYY-MM-DD` text, nil when it is not a real date: how
  /// the direct read selects PCF rows, from a record or from an index entry alike.
  static func ofISODate(_ raw: UnsafeBufferPointer<UInt8>) -> Int64? {
    CivilDate.parse(isoBytes: raw).map { Int64(startYear(of: $0)) }
  }

  /// The start year of a season label `YYYY-YY` whose second part is the year after
  /// (`label`'s inverse); nil for anything else. Checked by hand: a regular expression here
  /// initialised ICU's regex engine, 2 ms of a build's first season's critical path.
  public static func startYear(ofLabel label: String) -> Int? {
    let u = Array(label.utf8)
    guard u.count == 7, u[4] == UInt8(ascii: "-") else { return nil }
    var digits: [Int] = []
    for (i, b) in u.enumerated() where i != 4 {
      guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) else { return nil }
      digits.append(Int(b - UInt8(ascii: "0")))
    }
    let year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3]
    return digits[4] * 10 + digits[5] == (year + 1) % 100 ? year : nil
  }

  /// "2022-23" for 2022.
  public static func label(_ startYear: Int) -> String {
    // 9999 is no storable season (its dates run into year 10000), but a date window can still
    // reach it, and a message must name it as a season.
    guard (storedYears.lowerBound...storedYears.upperBound + 1).contains(startYear) else {
      return "season_year \(startYear)"
    }
    // Four digits always, so a label reads back through `startYear(ofLabel:)` for any year.
    let year = String(startYear), next = (startYear + 1) % 100
    return String(repeating: "0", count: 4 - year.count) + year + "-" + (next < 10 ? "0" : "") + String(next)
  }

  /// Labels of seasons for a message, runs of three or more consecutive seasons written as
  /// their ends: "2015-16 to 2088-89 (74 seasons), 2090-91". A date window opened in year 1 by a
  /// typo spans two thousand seasons, and a note naming each one ran to 17 KB.
  public static func labels(_ startYears: [Int]) -> String {
    var parts: [String] = []
    var i = 0
    let years = startYears.sorted()
    while i < years.count {
      var j = i
      while j + 1 < years.count && years[j + 1] == years[j] + 1 { j += 1 }
      if j - i >= 2 {
        parts.append("\(label(years[i])) to \(label(years[j])) (\(j - i + 1) seasons)")
      } else {
        parts.append(contentsOf: years[i...j].map(label))
      }
      i = j + 1
    }
    return parts.joined(separator: ", ")
  }

  /// The first and last calendar day a season's games can fall on (by the date rule).
  public static func dateRange(_ startYear: Int) -> ClosedRange<Date32> {
    CivilDate(year: startYear, month: 10, day: 1)!.date32...CivilDate(year: startYear + 1, month: 9, day: 30)!.date32
  }

  /// How PGS rows sit against the date rule, in one pass: what the reader needs to fetch across
  /// a season's border and what game_integrity judges (a row filed under the wrong season).
  public struct Borders: Sendable, Equatable {
    /// Per season_year: the first … last game_date of its rows that the date rule agrees with,
    /// the dates the season's games are played on.
    public var playingSpans: [Int: ClosedRange<Date32>] = [:]
    /// Rows whose game_date the rule puts in another season than their season_year, ascending:
    /// the 2020 Finals (October 2020, filed under 2019), or a row filed under the wrong year.
    public var rowsOutsideTheirSeason: [Int] = []

    public init() {}
  }

  /// `Borders` of `pgs`. Rows with a NULL date or season are left out. The date range is looked
  /// up once per run of one season_year (rows come season by season), so a row costs two
  /// compares.
  public static func borders(of pgs: PlayerGameSummary) -> Borders {
    borders(dates: pgs.gameDate, seasonYears: pgs.seasonYear)
  }

  /// `borders(of:)` over the two columns it reads, for rows held in another shape (the direct
  /// read's rows of the neighbouring seasons).
  static func borders(dates: Column<Date32>, seasonYears: Column<Int32>) -> Borders {
    var out = Borders()
    var year = Int32.min
    var range = Date32(daysSinceEpoch: 0)...Date32(daysSinceEpoch: 0)
    var lo = Int32.max, hi = Int32.min
    func flush() {
      guard lo <= hi else { return }
      let run = Date32(daysSinceEpoch: lo)...Date32(daysSinceEpoch: hi)
      if let known = out.playingSpans[Int(year)] {
        out.playingSpans[Int(year)] =
          min(known.lowerBound, run.lowerBound)...max(known.upperBound, run.upperBound)
      } else {
        out.playingSpans[Int(year)] = run
      }
    }
    for i in 0..<dates.count where dates.validity[i] && seasonYears.validity[i] {
      let d = dates.values[i]
      if seasonYears.values[i] != year {
        flush()
        year = seasonYears.values[i]
        range = dateRange(Int(year))
        (lo, hi) = (Int32.max, Int32.min)
      }
      if range.contains(d) {
        lo = min(lo, d.daysSinceEpoch)
        hi = max(hi, d.daysSinceEpoch)
      } else {
        out.rowsOutsideTheirSeason.append(i)
      }
    }
    flush()
    return out
  }
}

extension Season {
  /// How long after its season's last day by the date rule (30 September) a season's own
  /// games may still reach for a game after that day to count as its late game: the 2020
  /// Finals ran from 30 September to 11 October 2020, continuing 2019-20's games without a
  /// pause. A playoff round does not pause two weeks; a season whose games ended in June does
  /// not have a game in October.
  public static let lateGameReachDays = 14

  /// Why a PGS row filed under season `label` and dated `date` belongs to another season, or
  /// nil when it is the label's game: dated in the label's season by the date rule, or a late
  /// game of it (after its last day, while its own games run up to that day, and before the next
  /// season's first game). `playingSpan` gives a season's `Borders.playingSpans` entry, nil
  /// when it has no game that the rule agrees with.
  public static func reasonFiledElsewhere(
    filedUnder label: Int, date: Date32, playingSpan: (Int) -> ClosedRange<Date32>?
  ) -> String? {
    let season = startYear(of: date)
    guard season != label else { return nil }
    let day = CivilDate(date).description
    if season < label {
      return "by the date rule \(day) is in \(Self.label(season)), before \(Self.label(label)) began"
    }
    let lastDay = dateRange(label).upperBound
    if season > label + 1 {
      return "by the date rule \(day) is in \(Self.label(season)), over a year after \(Self.label(label)) ended"
    }
    guard let own = playingSpan(label) else {
      return
        "by the date rule \(day) is in \(Self.label(season)), and \(Self.label(label)) has no game of its own to continue"
    }
    if lastDay.days(since: own.upperBound) > lateGameReachDays {
      return
        "by the date rule \(day) is in \(Self.label(season)), and \(Self.label(label))'s own games end on \(CivilDate(own.upperBound)): no late game of it"
    }
    if let next = playingSpan(season), date >= next.lowerBound {
      return
        "\(Self.label(season))'s games began on \(CivilDate(next.lowerBound)): no late game of \(Self.label(label))"
    }
    return nil
  }
}

/// A PGS row filed under the season before or after a requested one (not requested), dated in
/// the requested season by the date rule.
public struct RowFiledNextDoor: Sendable, Equatable {
  public var rowid: Int64
  public var playerLookup: String
  public var gameId: String
  public var gameDate: Date32
  public var seasonYear: Int

  public init(rowid: Int64, playerLookup: String, gameId: String, gameDate: Date32, seasonYear: Int) {
    self.rowid = rowid
    self.playerLookup = playerLookup
    self.gameId = gameId
    self.gameDate = gameDate
    self.seasonYear = seasonYear
  }
}
