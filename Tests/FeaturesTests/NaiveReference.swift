import Columnar
import SQLiteSource

@testable import Features

/// The spec page (features-props-v1.md) written as plain loops, for clarity rather than speed:
/// each row's history is found by scanning every PGS row, each column computed from its
/// definition. Float reductions run oldest → newest, as the spec fixes.
/// Output: per season, the rows as cell texts (floats with their bit patterns) in spec order.
enum NaiveReference {
  static func compute(spec: FeatureSetSpec, source: SourceData, options: FeatureOptions = FeatureOptions()) -> [Int:
    [[String]]]
  {
    let pgs = source.pgs
    let calendars = SeasonCalendar.calendars(for: source)
    func stat(_ name: String, _ i: Int) -> Double? {
      if let d = spec.derivedSources.first(where: { $0.name == name }) {
        var total = 0.0
        for o in d.operands {
          guard let v = stat(o, i) else { return nil }
          total += v
        }
        return total
      }
      switch name {
      case "minutes_played": return pgs.minutesPlayed[i]
      case "usage_rate": return pgs.usageRate[i]
      default: return pgs.integerStatColumns.first { $0.name == name }!.column[i].map(Double.init)
      }
    }
    let lookups = (0..<pgs.count).map { pgs.playerLookup.string(at: $0) }
    let factorLookups = (0..<source.pcf.count).map { source.pcf.playerLookup.string(at: $0) }
    func date(_ i: Int) -> Int { Int(pgs.gameDate.values[i].daysSinceEpoch) }
    func text(_ v: Double?, _ type: ColumnType) -> String {
      guard let v else { return "NULL" }
      switch type {
      case .int32: return "\(Int32(v))"
      case .bool: return "\(v != 0)"
      default: return "\(v) (bits 0x\(String(v.bitPattern, radix: 16)))"
      }
    }
    var out: [Int: [[String]]] = [:]
    for season in source.seasons {
      var rows: [Int] = []
      for i in 0..<pgs.count where pgs.isActive(i) && Int(pgs.seasonYear.values[i]) == season {
        if !options.includeBootstrap, calendars[season]!.isBootstrap(pgs.gameDate.values[i]) { continue }
        if let r = options.dateRange, !r.contains(pgs.gameDate.values[i]) { continue }
        rows.append(i)
      }
      rows.sort { a, b in
        if date(a) != date(b) { return date(a) < date(b) }
        let la = Array(lookups[a].utf8), lb = Array(lookups[b].utf8)
        if la != lb { return la.lexicographicallyPrecedes(lb) }
        return pgs.rowid[a] < pgs.rowid[b]
      }
      var table: [[String]] = []
      for i in rows {
        let player = lookups[i]
        let d = date(i)
        // History: the player's active rows of this season strictly before D, oldest first.
        var history: [Int] = []
        for j in 0..<pgs.count
        where pgs.isActive(j) && lookups[j] == player && pgs.seasonYear.values[j] == pgs.seasonYear.values[i]
          && date(j) < d
        {
          history.append(j)
        }
        history.sort { date($0) != date($1) ? date($0) < date($1) : pgs.rowid[$0] < pgs.rowid[$1] }
        var pcfRow: Int? = nil
        for r in 0..<source.pcf.count
        where factorLookups[r] == player && Int(source.pcf.gameDate.values[r].daysSinceEpoch) == d {
          pcfRow = r
          break
        }
        var cells: [String] = []
        for c in spec.columns {
          switch c.kind {
          case .key(let k):
            switch k {
            case .gameDate: cells.append("\(pgs.gameDate.values[i])")
            case .seasonYear: cells.append("\(pgs.seasonYear.values[i])")
            case .playerLookup: cells.append("\"\(player)\"")
            case .gameId: cells.append("\"\(pgs.gameId.string(at: i))\"")
            case .teamAbbr: cells.append("\"\(pgs.teamAbbr.string(at: i))\"")
            case .opponentTeamAbbr: cells.append("\"\(pgs.opponentTeamAbbr.string(at: i))\"")
            case .isHome: cells.append(pgs.isHome[i].map { "\($0)" } ?? "NULL")
            }
          case .label(let s):
            cells.append(text(stat(s, i), c.type))
          case .schedule(let m):
            let rest = history.last.map { d - date($0) }
            switch m {
            case .daysRest: cells.append(rest.map { "\($0)" } ?? "NULL")
            case .backToBack: cells.append("\(rest == 1)")
            }
          case .composite(let cs):
            let f = source.pcf
            switch cs {
            case .present: cells.append("\(pcfRow != nil)")
            case .fatigueScore: cells.append(pcfRow.flatMap { f.fatigueScore[$0] }.map { "\($0)" } ?? "NULL")
            case .shotZoneMismatchScore: cells.append(text(pcfRow.flatMap { f.shotZoneMismatchScore[$0] }, .float64))
            case .paceScore: cells.append(text(pcfRow.flatMap { f.paceScore[$0] }, .float64))
            case .usageSpikeScore: cells.append(text(pcfRow.flatMap { f.usageSpikeScore[$0] }, .float64))
            case .totalCompositeAdjustment:
              cells.append(text(pcfRow.flatMap { f.totalCompositeAdjustment[$0] }, .float64))
            }
          case .window(let source, let w, let agg, let minPeriods):
            var games: [Int]
            switch w.kind {
            case .season: games = history
            case .lastGames: games = Array(history.suffix(w.n))
            case .lastDays: games = history.filter { date($0) >= d - w.n }
            }
            cells.append(
              text(aggregate(games.map { g in source.flatMap { stat($0, g) } }, source == nil, agg, minPeriods), c.type)
            )
          }
        }
        table.append(cells)
      }
      out[season] = table
    }
    return out
  }

  /// `values` is the window oldest first, nil for NULL.
  static func aggregate(_ values: [Double?], _ countGames: Bool, _ agg: Aggregate, _ minPeriods: Int) -> Double? {
    if countGames { return values.count >= minPeriods ? Double(values.count) : nil }
    var present: [(position: Double, value: Double)] = []
    for (p, v) in values.enumerated() { if let v { present.append((Double(p), v)) } }
    let n = Double(present.count)
    guard present.count >= minPeriods else { return nil }
    var sum = 0.0
    for e in present { sum += e.value }
    switch agg {
    case .count: return n
    case .sum: return sum
    case .mean: return present.isEmpty ? nil : sum / n
    case .last: return present.last?.value
    case .std:
      guard present.count >= 2 else { return nil }
      let mean = sum / n
      var squares = 0.0
      for e in present { squares += (e.value - mean) * (e.value - mean) }
      return (squares / (n - 1)).squareRoot()
    case .slope:
      guard present.count >= 2 else { return nil }
      let mean = sum / n
      var xSum = 0.0
      for e in present { xSum += e.position }
      let xMean = xSum / n
      var num = 0.0, den = 0.0
      for e in present {
        num += (e.position - xMean) * (e.value - mean)
        den += (e.position - xMean) * (e.position - xMean)
      }
      return den == 0 ? nil : num / den
    }
  }
}

func cells(_ table: Table) -> [[String]] {
  (0..<table.rowCount).map { r in table.columns.map { PointInTimeCheck.cellText($0, r) } }
}
