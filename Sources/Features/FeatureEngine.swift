import Columnar
import SQLiteSource

public struct FeatureOptions: Sendable, Equatable {
  /// Keep rows dated on bootstrap days (days 0–13 after opening night).
  public var includeBootstrap: Bool
  /// Only rows whose game_date falls in this range (history still reaches back before it).
  public var dateRange: ClosedRange<Date32>?

  public init(includeBootstrap: Bool = false, dateRange: ClosedRange<Date32>? = nil) {
    self.includeBootstrap = includeBootstrap
    self.dateRange = dateRange
  }
}

/// One season's feature table: rows sorted by (game_date, player_lookup bytes), columns in
/// spec order.
public struct SeasonFeatures: Sendable, Equatable {
  public var season: Int
  public var table: Table
  /// The PGS row (index into `SourceData.pgs`) each output row comes from.
  public var sourceRows: [Int]
}

public struct FeatureComputeError: Error, Equatable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Computes a `FeatureSetSpec` over what the source layer read.
///
/// Active rows are grouped by (player, season) once and sorted by date once; each group is then
/// swept once, every window reduced by the SIMD kernel over its own games (WindowKernels.swift).
public struct FeatureEngine: Sendable {
  public let spec: FeatureSetSpec
  public let kernel: KernelChoice
  let plan: Plan

  public init(spec: FeatureSetSpec, kernel: KernelChoice = .simd) {
    self.spec = spec
    self.kernel = kernel
    self.plan = Plan(spec: spec)
  }

  public func compute(source: SourceData, options: FeatureOptions = FeatureOptions()) throws(FeatureComputeError) -> [SeasonFeatures] {
    let prepared = Prepared(source: source, plan: plan)
    let calendars = SeasonCalendar.calendars(for: source)
    var out: [SeasonFeatures] = []
    for season in source.seasons {
      let calendar = calendars[season]
      var targets: [Int] = []
      for g in prepared.groups where g.season == Int32(season) {
        for t in g.rows {
          let date = Date32(daysSinceEpoch: prepared.dates[t])
          if !options.includeBootstrap, calendar?.isBootstrap(date) == true { continue }
          if let range = options.dateRange, !range.contains(date) { continue }
          targets.append(t)
        }
      }
      let order = prepared.outputOrder(targets)
      var position = [Int](repeating: -1, count: source.pgs.count)
      for (k, t) in order.enumerated() { position[t] = k }
      var builders = plan.makeBuilders(rowCount: order.count)
      for g in prepared.groups where g.season == Int32(season) {
        let groupTargets = g.rows.compactMap { position[$0] >= 0 ? (pgsRow: $0, output: position[$0]) : nil }
        if groupTargets.isEmpty { continue }
        sweep(history: g.rows, targets: groupTargets, prepared: prepared, into: &builders)
      }
      let table = try assemble(order: order, builders: builders, prepared: prepared, season: season)
      out.append(SeasonFeatures(season: season, table: table, sourceRows: order))
    }
    return out
  }

  /// Fills the computed columns of `targets` from `history` (PGS rows of one player and season,
  /// sorted by date). Each target sees only the games of `history` dated strictly before its own.
  func sweep(history: [Int], targets: [(pgsRow: Int, output: Int)], prepared: Prepared, into b: inout Builders) {
    let dates = history.map { prepared.dates[$0] }
    let blocks = plan.windows.map { w in prepared.laneBlocks(rows: history, window: w) }
    // Season windows start at the first game, so for targets in date order each one's sums are
    // the previous one's plus the games in between: added in the same order as a fresh pass,
    // hence bit-identical, and linear instead of quadratic in the games of a season.
    var running = blocks.map { $0.map { _ in (end: 0, stats: LaneStats()) } }
    dates.withUnsafeBufferPointer { dates in
      for (t, o) in targets {
        let date = prepared.dates[t]
        let end = lowerBound(dates, date)
        for (wi, w) in plan.windows.enumerated() {
          let range = w.window.bounds(dates: dates, historyEnd: end, date: date)
          for (ci, block) in blocks[wi].enumerated() {
            let stats: LaneStats
            if kernel == .simd && w.window.kind == .season && !w.moments && range.lowerBound == 0 {
              var run = running[wi][ci]
              if range.upperBound < run.end { run = (0, LaneStats()) }
              WindowKernel.extend(block, run.end..<range.upperBound, into: &run.stats)
              run.end = range.upperBound
              running[wi][ci] = run
              stats = run.stats
            } else {
              stats =
                kernel == .simd
                ? WindowKernel.simd(block, range, moments: w.moments)
                : WindowKernel.scalar(block, range, moments: w.moments)
            }
            for use in w.uses where use.lane >= 0 && use.lane / 8 == ci {
              b.set(use.builder, row: o, value: Self.extract(use, stats: stats, games: range.count))
            }
          }
          for use in w.uses where use.lane < 0 {
            b.set(use.builder, row: o, value: Self.extract(use, stats: LaneStats(), games: range.count))
          }
        }
        for s in plan.schedule {
          let rest: Int32? = end > 0 ? date - dates[end - 1] : nil
          switch s.measure {
          case .daysRest: b.set(s.builder, row: o, value: rest.map(Double.init))
          case .backToBack: b.set(s.builder, row: o, value: rest == 1 ? 1 : 0)
          }
        }
      }
    }
  }

  @inline(__always)
  static func extract(_ use: Plan.WindowUse, stats: LaneStats, games: Int) -> Double? {
    if use.lane < 0 {  // count of games, no source
      return games >= use.minPeriods ? Double(games) : nil
    }
    let lane = use.lane % 8
    let count = stats.count[lane]
    guard count >= Double(use.minPeriods) else { return nil }
    switch use.aggregate {
    case .count: return count
    case .sum: return stats.sum[lane]
    case .mean: return count > 0 ? stats.sum[lane] / count : nil
    case .last: return stats.hasLast[lane] != 0 ? stats.last[lane] : nil
    case .std: return count >= 2 ? (stats.m2[lane] / (count - 1)).squareRoot() : nil
    case .slope:
      return count >= 2 && stats.slopeDenominator[lane] != 0 ? stats.slopeNumerator[lane] / stats.slopeDenominator[lane] : nil
    }
  }

  func assemble(order: [Int], builders: Builders, prepared: Prepared, season: Int) throws(FeatureComputeError) -> Table {
    let pgs = prepared.source.pgs
    var table = Table(rowCount: order.count)
    // Gathers are written out here rather than via Column.append: the generic append is not
    // specialised across the module boundary and cost most of the engine's time.
    func take<E: ColumnElement>(_ c: Column<E>) -> Column<E> {
      Column(values: order.map { c.values[$0] }, validity: ValidityBitmap(order.map { c.validity[$0] }))
    }
    func takePCF<E: ColumnElement>(_ rows: [Int?], _ c: Column<E>) -> Column<E> {
      Column(
        values: rows.map { r in r.map { c.values[$0] } ?? E.nullPlaceholder },
        validity: ValidityBitmap(rows.map { r in r.map { c.validity[$0] } ?? false }))
    }
    let pcfRows = order.map { prepared.pcfRow(forPGSRow: $0) }
    for (ci, c) in spec.columns.enumerated() {
      let column: AnyColumn
      switch c.kind {
      case .key(let k):
        switch k {
        case .gameDate: column = .date32(take(pgs.gameDate))
        case .seasonYear: column = .int32(take(pgs.seasonYear))
        case .playerLookup: column = .utf8(pgs.playerLookup.gather(order))
        case .gameId: column = .utf8(pgs.gameId.gather(order))
        case .teamAbbr: column = .utf8(pgs.teamAbbr.gather(order))
        case .opponentTeamAbbr: column = .utf8(pgs.opponentTeamAbbr.gather(order))
        case .isHome: column = .bool(take(pgs.isHome))
        }
      case .label(let s):
        let v = prepared.sources[plan.sourceIndex[s] ?? 0]
        column = Self.typed(values: order.map { v.values[$0] }, valid: order.map { v.validity[$0] }, type: c.type)
      case .composite(let cs):
        let pcf = prepared.source.pcf
        switch cs {
        case .present: column = .bool(Column(pcfRows.map { $0 != nil }))
        case .fatigueScore: column = .int32(takePCF(pcfRows, pcf.fatigueScore))
        case .shotZoneMismatchScore: column = .float64(takePCF(pcfRows, pcf.shotZoneMismatchScore))
        case .paceScore: column = .float64(takePCF(pcfRows, pcf.paceScore))
        case .usageSpikeScore: column = .float64(takePCF(pcfRows, pcf.usageSpikeScore))
        case .totalCompositeAdjustment: column = .float64(takePCF(pcfRows, pcf.totalCompositeAdjustment))
        }
      case .window, .schedule:
        let bi = plan.builderIndex[ci] ?? 0
        column = Self.typed(values: builders.values[bi], valid: builders.validity[bi], type: c.type)
      }
      if !c.nullable, column.nullCount > 0 {
        let first = (0..<order.count).first { !column.validity[$0] } ?? 0
        let row = order[first]
        throw FeatureComputeError(
          message:
            "feature \(spec.name), season \(Season.label(season)): column \(c.name) is declared not nullable but has \(column.nullCount) NULL value(s); first at player_lookup \(pgs.playerLookup.string(at: row)), game_date \(pgs.gameDate.values[row]) (player_game_summary rowid \(pgs.rowid[row]))"
        )
      }
      table.append(Field(name: c.name, type: c.type, nullable: c.nullable, meaning: c.meaning), column)
    }
    return table
  }

  /// Converts computed Doubles to the declared type. The spec loader only allows int32 for
  /// counts and integer sources, whose Doubles are exact integers far below 2^31.
  static func typed(values: [Double], valid: [Bool], type: ColumnType) -> AnyColumn {
    let validity = ValidityBitmap(valid)
    // NULL slots get the placeholder (0 / false), as Column's invariant requires.
    switch type {
    case .int32: return .int32(Column(values: zip(values, valid).map { $1 ? Int32($0) : 0 }, validity: validity))
    case .bool: return .bool(Column(values: zip(values, valid).map { $1 && $0 != 0 }, validity: validity))
    default: return .float64(Column(values: zip(values, valid).map { $1 ? $0 : 0 }, validity: validity))
    }
  }
}

/// What the spec asks the sweep to compute, resolved once.
struct Plan: Sendable {
  struct WindowUse: Sendable {
    var builder: Int
    /// Lane in this window's blocks; −1 for a count of games.
    var lane: Int
    var aggregate: Aggregate
    var minPeriods: Int
  }
  struct WindowPlan: Sendable {
    var window: FeatureWindow
    /// Index into `Plan.sources` of each lane.
    var lanes: [Int]
    var uses: [WindowUse]
    var moments: Bool
  }
  struct ScheduleUse: Sendable {
    var builder: Int
    var measure: ScheduleMeasure
  }

  /// Every stat source named by a window or a label, in first-use order.
  var sources: [String] = []
  var sourceIndex: [String: Int] = [:]
  var windows: [WindowPlan] = []
  var schedule: [ScheduleUse] = []
  /// Spec column index → builder index, for window and schedule columns.
  var builderIndex: [Int: Int] = [:]
  var derived: [String: DerivedSource] = [:]

  init(spec: FeatureSetSpec) {
    for d in spec.derivedSources { derived[d.name] = d }
    func sourceID(_ s: String) -> Int {
      if let i = sourceIndex[s] { return i }
      sourceIndex[s] = sources.count
      sources.append(s)
      return sources.count - 1
    }
    var builders = 0
    for (ci, c) in spec.columns.enumerated() {
      switch c.kind {
      case .label(let s):
        _ = sourceID(s)
      case .window(let s, let w, let agg, let minP):
        builderIndex[ci] = builders
        var wi = windows.firstIndex { $0.window == w }
        if wi == nil {
          windows.append(WindowPlan(window: w, lanes: [], uses: [], moments: false))
          wi = windows.count - 1
        }
        var lane = -1
        if let s {
          let id = sourceID(s)
          if let l = windows[wi!].lanes.firstIndex(of: id) {
            lane = l
          } else {
            windows[wi!].lanes.append(id)
            lane = windows[wi!].lanes.count - 1
          }
        }
        windows[wi!].uses.append(WindowUse(builder: builders, lane: lane, aggregate: agg, minPeriods: minP))
        if agg == .std || agg == .slope { windows[wi!].moments = true }
        builders += 1
      case .schedule(let m):
        builderIndex[ci] = builders
        schedule.append(ScheduleUse(builder: builders, measure: m))
        builders += 1
      case .key, .composite:
        break
      }
    }
    builderCount = builders
  }

  var builderCount = 0

  func makeBuilders(rowCount: Int) -> Builders {
    Builders(
      values: Array(repeating: [Double](repeating: 0, count: rowCount), count: builderCount),
      validity: Array(repeating: [Bool](repeating: false, count: rowCount), count: builderCount))
  }
}

struct Builders {
  var values: [[Double]]
  var validity: [[Bool]]

  @inline(__always)
  mutating func set(_ builder: Int, row: Int, value: Double?) {
    if let value {
      values[builder][row] = value
      validity[builder][row] = true
    }
  }
}

/// A stat source per PGS row: Double values and the validity bitmap they came with.
struct SourceVector: Sendable {
  var values: [Double]
  var validity: ValidityBitmap
}

/// The source tables indexed for the sweep: stat vectors, active rows grouped by
/// (player, season) and sorted by date, the PCF join.
struct Prepared: Sendable {
  struct Group: Sendable {
    var season: Int32
    /// PGS row indices, active only, sorted by (game_date, rowid).
    var rows: [Int]
  }
  struct PCFKey: Hashable {
    var player: Int32
    var date: Int32
  }

  let source: SourceData
  let plan: Plan
  var sources: [SourceVector] = []
  var dates: [Int32]
  /// A dense id per distinct player_lookup, so grouping and joins compare integers.
  var playerID: [Int32]
  var groups: [Group] = []
  var pcfIndex: [PCFKey: Int] = [:]

  init(source: SourceData, plan: Plan, groupRows: Bool = true) {
    self.source = source
    self.plan = plan
    let pgs = source.pgs
    dates = pgs.gameDate.values.map(\.daysSinceEpoch)
    var ids: [String: Int32] = [:]
    playerID = (0..<pgs.count).map { i in
      let s = pgs.playerLookup.string(at: i)
      if let id = ids[s] { return id }
      let id = Int32(ids.count)
      ids[s] = id
      return id
    }
    sources = plan.sources.map { Self.vector($0, pgs: pgs, derived: plan.derived) }
    let pcf = source.pcf
    for r in 0..<pcf.count {
      guard let id = ids[pcf.playerLookup.string(at: r)] else { continue }
      let key = PCFKey(player: id, date: pcf.gameDate.values[r].daysSinceEpoch)
      // A duplicate PCF key fails the duplicate_keys gate; the engine keeps the first row read
      // (lowest rowid) so its output stays deterministic even when that gate is overridden.
      if pcfIndex[key] == nil { pcfIndex[key] = r }
    }
    guard groupRows else { return }
    let seasons = Set(source.seasons.map(Int32.init))
    var byKey: [Int64: Int] = [:]
    for i in 0..<pgs.count where pgs.isActive(i) && pgs.seasonYear.validity[i] && pgs.gameDate.validity[i] {
      let season = pgs.seasonYear.values[i]
      guard seasons.contains(season) else { continue }
      let key = Int64(playerID[i]) << 32 | Int64(UInt32(bitPattern: season))
      if let g = byKey[key] {
        groups[g].rows.append(i)
      } else {
        byKey[key] = groups.count
        groups.append(Group(season: season, rows: [i]))
      }
    }
    let d = dates, rowid = pgs.rowid
    for g in groups.indices {
      groups[g].rows.sort { d[$0] != d[$1] ? d[$0] < d[$1] : rowid[$0] < rowid[$1] }
    }
  }

  static func vector(_ name: String, pgs: PlayerGameSummary, derived: [String: DerivedSource]) -> SourceVector {
    if let d = derived[name] {
      let parts = d.operands.map { vector($0, pgs: pgs, derived: derived) }
      var values = parts[0].values
      var validity = parts[0].validity
      for p in parts.dropFirst() {
        for i in values.indices { values[i] += p.values[i] }
        for i in 0..<validity.count where !p.validity[i] { validity[i] = false }
      }
      for i in values.indices where !validity[i] { values[i] = 0 }
      return SourceVector(values: values, validity: validity)
    }
    switch name {
    case "minutes_played": return SourceVector(values: pgs.minutesPlayed.values, validity: pgs.minutesPlayed.validity)
    case "usage_rate": return SourceVector(values: pgs.usageRate.values, validity: pgs.usageRate.validity)
    default:
      let c = pgs.integerStatColumns.first { $0.name == name }?.column ?? Column<Int32>()
      return SourceVector(values: c.values.map(Double.init), validity: c.validity)
    }
  }

  func pcfRow(forPGSRow t: Int) -> Int? {
    pcfIndex[PCFKey(player: playerID[t], date: dates[t])]
  }

  /// The lanes of `window` for `rows`, 8 sources per block.
  func laneBlocks(rows: [Int], window: Plan.WindowPlan) -> [LaneBlock] {
    stride(from: 0, to: window.lanes.count, by: 8).map { start in
      let lanes = window.lanes[start..<Swift.min(start + 8, window.lanes.count)]
      var block = LaneBlock()
      block.values = [SIMD8<Double>](repeating: SIMD8(), count: rows.count)
      block.validBits = [UInt8](repeating: 0, count: rows.count)
      for (k, l) in lanes.enumerated() {
        let v = sources[l]
        for (r, row) in rows.enumerated() where v.validity[row] {
          block.values[r][k] = v.values[row]
          block.validBits[r] |= UInt8(1) << UInt8(k)
        }
      }
      return block
    }
  }

  /// Rows sorted by game_date, then player_lookup bytes; rowid breaks ties between duplicate
  /// keys so the order never depends on how the rows were gathered.
  func outputOrder(_ rows: [Int]) -> [Int] {
    let lookup = source.pgs.playerLookup, rowid = source.pgs.rowid, d = dates
    return rows.sorted { a, b in
      if d[a] != d[b] { return d[a] < d[b] }
      let c = lookup.compareBytes(a, b)
      if c != 0 { return c < 0 }
      return rowid[a] < rowid[b]
    }
  }
}
