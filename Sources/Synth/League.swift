import Columnar
import Foundation

/// A deterministic synthetic NBA for scale tests: 30 teams, rosters of 13–17 players who carry
/// their own minutes, usage and shooting from season to season (drawn from the tiers fitted on
/// the real sample), careers that end and rookies who replace them, free agency between seasons,
/// injuries that keep a player out for stretches, coach's-decision DNP rows, and trades during
/// the season (most at the deadline). `season(_:)` returns one regular season of NBA.com-style
/// player logs; calling it for consecutive years continues the same league.
public struct SynthLeague {
  public let parameters: SynthParameters
  var rng: SynthRandom
  var players: [Player] = []
  var rosters: [[Int]] = Array(repeating: [], count: ScheduleGenerator.teamCount)
  var usedLookups = Set<String>()
  var started = false

  struct Player {
    var id: Int
    var name: String
    var meanMinutes: Double
    var tier: Int
    /// Per-36 rates in `RateStat` order.
    var rates: [Double]
    var threeShare: Double
    var twoPct: Double
    var threePct: Double
    var ftPct: Double
    var seasonsLeft: Int
    /// Team games still to miss.
    var injuredGames = 0
  }

  public init(seed: UInt64, parameters: SynthParameters = .fitted) {
    self.parameters = parameters
    rng = SynthRandom(seed: seed)
  }

  /// What one season produced, with counts a test or a person can check the league shape by.
  public struct SeasonOutput: Sendable {
    public var season: Int
    public var records: [PlayerLogRecord]
    public var games: [ScheduledGame]
    /// Players who changed team during the season.
    public var tradedPlayerIds: Set<Int>
    /// Rows with 0 minutes written for a healthy player the coach did not use.
    public var dnpRows: Int
    /// Player-games missed through injury.
    public var injuredPlayerGames: Int
    /// Roster sizes on opening night, by team index.
    public var openingRosterSizes: [Int]
  }

  public mutating func season(_ year: Int) -> SeasonOutput {
    offseason()
    let openingRosterSizes = rosters.map(\.count)
    let games = ScheduleGenerator.generate(season: year, rng: &rng)
    let trades = planTrades(season: year, games: games)
    var tradeCursor = 0
    var traded = Set<Int>()
    var records: [PlayerLogRecord] = []
    records.reserveCapacity(games.count * 22)
    var dnpRows = 0
    var injured = 0
    for (n, game) in games.enumerated() {
      while tradeCursor < trades.count && trades[tradeCursor].date <= game.date {
        if let ids = applyTrade(trades[tradeCursor]) { traded.formUnion(ids) }
        tradeCursor += 1
      }
      let gameId = "002" + pad(year % 100, 2) + pad(n + 1, 5)
      simulate(game, gameId: gameId, season: year, into: &records, dnpRows: &dnpRows, injured: &injured)
    }
    return SeasonOutput(
      season: year, records: records, games: games, tradedPlayerIds: traded, dnpRows: dnpRows,
      injuredPlayerGames: injured, openingRosterSizes: openingRosterSizes)
  }

  // MARK: Rosters

  /// Ages the league by a season: careers end, a fifth of the players change team, every roster
  /// is brought to a size of 13 to 17 from free agents and then rookies.
  mutating func offseason() {
    var freeAgents: [Int] = []
    if started {
      for t in rosters.indices {
        var kept: [Int] = []
        for p in rosters[t] {
          players[p].seasonsLeft -= 1
          players[p].injuredGames = 0
          guard players[p].seasonsLeft > 0 else { continue }
          develop(p)
          if rng.chance(0.2) { freeAgents.append(p) } else { kept.append(p) }
        }
        rosters[t] = kept
      }
    }
    started = true
    for t in rosters.indices {
      let size = 13 + rng.below(5)
      while rosters[t].count > size {
        freeAgents.append(rosters[t].remove(at: rng.below(rosters[t].count)))
      }
      while rosters[t].count < size {
        if !freeAgents.isEmpty && rng.chance(0.7) {
          rosters[t].append(freeAgents.remove(at: rng.below(freeAgents.count)))
        } else {
          rosters[t].append(newPlayer())
        }
      }
    }
    // Unsigned free agents leave the league.
  }

  /// A season older: mean minutes drift, the tier follows them.
  mutating func develop(_ p: Int) {
    let m = min(40, max(2, players[p].meanMinutes + 3.0 * rng.normal()))
    players[p].meanMinutes = m
    players[p].tier = parameters.tier(forMeanMinutes: m)
  }

  mutating func newPlayer() -> Int {
    let shares = parameters.tiers.map(\.rosterShare)
    var u = rng.uniform() * shares.reduce(0, +)
    var tier = shares.count - 1
    for (i, s) in shares.enumerated() {
      if u < s {
        tier = i
        break
      }
      u -= s
    }
    let tp = parameters.tiers[tier]
    let band = tp.minutesRange
    let meanMinutes = min(band.upperBound - 0.01, max(max(band.lowerBound, 2), rng.normal(tp.meanMinutes)))
    var rates: [Double] = []
    for stat in RateStat.allCases {
      let s = tp.per36[stat] ?? Spread(mean: 0, sd: 0)
      // Log-normal around the tier's pooled rate, mean-preserving.
      rates.append(s.mean * exp(s.sd * rng.normal() - s.sd * s.sd / 2))
    }
    func clamp(_ x: Double, _ lo: Double, _ hi: Double) -> Double { min(hi, max(lo, x)) }
    let player = Player(
      id: 1_700_000 + players.count, name: uniqueName(), meanMinutes: meanMinutes, tier: tier, rates: rates,
      threeShare: clamp(rng.normal(tp.threeShare), 0, 0.9), twoPct: clamp(rng.normal(tp.twoPointPct), 0.25, 0.75),
      threePct: clamp(rng.normal(tp.threePointPct), 0.1, 0.55), ftPct: clamp(rng.normal(tp.freeThrowPct), 0.3, 0.98),
      seasonsLeft: rng.geometric(mean: 5))
    players.append(player)
    return players.count - 1
  }

  static let firstNames = [
    "Aaron", "Adrian", "Alec", "Andre", "Ben", "Blake", "Brandon", "Bruno", "Caleb", "Cam", "Chris", "Cody", "Dario",
    "Davis", "Dejon", "Derrick", "Devin", "Dwight", "Elijah", "Evan", "Gary", "Goran", "Grant", "Isaiah", "Ivica",
    "Jalen", "Jamal", "Jaren", "Jaylen", "Jonas", "Jordan", "Josh", "Jusuf", "Kelly", "Kevin", "Killian", "Kyle",
    "Lonzo", "Luka", "Malik", "Marcus", "Mikal", "Miles", "Nikola", "Norman", "Obi", "Pascal", "Reggie", "Rudy",
    "Scottie", "Seth", "Shai", "Terry", "Tobias", "Trey", "Tyrese", "Victor", "Wendell", "Zach", "Ziaire",
  ]
  static let surnameParts = [
    [
      "Ad", "Bal", "Bog", "Car", "Dan", "Ed", "Fer", "Gil", "Har", "Ing", "Jok", "Kel", "Lav", "Mar", "Nur", "Ol",
      "Por", "Ran", "Sab", "Tat", "Val", "Wig", "Yur", "Zel",
    ],
    ["a", "e", "i", "o", "u", "ou", "ie"],
    ["ba", "dov", "gen", "kic", "lan", "mer", "nett", "ric", "son", "ter", "vic", "well", "ton", "ley", "sen"],
  ]

  /// A display name whose `player_lookup` no earlier player has; a generational suffix ("Jr.",
  /// "II", "III") appears now and then, as in real rosters, and breaks the rare tie.
  mutating func uniqueName() -> String {
    let suffixes = ["", "", "", "", "", "", "", "", " Jr.", " II", " III"]
    while true {
      let first = Self.firstNames[rng.below(Self.firstNames.count)]
      let last = Self.surnameParts.map { $0[rng.below($0.count)] }.joined()
      let name = first + " " + last + suffixes[rng.below(suffixes.count)]
      let key = String(
        name.lowercased().unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }.map(
          Character.init))
      if usedLookups.insert(key).inserted { return name }
    }
  }

  // MARK: Trades

  struct Trade {
    var date: Date32
    var teamA: Int
    var teamB: Int
  }

  /// Swaps planned for the season: 70 % on deadline day (the first Thursday after February 5),
  /// the rest spread from December 15 on.
  mutating func planTrades(season: Int, games: [ScheduledGame]) -> [Trade] {
    guard let first = games.first?.date, let last = games.last?.date else { return [] }
    var deadline = CivilDate(year: season + 1, month: 2, day: 6)!.date32
    while ScheduleGenerator.weekday(deadline) != 4 { deadline = deadline.adding(days: 1) }
    let earliest = max(first, CivilDate(year: season, month: 12, day: 15)!.date32)
    let count = rng.poisson(parameters.tradesPerSeason)
    var trades: [Trade] = []
    for _ in 0..<count {
      let date: Date32
      if rng.chance(0.7) || deadline <= earliest {
        date = min(deadline, last)
      } else {
        date = earliest.adding(days: rng.below(max(1, deadline.days(since: earliest))))
      }
      let a = rng.below(ScheduleGenerator.teamCount)
      var b = rng.below(ScheduleGenerator.teamCount - 1)
      if b >= a { b += 1 }
      trades.append(Trade(date: date, teamA: a, teamB: b))
    }
    return trades.enumerated().sorted { ($0.element.date, $0.offset) < ($1.element.date, $1.offset) }.map(\.element)
  }

  /// One player for one, the same tier when the other team has one.
  mutating func applyTrade(_ trade: Trade) -> [Int]? {
    let ra = rosters[trade.teamA], rb = rosters[trade.teamB]
    guard !ra.isEmpty, !rb.isEmpty else { return nil }
    let ia = rng.below(ra.count)
    let tier = players[ra[ia]].tier
    let sameTier = rb.indices.filter { players[rb[$0]].tier == tier }
    let ib = sameTier.isEmpty ? rng.below(rb.count) : sameTier[rng.below(sameTier.count)]
    let pa = ra[ia], pb = rb[ib]
    rosters[trade.teamA][ia] = pb
    rosters[trade.teamB][ib] = pa
    return [players[pa].id, players[pb].id]
  }

  // MARK: Games

  func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
  }

  mutating func simulate(
    _ game: ScheduledGame, gameId: String, season: Int, into records: inout [PlayerLogRecord], dnpRows: inout Int,
    injured: inout Int
  ) {
    // Overtime periods: most overtime games need one.
    var overtime = 0
    if rng.chance(parameters.overtimeShare) {
      overtime = 1
      while overtime < 4 && rng.chance(0.15) { overtime += 1 }
    }
    let teamMinutes = 240 + 25 * overtime
    let start = records.count
    var home = teamBox(
      team: game.home, opponent: game.away, isHome: true, game: game, gameId: gameId, season: season,
      teamMinutes: teamMinutes, into: &records, dnpRows: &dnpRows, injured: &injured)
    let homeEnd = records.count
    let away = teamBox(
      team: game.away, opponent: game.home, isHome: false, game: game, gameId: gameId, season: season,
      teamMinutes: teamMinutes, into: &records, dnpRows: &dnpRows, injured: &injured)
    if home.points == away.points, let scorer = home.topScorerIndex {
      // No ties in basketball: one more free throw for the home side.
      records[scorer].ftAttempts += 1
      records[scorer].ftMakes += 1
      records[scorer].points += 1
      home.points += 1
    }
    let margin = home.points - away.points
    for i in start..<records.count {
      let isHomeRow = i < homeEnd
      records[i].won = isHomeRow ? margin > 0 : margin < 0
      let m = Double(records[i].minutes)
      guard m > 0 else { continue }
      let share = m / (Double(teamMinutes) / 5)
      let signed = Double(isHomeRow ? margin : -margin)
      records[i].plusMinus = Int((signed * share + 4.0 * (m / 36).squareRoot() * rng.normal()).rounded())
    }
  }

  struct TeamTotals {
    var points = 0
    var topScorerIndex: Int?
  }

  static let teams: [(abbr: String, name: String)] = [
    ("ATL", "Atlanta Hawks"), ("BOS", "Boston Celtics"), ("BKN", "Brooklyn Nets"), ("CHA", "Charlotte Hornets"),
    ("CHI", "Chicago Bulls"), ("CLE", "Cleveland Cavaliers"), ("DET", "Detroit Pistons"), ("IND", "Indiana Pacers"),
    ("MIA", "Miami Heat"), ("MIL", "Milwaukee Bucks"), ("NYK", "New York Knicks"), ("ORL", "Orlando Magic"),
    ("PHI", "Philadelphia 76ers"), ("TOR", "Toronto Raptors"), ("WAS", "Washington Wizards"),
    ("DAL", "Dallas Mavericks"), ("DEN", "Denver Nuggets"), ("GSW", "Golden State Warriors"),
    ("HOU", "Houston Rockets"), ("LAC", "LA Clippers"), ("LAL", "Los Angeles Lakers"), ("MEM", "Memphis Grizzlies"),
    ("MIN", "Minnesota Timberwolves"), ("NOP", "New Orleans Pelicans"), ("OKC", "Oklahoma City Thunder"),
    ("PHX", "Phoenix Suns"), ("POR", "Portland Trail Blazers"), ("SAC", "Sacramento Kings"),
    ("SAS", "San Antonio Spurs"), ("UTA", "Utah Jazz"),
  ]

  public static func teamAbbreviation(_ index: Int) -> String { teams[index].abbr }

  /// One team's rows of one game: who is out injured, who plays, who gets a DNP row, minutes that
  /// add up to the team's minutes, and box scores drawn from each player's own rates.
  mutating func teamBox(
    team: Int, opponent: Int, isHome: Bool, game: ScheduledGame, gameId: String, season: Int, teamMinutes: Int,
    into records: inout [PlayerLogRecord], dnpRows: inout Int, injured: inout Int
  ) -> TeamTotals {
    var healthy: [Int] = []
    for p in rosters[team] {
      if players[p].injuredGames == 0 && rng.chance(parameters.injuryChancePerGame) {
        players[p].injuredGames = rng.geometric(mean: parameters.meanInjuryGames)
      }
      if players[p].injuredGames > 0 {
        players[p].injuredGames -= 1
        injured += 1
      } else {
        healthy.append(p)
      }
    }
    // Appearance rates in the sample include injuries; divide them out.
    let healthyShare = 1.0 - parameters.injuryChancePerGame * parameters.meanInjuryGames
    var playing: [Int] = []
    var benched: [Int] = []
    for p in healthy {
      let tp = parameters.tiers[players[p].tier]
      if rng.chance(min(0.98, tp.appearance / healthyShare)) { playing.append(p) } else { benched.append(p) }
    }
    // A coach dresses at least eight: the best of the bench go in first.
    let byMinutes: (Int, Int) -> Bool = {
      self.players[$0].meanMinutes > self.players[$1].meanMinutes
        || (self.players[$0].meanMinutes == self.players[$1].meanMinutes && $0 < $1)
    }
    benched.sort(by: byMinutes)
    while playing.count < 8 && !benched.isEmpty { playing.append(benched.removeFirst()) }
    playing.sort(by: byMinutes)

    // Minutes: each player's own draw, scaled so the team's add up to 240 (+25 per overtime),
    // rounded to whole minutes by largest remainder so the sum stays exact.
    var raw: [Double] = []
    var cameo: [Bool] = []
    for (j, p) in playing.enumerated() {
      // Cameos (0 minutes) only past the top eight, so eight players always log minutes.
      let isCameo = j >= 8 && rng.chance(parameters.zeroMinuteShare * 2.5)
      cameo.append(isCameo)
      let tp = parameters.tiers[players[p].tier]
      raw.append(isCameo ? 0 : max(1, players[p].meanMinutes + 0.7 * tp.gameMinutesSD * rng.normal()))
    }
    let total = raw.reduce(0, +)
    let scale = total > 0 ? Double(teamMinutes) / total : 0
    let cap = Double(48 + 5 * (teamMinutes - 240) / 25)
    var scaled = raw.map { min(cap, $0 * scale) }
    var minutes = scaled.map { Int($0.rounded(.down)) }
    var shortfall = teamMinutes - minutes.reduce(0, +)
    let order = scaled.indices.sorted {
      let ra = scaled[$0] - Double(minutes[$0]), rb = scaled[$1] - Double(minutes[$1])
      return ra > rb || (ra == rb && $0 < $1)
    }
    var k = 0
    while shortfall > 0 && !order.isEmpty {
      let i = order[k % order.count]
      if !cameo[i] && Double(minutes[i]) < cap {
        minutes[i] += 1
        shortfall -= 1
      }
      k += 1
      if k > order.count * 60 { break }
    }
    scaled = []

    let abbr = Self.teams[team].abbr, oppAbbr = Self.teams[opponent].abbr
    let matchup = isHome ? "\(abbr) vs. \(oppAbbr)" : "\(abbr) @ \(oppAbbr)"
    var totals = TeamTotals()
    var best = -1
    for (j, p) in playing.enumerated() {
      let pl = players[p]
      var r = PlayerLogRecord(
        seasonYear: season, playerId: pl.id, playerName: pl.name, teamId: 1_610_612_737 + team, teamAbbreviation: abbr,
        teamName: Self.teams[team].name, gameId: gameId, gameDate: game.date, matchup: matchup, won: false,
        minutes: minutes[j])
      if cameo[j] {
        // Under 30 seconds on the floor: now and then still a shot or a turnover (as in the real logs).
        if rng.chance(0.25) {
          r.fgAttempts = 1
          r.fgMakes = rng.chance(0.4) ? 1 : 0
        }
        if rng.chance(0.1) { r.turnovers = 1 }
      } else {
        let per = Double(minutes[j]) / 36
        r.fgAttempts = rng.poisson(pl.rates[RateStat.fga.rawValue] * per)
        r.threeAttempts = rng.binomial(r.fgAttempts, pl.threeShare)
        r.threeMakes = rng.binomial(r.threeAttempts, pl.threePct)
        r.fgMakes = r.threeMakes + rng.binomial(r.fgAttempts - r.threeAttempts, pl.twoPct)
        r.ftAttempts = rng.poisson(pl.rates[RateStat.fta.rawValue] * per)
        r.ftMakes = rng.binomial(r.ftAttempts, pl.ftPct)
        r.offensiveRebounds = rng.poisson(pl.rates[RateStat.oreb.rawValue] * per)
        r.defensiveRebounds = rng.poisson(pl.rates[RateStat.dreb.rawValue] * per)
        r.assists = rng.poisson(pl.rates[RateStat.ast.rawValue] * per)
        r.steals = rng.poisson(pl.rates[RateStat.stl.rawValue] * per)
        r.blocks = rng.poisson(pl.rates[RateStat.blk.rawValue] * per)
        r.turnovers = rng.poisson(pl.rates[RateStat.tov.rawValue] * per)
        r.personalFouls = min(6, rng.poisson(pl.rates[RateStat.pf.rawValue] * per))
      }
      r.points = 2 * r.fgMakes + r.threeMakes + r.ftMakes
      totals.points += r.points
      if r.minutes > 0 && r.points > best {
        best = r.points
        totals.topScorerIndex = records.count
      }
      records.append(r)
    }
    for p in benched where rng.chance(parameters.dnpRowChance) {
      let pl = players[p]
      records.append(
        PlayerLogRecord(
          seasonYear: season, playerId: pl.id, playerName: pl.name, teamId: 1_610_612_737 + team,
          teamAbbreviation: abbr, teamName: Self.teams[team].name, gameId: gameId, gameDate: game.date,
          matchup: matchup, won: false, minutes: 0))
      dnpRows += 1
    }
    return totals
  }
}
