import Columnar

/// The game dates of PGS and PCF numbered as dense slots, ascending, so per-date tables are
/// arrays indexed by slot instead of hash maps keyed by date.
///
/// Normally slot = day number − first day (a league's dates span a few hundred days per
/// season). When the dates are spread much wider than there are rows (a stray 1900-01-01 next
/// to 2023 dates), the slots number only the distinct dates, so memory stays proportional to
/// the rows either way.
struct DaySpace {
  /// Day number of slot 0.
  let base: Int32
  /// The distinct day numbers, ascending, when slots do not follow the calendar; nil when
  /// slot = day − base.
  let distinct: [Int32]?
  let count: Int

  /// Every slot is a day holding at least one row, or a day between two such days.
  init(_ columns: [[Date32]]) {
    var lo = Int32.max, hi = Int32.min
    var rows = 0
    for values in columns {
      rows += values.count
      for d in values {
        lo = min(lo, d.daysSinceEpoch)
        hi = max(hi, d.daysSinceEpoch)
      }
    }
    if rows == 0 {
      (base, distinct, count) = (0, nil, 0)
      return
    }
    let span = Int(hi) - Int(lo) + 1
    if span <= max(1 << 16, 2 * rows) {
      (base, distinct, count) = (lo, nil, span)
    } else {
      var days = columns.flatMap { $0.map(\.daysSinceEpoch) }
      days.sort()
      var unique: [Int32] = []
      for d in days where unique.last != d { unique.append(d) }
      (base, distinct, count) = (lo, unique, unique.count)
    }
  }

  /// The slot of `date`, nil when no row has a date that far out (or, with distinct slots, that
  /// date).
  @inline(__always) func slot(of date: Date32) -> Int? {
    let d = date.daysSinceEpoch
    guard let distinct else {
      let s = Int(d) - Int(base)
      return s >= 0 && s < count ? s : nil
    }
    var lo = 0, hi = distinct.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if distinct[mid] < d { lo = mid + 1 } else { hi = mid }
    }
    return lo < distinct.count && distinct[lo] == d ? lo : nil
  }

  func date(at slot: Int) -> Date32 {
    Date32(daysSinceEpoch: distinct?[slot] ?? base + Int32(slot))
  }
}

/// The rows of one table ordered by date slot, each slot's rows in row order: a stable
/// counting sort, so grouping by date costs two passes and no comparisons.
struct ByDay {
  /// Rows of slot s are `rows[start[s]..<start[s + 1]]`.
  let start: [Int32]
  let rows: [Int32]

  init(_ dates: [Date32], in space: DaySpace) {
    var start = [Int32](repeating: 0, count: space.count + 1)
    var slots: [Int32] = []
    if space.distinct != nil {
      // Only on the wide-spread path: look each date up once. Every date has a slot: the
      // space was built from these very columns.
      slots = dates.map { Int32(space.slot(of: $0) ?? 0) }
    }
    dates.withUnsafeBufferPointer { dates in
      for i in 0..<dates.count {
        let s = slots.isEmpty ? Int(dates[i].daysSinceEpoch) - Int(space.base) : Int(slots[i])
        start[s + 1] += 1
      }
    }
    for s in 0..<space.count { start[s + 1] += start[s] }
    var fill = start
    var rows = [Int32](repeating: 0, count: dates.count)
    dates.withUnsafeBufferPointer { dates in
      for i in 0..<dates.count {
        let s = slots.isEmpty ? Int(dates[i].daysSinceEpoch) - Int(space.base) : Int(slots[i])
        rows[Int(fill[s])] = Int32(i)
        fill[s] += 1
      }
    }
    self.start = start
    self.rows = rows
  }

  @inline(__always) func range(_ slot: Int) -> Range<Int> { Int(start[slot])..<Int(start[slot + 1]) }
}

/// Row flags shared by the day scan and the gates.
enum RowFlag {
  /// A requested season's row that the gates measure: a PCF row inside the window; a PGS row
  /// inside the window or before it (`GateWindow.feeds`), the history its features read.
  static let inScope: UInt8 = 1
  /// PGS only: the spec's ACTIVE row.
  static let active: UInt8 = 2
}

/// Per date, who is there, and which (date, player) keys repeat: the one walk over both tables
/// that `pcf_player_coverage`, `duplicate_keys`, `pcf_date_coverage` and `CoverageBreakdown`
/// all read. Players are dense ids, so "seen this player today" is an array of day stamps
/// (a few KiB, in cache) instead of a Set per date.
struct DayPlayers {
  /// Per slot: distinct players with an in-scope PCF row.
  var pcfPlayers: [Int32]
  /// Per slot: distinct players with an in-scope ACTIVE PGS row.
  var activePlayers: [Int32]
  /// Per slot: of those, players that also have an in-scope PCF row that day.
  var activeWithPCF: [Int32]
  /// In-scope rows sharing a (date, player) key, each group's rows in row order.
  var pgsRepeats: [(key: DatePlayer, rows: [Int])] = []
  var pcfRepeats: [(key: DatePlayer, rows: [Int])] = []

  init(
    space: DaySpace, playerCount: Int,
    pgsByDay: ByDay, pgsPlayer: [Int32], pgsFlags: [UInt8],
    pcfByDay: ByDay, pcfPlayer: [Int32], pcfFlags: [UInt8]
  ) {
    pcfPlayers = [Int32](repeating: 0, count: space.count)
    activePlayers = [Int32](repeating: 0, count: space.count)
    activeWithPCF = [Int32](repeating: 0, count: space.count)
    // Stamps hold slot + 1 so the zeroed arrays mean "not seen".
    var pcfSeen = [Int32](repeating: 0, count: playerCount)
    var pgsSeen = [Int32](repeating: 0, count: playerCount)
    var activeSeen = [Int32](repeating: 0, count: playerCount)
    // The first row of the key, or −(group + 1) once the key repeats.
    var pcfFirst = [Int32](repeating: 0, count: playerCount)
    var pgsFirst = [Int32](repeating: 0, count: playerCount)
    var pcfGroups: [(key: DatePlayer, rows: [Int])] = []
    var pgsGroups: [(key: DatePlayer, rows: [Int])] = []

    for s in 0..<space.count {
      let stamp = Int32(s + 1)
      let date = space.date(at: s).daysSinceEpoch
      var pcfCount: Int32 = 0
      for n in pcfByDay.range(s) {
        let r = pcfByDay.rows[n]
        guard pcfFlags[Int(r)] & RowFlag.inScope != 0 else { continue }
        let p = Int(pcfPlayer[Int(r)])
        if pcfSeen[p] != stamp {
          pcfSeen[p] = stamp
          pcfFirst[p] = r
          pcfCount += 1
        } else if pcfFirst[p] >= 0 {
          pcfGroups.append((DatePlayer(date: date, player: Int32(p)), [Int(pcfFirst[p]), Int(r)]))
          pcfFirst[p] = -Int32(pcfGroups.count)
        } else {
          pcfGroups[Int(-pcfFirst[p]) - 1].rows.append(Int(r))
        }
      }
      var active: Int32 = 0
      var both: Int32 = 0
      for n in pgsByDay.range(s) {
        let r = pgsByDay.rows[n]
        let flags = pgsFlags[Int(r)]
        guard flags & RowFlag.inScope != 0 else { continue }
        let p = Int(pgsPlayer[Int(r)])
        if pgsSeen[p] != stamp {
          pgsSeen[p] = stamp
          pgsFirst[p] = r
        } else if pgsFirst[p] >= 0 {
          pgsGroups.append((DatePlayer(date: date, player: Int32(p)), [Int(pgsFirst[p]), Int(r)]))
          pgsFirst[p] = -Int32(pgsGroups.count)
        } else {
          pgsGroups[Int(-pgsFirst[p]) - 1].rows.append(Int(r))
        }
        if flags & RowFlag.active != 0 && activeSeen[p] != stamp {
          activeSeen[p] = stamp
          active += 1
          if pcfSeen[p] == stamp { both += 1 }
        }
      }
      pcfPlayers[s] = pcfCount
      activePlayers[s] = active
      activeWithPCF[s] = both
    }
    pgsRepeats = pgsGroups
    pcfRepeats = pcfGroups
  }
}
