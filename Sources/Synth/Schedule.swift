import Columnar

/// One scheduled game: indices into the league's teams.
public struct ScheduledGame: Sendable, Equatable {
  public var date: Date32
  public var home: Int
  public var away: Int
}

/// An NBA-shaped regular season for 30 teams in two conferences of 15: 82 games per team
/// (2 against each team of the other conference, 4 against ten conference rivals and 3 against
/// four, home and away balanced at 41), played from a Tuesday in the second half of October to
/// mid-April, with no games on Thanksgiving, Christmas Eve and the six days of the All-Star break.
/// Dates are filled greedily, most-behind teams first; back-to-backs and four-in-five-nights
/// arise as in real calendars, penalised so they stay at realistic counts.
public enum ScheduleGenerator {
  public static let teamCount = 30
  public static let conferenceSize = 15

  /// Games of `season` (start year), ordered by date then home team, with no team twice on a date.
  public static func generate(season: Int, rng: inout SynthRandom) -> [ScheduledGame] {
    let pairs = matchups(rng: &rng)
    let calendar = playingDates(season: season)
    return assignDates(pairs, calendar: calendar, rng: &rng)
  }

  /// Home-away pairs for the season, before dates: 1230 of them.
  static func matchups(rng: inout SynthRandom) -> [(home: Int, away: Int)] {
    var out: [(home: Int, away: Int)] = []
    out.reserveCapacity(1230)
    // A fresh order inside each conference decides who plays whom only three times.
    var order = [[Int](0..<conferenceSize), [Int](conferenceSize..<teamCount)]
    for c in 0..<2 { order[c].shuffle(using: &rng) }
    for c in 0..<2 {
      let teams = order[c]
      for a in 0..<conferenceSize {
        for b in (a + 1)..<conferenceSize {
          let d = b - a
          let x = teams[a], y = teams[b]
          if d == 1 || d == 2 {
            // Circulant 4-regular graph: each team hosts two of its four 3-game opponents twice.
            out += [(x, y), (x, y), (y, x)]
          } else if d == conferenceSize - 1 || d == conferenceSize - 2 {
            out += [(y, x), (y, x), (x, y)]
          } else {
            out += [(x, y), (x, y), (y, x), (y, x)]
          }
        }
      }
    }
    for x in 0..<conferenceSize {
      for y in conferenceSize..<teamCount { out += [(x, y), (y, x)] }
    }
    return out
  }

  /// Days of the season on which games may be played.
  static func playingDates(season: Int) -> [Date32] {
    // Opening night: the Tuesday between October 16 and 22.
    var opening = CivilDate(year: season, month: 10, day: 16)!.date32
    while weekday(opening) != 2 { opening = opening.adding(days: 1) }
    // Last day: the Sunday between April 8 and 14.
    var last = CivilDate(year: season + 1, month: 4, day: 8)!.date32
    while weekday(last) != 0 { last = last.adding(days: 1) }
    // All-Star Sunday falls between February 13 and 19 (2016: the 14th, 2017: the 19th); the
    // break runs Friday to Wednesday.
    var allStar = CivilDate(year: season + 1, month: 2, day: 13)!.date32
    while weekday(allStar) != 0 { allStar = allStar.adding(days: 1) }
    let breakDays = allStar.adding(days: -2)...allStar.adding(days: 3)
    var thanksgiving = CivilDate(year: season, month: 11, day: 22)!.date32
    while weekday(thanksgiving) != 4 { thanksgiving = thanksgiving.adding(days: 1) }
    let christmasEve = CivilDate(year: season, month: 12, day: 24)!.date32
    var out: [Date32] = []
    var d = opening
    while d <= last {
      if !breakDays.contains(d) && d != thanksgiving && d != christmasEve { out.append(d) }
      d = d.adding(days: 1)
    }
    return out
  }

  /// 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday).
  static func weekday(_ d: Date32) -> Int {
    let r = (Int(d.daysSinceEpoch) + 4) % 7
    return r < 0 ? r + 7 : r
  }

  /// Relative game counts by weekday (Sunday first): real calendars are heavy on Wednesday and
  /// Friday and light on Thursday.
  static let weekdayWeight: [Double] = [0.85, 0.95, 1.0, 1.35, 0.6, 1.3, 1.05]

  static func assignDates(_ pairs: [(home: Int, away: Int)], calendar: [Date32], rng: inout SynthRandom)
    -> [ScheduledGame]
  {
    var remaining = pairs
    remaining.shuffle(using: &rng)
    var left = [Int](repeating: 0, count: teamCount)
    for p in pairs {
      left[p.home] += 1
      left[p.away] += 1
    }
    // Day index (into an extended calendar) of each team's most recent games.
    var recent = [[Int]](repeating: [], count: teamCount)
    var games: [ScheduledGame] = []
    games.reserveCapacity(pairs.count)
    var dates = calendar
    var di = 0
    while !remaining.isEmpty {
      if di == dates.count { dates.append(dates[dates.count - 1].adding(days: 1)) }  // overflow past the planned end
      let date = dates[di]
      let dayNumber = Int(date.daysSinceEpoch)
      let datesLeft = max(1, calendar.count - di)
      var weightLeft = 0.0
      for k in di..<max(di + 1, calendar.count) where k < dates.count { weightLeft += weekdayWeight[weekday(dates[k])] }
      let share = weekdayWeight[weekday(date)] / max(weightLeft, weekdayWeight[weekday(date)])
      var target = Int((Double(remaining.count) * share + rng.uniform()).rounded(.down))
      if di == 0 { target = 2 + rng.below(3) }  // opening night: a handful of games
      target = min(max(target, 1), teamCount / 2)

      // Score every remaining pairing; teams furthest behind their pace first.
      func pressure(_ t: Int) -> Double {
        let gamesLeft = Double(left[t])
        return gamesLeft / Double(datesLeft)
      }
      func fatigue(_ t: Int) -> Double? {
        let r = recent[t]
        let playedYesterday = r.last == dayNumber - 1
        // Never three nights running.
        if playedYesterday && (r.count >= 2 && r[r.count - 2] == dayNumber - 2) { return nil }
        let inLastFour = r.filter { $0 >= dayNumber - 4 }.count
        if inLastFour >= 4 { return nil }
        var penalty = 0.0
        if playedYesterday { penalty += 0.06 }
        if inLastFour == 3 { penalty += 0.6 }  // this game would make four in five nights
        return penalty
      }
      var scored: [(score: Double, index: Int)] = []
      scored.reserveCapacity(remaining.count)
      for (i, p) in remaining.enumerated() {
        guard let fh = fatigue(p.home), let fa = fatigue(p.away) else { continue }
        scored.append((pressure(p.home) + pressure(p.away) - fh - fa + 0.35 * rng.uniform(), i))
      }
      scored.sort { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }
      var busy = Set<Int>()
      var chosen: [Int] = []
      for s in scored where chosen.count < target {
        let p = remaining[s.index]
        if busy.contains(p.home) || busy.contains(p.away) { continue }
        busy.insert(p.home)
        busy.insert(p.away)
        chosen.append(s.index)
      }
      var dayGames: [ScheduledGame] = []
      for i in chosen {
        let p = remaining[i]
        dayGames.append(ScheduledGame(date: date, home: p.home, away: p.away))
        left[p.home] -= 1
        left[p.away] -= 1
        recent[p.home].append(dayNumber)
        recent[p.away].append(dayNumber)
      }
      for i in chosen.sorted(by: >) { remaining.remove(at: i) }
      dayGames.sort { $0.home < $1.home }
      games += dayGames
      di += 1
    }
    return games
  }
}
