import Columnar
import Foundation
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

  /// Which rows get features, the one copy of the rule: a row of history (`isHistoryRow`)
  /// dated where these options put output rows. The engine, the point-in-time check and
  /// `validate`'s prediction of what a build will hold all ask this.
  public func isOutputDate(_ date: Date32, calendar: SeasonCalendar?) -> Bool {
    if !includeBootstrap, calendar?.isBootstrap(date) == true { return false }
    if let dateRange, !dateRange.contains(date) { return false }
    return true
  }

  /// A row that counts in any player's history (and may get features): active, with a season
  /// and a date.
  public static func isHistoryRow(_ pgs: PlayerGameSummary, _ i: Int) -> Bool {
    pgs.isActive(i) && pgs.seasonYear.validity[i] && pgs.gameDate.validity[i]
  }
}

/// The inputs of one `FeatureEngine` run, indexed, and each season's output rows decided.
///
/// Immutable once `start` returns: `compute(season:of:)` only reads it and allocates its own
/// working memory, so two threads may compute two different seasons (or the same one) of one
/// run at the same time.
public struct FeatureRun: Sendable {
  struct SeasonPlan: Sendable {
    var season: Int
    var batch: Batch
    var targets: [Int32]
    var order: [Int32]
  }
  let prepared: Prepared
  let plans: [SeasonPlan]

  /// Season start years, ascending (the order of `compute(season:of:)` indices).
  public var seasons: [Int] { plans.map(\.season) }
  /// Output rows of each season, in `seasons` order.
  public var rowCounts: [Int] { plans.map(\.order.count) }

  /// The same run without the seasons not in `kept` (a build drops a season the dates gave it
  /// when that season has no row in the window).
  public func keeping(seasons kept: Set<Int>) -> FeatureRun {
    FeatureRun(prepared: prepared, plans: plans.filter { kept.contains($0.season) })
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
/// Active rows are grouped by (player, season) once and sorted by date once; a season's groups
/// are laid out back to back as a `LaneMatrix`, and every output row is then computed in output
/// order, each window reduced by the chosen kernel over its own games (WindowKernels.swift).
public struct FeatureEngine: Sendable {
  public let spec: FeatureSetSpec
  public let kernel: KernelChoice
  let plan: Plan

  public init(spec: FeatureSetSpec, kernel: KernelChoice = .columns) {
    self.spec = spec
    self.kernel = kernel
    self.plan = Plan(spec: spec)
  }

  public func compute(source: SourceData, options: FeatureOptions = FeatureOptions()) throws(FeatureComputeError)
    -> [SeasonFeatures]
  {
    let run = start(source: source, options: options)
    var out: [SeasonFeatures] = []
    for k in run.seasons.indices { out.append(try compute(season: k, of: run)) }
    return out
  }

  /// Indexes the inputs once and decides every season's output rows, without computing any
  /// feature yet: a build then computes (and writes) one season at a time with
  /// `compute(season:of:)`, and knows every season's row count up front (the point-in-time
  /// sample is drawn over all output rows before the first season is computed).
  public func start(source: SourceData, options: FeatureOptions = FeatureOptions()) -> FeatureRun {
    let prepared = Prepared(source: source, plan: plan)
    let calendars = SeasonCalendar.calendars(for: source)
    var seasons: [FeatureRun.SeasonPlan] = []
    for season in source.seasons {
      let calendar = calendars[season]
      let batch = prepared.batch(season: Int32(season))
      let (targets, order) = batch.outputOrder { date in
        options.isOutputDate(Date32(daysSinceEpoch: date), calendar: calendar)
      }
      seasons.append(FeatureRun.SeasonPlan(season: season, batch: batch, targets: targets, order: order))
    }
    return FeatureRun(prepared: prepared, plans: seasons)
  }

  /// Season `index` (a position in `run.seasons`) of a run.
  ///
  /// Thread-safe: it reads `run` and writes only memory of its own, so seasons of one run may
  /// be computed concurrently (the result does not depend on what else runs).
  public func compute(season index: Int, of run: FeatureRun) throws(FeatureComputeError) -> SeasonFeatures {
    let p = run.plans[index]
    let rows = p.order.map { p.batch.rows[Int(p.targets[Int($0)])] }
    let (table, overflow): (Table, Int32Overflow?)
    switch kernel {
    case .columns:
      let computed = computeColumns(p, prepared: run.prepared)
      (table, overflow) = assemble(order: rows, prepared: run.prepared) { builder, _ in computed[builder] }
    case .simd, .scalar:
      let columns = sweep(
        p.batch, targets: p.targets, order: p.order, prepared: run.prepared, runningSeasonSums: true, kernel: kernel)
      (table, overflow) = assemble(order: rows, prepared: run.prepared) { columns.column($0, type: $1) }
    }
    if let overflow {
      let pgs = run.prepared.source.pgs
      let row = Int(rows[overflow.row])
      throw FeatureComputeError(
        message:
          "feature \(spec.name), season \(Season.label(p.season)): column \(overflow.column) is \(String(format: "%.0f", overflow.value)) "
          + "for player_lookup \(pgs.playerLookup.string(at: row)), game_date \(pgs.gameDate.values[row]) "
          + "(player_game_summary rowid \(pgs.rowid[row])), past the int32 range of the column (-2147483648 to 2147483647): "
          + "the player_game_summary values it adds up, in that row or the player's games before it, are far beyond any box score"
      )
    }
    try checkDeclaredNulls(table, order: rows, source: run.prepared.source, season: p.season)
    return SeasonFeatures(season: p.season, table: table, sourceRows: rows.map(Int.init))
  }

  /// The computed (window and schedule) columns: output row o is target `targets[order[o]]`,
  /// a position in `batch`. Each target sees only the games of its group before its history
  /// end. `targets` must ascend: the sweep then walks the lane matrix front to back (each
  /// target's window rows are still in cache from the one before), writes each target's
  /// results to one contiguous scratch row, and a final pass moves the rows into output order.
  /// `runningSeasonSums: false` reduces season windows game by game instead of reading the
  /// running sums (same bits; the point-in-time check uses it as an independent path).
  func sweep(
    _ batch: Batch, targets: [Int32], order: [Int32], prepared: Prepared, runningSeasonSums: Bool, kernel: KernelChoice
  )
    -> OutputColumns
  {
    switch kernel {
    // The row sweep has no column form: `.columns` asks for the fastest row kernel here.
    case .simd, .columns: sweep(SIMDKernel.self, batch, targets, order, prepared, runningSeasonSums)
    case .scalar: sweep(ScalarKernel.self, batch, targets, order, prepared, runningSeasonSums)
    }
  }

  func sweep<K: LaneKernel>(
    _: K.Type, _ batch: Batch, _ targets: [Int32], _ order: [Int32], _ prepared: Prepared, _ runningSeasonSums: Bool
  ) -> OutputColumns {
    let seasonSums = runningSeasonSums && plan.windows.contains { $0.window.kind == .season && $0.laneCount > 0 }
    let matrix = prepared.laneMatrix(batch, runningSums: seasonSums)
    defer { matrix.deallocate() }
    for g in batch.groups { K.runningTotals(matrix, group: g, lanes: plan.lanes.count, sums: seasonSums) }
    let stats = LaneStats(lanes: plan.lanes.count)
    defer { stats.deallocate() }
    let scratch = Scratch(targets: targets.count, columns: plan.builderCount)
    defer { scratch.deallocate() }
    plan.flatWindows.withUnsafeBufferPointer { windows in
      plan.extracts.withUnsafeBufferPointer { extracts in
        plan.schedule.withUnsafeBufferPointer { schedule in
          batch.dates.withUnsafeBufferPointer { dates in
            batch.groupStart.withUnsafeBufferPointer { groupStart in
              batch.historyEnd.withUnsafeBufferPointer { historyEnd in
                for (k, t) in targets.enumerated() {
                  let sink = scratch.row(k)
                  let p = Int(t)
                  let start = Int(groupStart[p]), end = Int(historyEnd[p]), date = dates[p]
                  for w in windows {
                    let range = w.window.bounds(dates: dates.baseAddress!, start: start, end: end, date: date)
                    if w.laneCount > 0 {
                      K.counts(matrix, range, lanes: w.laneCount, into: stats)
                      if seasonSums && w.window.kind == .season {
                        // The running sum at `end` is Σ over start..<end, accumulated oldest → newest.
                        stats.sum.update(from: matrix.priorSum + end * matrix.stride, count: w.laneCount)
                      } else {
                        K.sums(matrix, range, lanes: w.laneCount, into: stats)
                      }
                      if w.meanLanes > 0 { K.means(stats, lanes: w.meanLanes) }
                      if w.momentLanes > 0, !range.isEmpty {
                        K.moments(matrix, range, lanes: w.momentLanes, into: stats)
                      }
                    }
                    Self.extract(w, extracts, stats, matrix, range, into: sink)
                  }
                  if !schedule.isEmpty {
                    let rest: Int32? = end > start ? date - dates[end - 1] : nil
                    for s in schedule {
                      switch s.measure {
                      case .daysRest: if let rest { sink.set(s.builder, Double(rest)) }
                      case .backToBack: sink.set(s.builder, rest == 1 ? 1 : 0)
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    let columns = scratch.columns(order: order)
    return columns
  }

  /// Writes window `w`'s outputs for one target: NULL (nothing written) unless the window
  /// holds at least min_periods values, and the aggregate is defined.
  @inline(__always)
  static func extract(
    _ w: Plan.FlatWindow, _ extracts: UnsafeBufferPointer<Plan.Extract>, _ s: LaneStats, _ m: LaneMatrix,
    _ range: Range<Int>,
    into out: Sink
  ) {
    let games = Double(range.count)
    for e in extracts[w.games] where games >= e.minPeriods { out.set(e.builder, games) }
    for e in extracts[w.counts] where s.count[e.lane] >= e.minPeriods { out.set(e.builder, s.count[e.lane]) }
    for e in extracts[w.sums] where s.count[e.lane] >= e.minPeriods { out.set(e.builder, s.sum[e.lane]) }
    for e in extracts[w.means] {
      let count = s.count[e.lane]
      if count >= e.minPeriods, count > 0 { out.set(e.builder, s.mean[e.lane]) }
    }
    for e in extracts[w.lasts] where s.count[e.lane] >= e.minPeriods {
      // The newest present value of the window; none when every value is NULL.
      for r in range.reversed() where m.isPresent(row: r, lane: e.lane) {
        out.set(e.builder, m.value(row: r, lane: e.lane))
        break
      }
    }
    for e in extracts[w.stds] {
      let count = s.count[e.lane]
      if count >= e.minPeriods, count >= 2 { out.set(e.builder, (s.m2[e.lane] / (count - 1)).squareRoot()) }
    }
    for e in extracts[w.slopes] {
      let count = s.count[e.lane]
      if count >= e.minPeriods, count >= 2, s.slopeDenominator[e.lane] != 0 {
        out.set(e.builder, s.slopeNumerator[e.lane] / s.slopeDenominator[e.lane])
      }
    }
  }

  /// The output table of the PGS rows `order`: keys, labels and composite factors gathered,
  /// computed columns from `computed(builder index, declared type)` (row k is output row k).
  func assemble(order: [Int32], prepared: Prepared, computed: (Int, ColumnType) -> AnyColumn) -> (
    table: Table, overflow: Int32Overflow?
  ) {
    var overflow: Int32Overflow?
    let pgs = prepared.source.pgs
    var table = Table(rowCount: order.count)
    var pcfRows: [Int32] = []
    if spec.columns.contains(where: { if case .composite = $0.kind { true } else { false } }) {
      pcfRows = order.map { prepared.pcfRow(forPGSRow: Int($0)) }
    }
    for (ci, c) in spec.columns.enumerated() {
      var column: AnyColumn
      switch c.kind {
      case .key(let k):
        switch k {
        case .gameDate: column = .date32(Gather.column(pgs.gameDate, order))
        case .seasonYear: column = .int32(Gather.column(pgs.seasonYear, order))
        case .playerLookup: column = .utf8(Gather.strings(pgs.playerLookup, order))
        case .gameId: column = .utf8(Gather.strings(pgs.gameId, order))
        case .teamAbbr: column = .utf8(Gather.strings(pgs.teamAbbr, order))
        case .opponentTeamAbbr: column = .utf8(Gather.strings(pgs.opponentTeamAbbr, order))
        case .isHome: column = .bool(Gather.column(pgs.isHome, order))
        }
      case .label(let s):
        let v = prepared.sources[plan.sourceIndex[s] ?? 0]
        column = Gather.typed(v, order, type: c.type)
      case .composite(let cs):
        let pcf = prepared.source.pcf
        switch cs {
        case .present: column = .bool(Column(pcfRows.map { $0 >= 0 }))
        case .fatigueScore: column = .int32(Gather.column(pcf.fatigueScore, pcfRows))
        case .shotZoneMismatchScore: column = .float64(Gather.column(pcf.shotZoneMismatchScore, pcfRows))
        case .paceScore: column = .float64(Gather.column(pcf.paceScore, pcfRows))
        case .usageSpikeScore: column = .float64(Gather.column(pcf.usageSpikeScore, pcfRows))
        case .totalCompositeAdjustment: column = .float64(Gather.column(pcf.totalCompositeAdjustment, pcfRows))
        }
      case .window, .schedule:
        column = computed(plan.builderIndex[ci] ?? 0, c.type)
      }
      if c.type == .int32, case .float64(let wide) = column {
        // Past the int32 range: the first such value is reported, and the column is left
        // NULL (the table is never published; `compute` throws).
        let row = (0..<wide.count).first { wide.validity[$0] && !Int32Output.fits(wide.values[$0]) } ?? 0
        overflow = overflow ?? Int32Overflow(column: c.name, row: row, value: wide.values[row])
        column = .int32(
          Column(
            values: [Int32](repeating: 0, count: wide.count),
            validity: ValidityBitmap(count: wide.count, allValid: false)))
      }
      table.append(c.field, column)
    }
    return (table, overflow)
  }

  /// Enforces the spec's non-nullable declarations on an output table.
  func checkDeclaredNulls(_ table: Table, order: [Int32], source: SourceData, season: Int) throws(FeatureComputeError) {
    let pgs = source.pgs
    for (c, column) in zip(spec.columns, table.columns) where !c.nullable && column.nullCount > 0 {
      let first = (0..<order.count).first { !column.validity[$0] } ?? 0
      let row = Int(order[first])
      throw FeatureComputeError(
        message:
          "feature \(spec.name), season \(Season.label(season)): column \(c.name) is declared not nullable but has \(column.nullCount) NULL value(s); first at player_lookup \(pgs.playerLookup.string(at: row)), game_date \(pgs.gameDate.values[row]) (player_game_summary rowid \(pgs.rowid[row]))"
      )
    }
  }
}

/// One target's results in the sweep's scratch: a row of Doubles (+0.0 where NULL) and its
/// validity words.
struct Sink {
  let values: UnsafeMutablePointer<Double>
  let bits: UnsafeMutablePointer<UInt64>

  @inline(__always)
  func set(_ column: Int, _ value: Double) {
    values[column] = value
    bits[column >> 6] |= UInt64(1) << UInt64(column & 63)
  }
}

/// The sweep's results, a row per target in sweep order; `columns(order:)` turns them into
/// output columns. Whoever allocates it calls `deallocate()`.
struct Scratch {
  let targets: Int
  let width: Int
  let wordsPerRow: Int
  let values: UnsafeMutablePointer<Double>
  let bits: UnsafeMutablePointer<UInt64>

  init(targets: Int, columns: Int) {
    self.targets = targets
    width = columns
    wordsPerRow = (columns + 63) / 64
    values = .allocate(capacity: Swift.max(1, targets * columns))
    values.initialize(repeating: 0, count: Swift.max(1, targets * columns))
    bits = .allocate(capacity: Swift.max(1, targets * wordsPerRow))
    bits.initialize(repeating: 0, count: Swift.max(1, targets * wordsPerRow))
  }

  func deallocate() {
    values.deallocate()
    bits.deallocate()
  }

  @inline(__always)
  func row(_ k: Int) -> Sink { Sink(values: values + k * width, bits: bits + k * wordsPerRow) }

  /// Output row o = scratch row `order[o]`, moved in blocks of 64 output rows: one block's
  /// scratch rows stay in cache while every column takes its 64 values (and one validity
  /// word). Row by row, the 57 column streams would all sit at the same address modulo 4 KiB
  /// and evict each other from L1.
  func columns(order: [Int32]) -> OutputColumns {
    let rows = order.count
    let wordsPerColumn = (rows + 63) / 64
    var columnBits = [UInt64](repeating: 0, count: Swift.max(1, width * wordsPerColumn))
    let columnValues = OutputColumns.build(count: width, rows: rows) { columns in
      columnBits.withUnsafeMutableBufferPointer { out in
        order.withUnsafeBufferPointer { order in
          // The block's scratch rows, values and validity words, copied side by side first so
          // the column loop below reads one small contiguous buffer.
          let blockValues = UnsafeMutablePointer<Double>.allocate(capacity: 64 * width)
          defer { blockValues.deallocate() }
          let blockBits = UnsafeMutablePointer<UInt64>.allocate(capacity: 64 * wordsPerRow)
          defer { blockBits.deallocate() }
          var block = 0
          while block < rows {
            let n = Swift.min(64, rows - block)
            for j in 0..<n {
              let k = Int(order[block + j])
              (blockValues + j * width).initialize(from: values + k * width, count: width)
              (blockBits + j * wordsPerRow).initialize(from: bits + k * wordsPerRow, count: wordsPerRow)
            }
            for c in 0..<width {
              let dst = columns[c] + block
              let shift = UInt64(c & 63)
              var word: UInt64 = 0
              for j in 0..<n {
                dst[j] = blockValues[j * width + c]
                word |= ((blockBits[j * wordsPerRow + c >> 6] >> shift) & 1) << UInt64(j)
              }
              out[c * wordsPerColumn + block >> 6] = word
            }
            block += 64
          }
        }
      }
    }
    return OutputColumns(rows: rows, wordsPerColumn: wordsPerColumn, values: columnValues, bits: columnBits)
  }
}

/// The computed columns of a sweep in output order: Doubles (+0.0 where NULL, as Column's
/// invariant wants) and validity words, converted to the declared types at the end.
struct OutputColumns {
  let rows: Int
  let wordsPerColumn: Int
  var values: [[Double]]
  var bits: [UInt64]

  /// `count` arrays of `rows` Doubles, every element written by `body` through pointers. Each
  /// array is built in place inside its own `unsafeUninitializedCapacity` scope, the scopes
  /// nested so `body` sees every column at once: the float64 columns become output columns
  /// without a copy.
  static func build(count: Int, rows: Int, _ body: (UnsafeBufferPointer<UnsafeMutablePointer<Double>>) -> Void)
    -> [[Double]]
  {
    guard rows > 0 else { return Array(repeating: [], count: count) }
    var pointers: [UnsafeMutablePointer<Double>] = []
    pointers.reserveCapacity(count)
    var innermostFirst: [[Double]] = []
    func level() {
      if pointers.count == count {
        pointers.withUnsafeBufferPointer(body)
        return
      }
      let column = [Double](unsafeUninitializedCapacity: rows) { buffer, initialized in
        pointers.append(buffer.baseAddress!)
        level()
        initialized = rows
      }
      innermostFirst.append(column)
    }
    level()
    return innermostFirst.reversed()
  }

  /// Column `c` as the declared type. The spec loader only allows int32 for counts and integer
  /// sources, whose Doubles are exact integers (`Int32Output` for the range); bool columns
  /// hold 0 or 1.
  func column(_ c: Int, type: ColumnType) -> AnyColumn {
    let validity = bits.withUnsafeBufferPointer {
      Gather.bitmap(UnsafeBufferPointer(rebasing: $0[c * wordsPerColumn..<(c + 1) * wordsPerColumn]), count: rows)
    }
    switch type {
    case .int32: return Int32Output.column(values[c], validity: validity)
    case .bool: return .bool(Column(values: values[c].map { $0 != 0 }, validity: validity))
    default: return .float64(Column(values: values[c], validity: validity))
    }
  }
}

/// Row gathers written as plain loops over buffers: `Column.gather` appends value by value
/// through generic code that is not specialised across the module boundary.
/// An int32 output column from its computed Doubles (exact integers, 0 where NULL).
///
/// Integer sources are int32, but a sum over a window, or a label that adds two of them
/// (rebounds), can pass 2^31 when a source holds an absurd value that no gate forbids (a range
/// rule warns below 0.1 % of rows). Such a column comes back as float64, the values as
/// computed, so `FeatureEngine.assemble` can name the row and the value instead of the
/// conversion trapping.
enum Int32Output {
  @inline(__always) static func fits(_ v: Double) -> Bool { v >= -2_147_483_648 && v <= 2_147_483_647 }

  static func column(_ values: [Double], validity: ValidityBitmap) -> AnyColumn {
    var allFit = true
    for v in values where !fits(v) { allFit = false }
    guard allFit else { return .float64(Column(values: values, validity: validity)) }
    return .int32(Column(values: values.map { Int32($0) }, validity: validity))
  }
}

/// A value of an int32 feature past the int32 range (see `Int32Output`): the first one found.
struct Int32Overflow {
  var column: String
  /// Output row.
  var row: Int
  var value: Double
}

enum Gather {
  static func bitmap(_ words: UnsafeBufferPointer<UInt64>, count: Int) -> ValidityBitmap {
    guard count > 0 else { return ValidityBitmap(count: 0, allValid: false) }
    return ValidityBitmap(packedBytes: UnsafeRawBufferPointer(words), count: count)
  }

  /// Bit `rows[k]` of `v` as bit k; a negative row is NULL.
  static func bits(_ v: ValidityBitmap, _ rows: [Int32]) -> ValidityBitmap {
    var words = [UInt64](repeating: 0, count: (rows.count + 63) / 64)
    v.words.withUnsafeBufferPointer { src in
      words.withUnsafeMutableBufferPointer { dst in
        for (k, r) in rows.enumerated() where r >= 0 {
          let i = Int(r)
          dst[k >> 6] |= ((src[i >> 6] >> UInt64(i & 63)) & 1) << UInt64(k & 63)
        }
      }
    }
    return words.withUnsafeBufferPointer { bitmap($0, count: rows.count) }
  }

  /// Rows `rows` of `c`; a negative row gives NULL.
  static func column<E: ColumnElement>(_ c: Column<E>, _ rows: [Int32]) -> Column<E> {
    let values = c.values.withUnsafeBufferPointer { src in
      rows.map { $0 >= 0 ? src[Int($0)] : E.nullPlaceholder }
    }
    return Column(values: values, validity: bits(c.validity, rows))
  }

  static func strings(_ c: StringColumn, _ rows: [Int32]) -> StringColumn {
    let validity = bits(c.validity, rows)
    var offsets = [Int32](repeating: 0, count: rows.count + 1)
    var total = 0
    c.offsets.withUnsafeBufferPointer { off in
      validity.words.withUnsafeBufferPointer { valid in
        for (k, r) in rows.enumerated() {
          // NULL rows keep no bytes, whatever the source held under them.
          if (valid[k >> 6] >> UInt64(k & 63)) & 1 != 0 { total += Int(off[Int(r) + 1] - off[Int(r)]) }
          offsets[k + 1] = Int32(total)
        }
      }
    }
    let bytes = [UInt8](unsafeUninitializedCapacity: total) { dst, initialized in
      c.bytes.withUnsafeBufferPointer { src in
        c.offsets.withUnsafeBufferPointer { off in
          for (k, r) in rows.enumerated() {
            let n = Int(offsets[k + 1] - offsets[k])
            guard n > 0 else { continue }
            let from = Int(off[Int(r)])
            UnsafeMutableRawPointer(dst.baseAddress! + Int(offsets[k])).copyMemory(
              from: src.baseAddress! + from, byteCount: n)
          }
        }
      }
      initialized = total
    }
    return StringColumn(offsets: offsets, bytes: bytes, validity: validity)
  }

  /// A stat source's values at `rows`, as the declared type (int32 only for integer sources).
  static func typed(_ v: SourceVector, _ rows: [Int32], type: ColumnType) -> AnyColumn {
    let validity = bits(v.validity, rows)
    func gather<T>(_ src: UnsafeBufferPointer<T>, _ double: (T) -> Double) -> AnyColumn {
      validity.words.withUnsafeBufferPointer { valid in
        // NULL slots get the placeholder (0 / false), as Column's invariant requires.
        func value(_ k: Int) -> Double { (valid[k >> 6] >> UInt64(k & 63)) & 1 != 0 ? double(src[Int(rows[k])]) : 0 }
        switch type {
        case .int32: return Int32Output.column(rows.indices.map { value($0) }, validity: validity)
        case .bool: return .bool(Column(values: rows.indices.map { value($0) != 0 }, validity: validity))
        default: return .float64(Column(values: rows.indices.map { value($0) }, validity: validity))
        }
      }
    }
    return v.withValues { values in
      switch values {
      case .int32(let b): gather(b) { Double($0) }
      case .double(let b): gather(b) { $0 }
      }
    }
  }
}

/// What the spec asks the sweep to compute, resolved once.
struct Plan: Sendable {
  struct WindowUse: Sendable {
    var builder: Int
    /// Lane of the `LaneMatrix`; −1 for a count of games.
    var lane: Int
    var aggregate: Aggregate
    var minPeriods: Int
  }
  struct WindowPlan: Sendable {
    var window: FeatureWindow
    var uses: [WindowUse]
    /// Lanes 0..<laneCount cover every source this window reads; 0..<momentLanes every source
    /// it needs m2 or a slope for.
    var laneCount: Int
    var momentLanes: Int
  }
  struct ScheduleUse: Sendable {
    var builder: Int
    var measure: ScheduleMeasure
  }
  /// One output of a window as the sweep's inner loop reads it.
  struct Extract: Sendable {
    var lane: Int
    var builder: Int
    var minPeriods: Double
  }
  /// A window as the sweep's inner loop reads it: plain values, and its outputs as ranges of
  /// `extracts`, one range per aggregate, so each extraction loop runs without a switch.
  struct FlatWindow: Sendable {
    var window: FeatureWindow
    var laneCount: Int
    var momentLanes: Int
    /// Lanes 0..<meanLanes cover every source this window averages.
    var meanLanes: Int
    var games, counts, sums, means, lasts, stds, slopes: Range<Int>
  }

  /// Every stat source named by a window or a label, in first-use order.
  var sources: [String] = []
  var sourceIndex: [String: Int] = [:]
  /// The `Plan.sources` index of each matrix lane: sources that need moments (std, slope) come
  /// first, so the moment pass covers the fewest lanes.
  var lanes: [Int] = []
  var windows: [WindowPlan] = []
  var schedule: [ScheduleUse] = []
  /// Spec column index → builder index, for window and schedule columns.
  var builderIndex: [Int: Int] = [:]
  var derived: [String: DerivedSource] = [:]
  var builderCount = 0
  var flatWindows: [FlatWindow] = []
  var extracts: [Extract] = []

  init(spec: FeatureSetSpec) {
    for d in spec.derivedSources { derived[d.name] = d }
    func sourceID(_ s: String) -> Int {
      if let i = sourceIndex[s] { return i }
      sourceIndex[s] = sources.count
      sources.append(s)
      return sources.count - 1
    }
    var momentSources: [Int] = [], otherSources: [Int] = []
    for c in spec.columns {
      switch c.kind {
      case .label(let s):
        _ = sourceID(s)
      case .window(let s?, _, let agg, _):
        let id = sourceID(s)
        if agg == .std || agg == .slope {
          if !momentSources.contains(id) { momentSources.append(id) }
        } else if !otherSources.contains(id) {
          otherSources.append(id)
        }
      default:
        break
      }
    }
    lanes = momentSources + otherSources.filter { !momentSources.contains($0) }
    var builders = 0
    for (ci, c) in spec.columns.enumerated() {
      switch c.kind {
      case .window(let s, let w, let agg, let minP):
        builderIndex[ci] = builders
        var wi = windows.firstIndex { $0.window == w }
        if wi == nil {
          windows.append(WindowPlan(window: w, uses: [], laneCount: 0, momentLanes: 0))
          wi = windows.count - 1
        }
        var lane = -1
        if let s, let id = sourceIndex[s], let l = lanes.firstIndex(of: id) {
          lane = l
          windows[wi!].laneCount = Swift.max(windows[wi!].laneCount, l + 1)
          if agg == .std || agg == .slope { windows[wi!].momentLanes = Swift.max(windows[wi!].momentLanes, l + 1) }
        }
        windows[wi!].uses.append(WindowUse(builder: builders, lane: lane, aggregate: agg, minPeriods: minP))
        builders += 1
      case .schedule(let m):
        builderIndex[ci] = builders
        schedule.append(ScheduleUse(builder: builders, measure: m))
        builders += 1
      case .key, .label, .composite:
        break
      }
    }
    builderCount = builders
    for w in windows {
      func take(_ keep: (WindowUse) -> Bool) -> Range<Int> {
        let first = extracts.count
        for u in w.uses where keep(u) {
          extracts.append(Extract(lane: u.lane, builder: u.builder, minPeriods: Double(u.minPeriods)))
        }
        return first..<extracts.count
      }
      let meanLanes = w.uses.filter { $0.aggregate == .mean && $0.lane >= 0 }.map { $0.lane + 1 }.max() ?? 0
      flatWindows.append(
        FlatWindow(
          window: w.window, laneCount: w.laneCount, momentLanes: w.momentLanes, meanLanes: meanLanes,
          games: take { $0.lane < 0 }, counts: take { $0.lane >= 0 && $0.aggregate == .count },
          sums: take { $0.lane >= 0 && $0.aggregate == .sum }, means: take { $0.lane >= 0 && $0.aggregate == .mean },
          lasts: take { $0.lane >= 0 && $0.aggregate == .last }, stds: take { $0.lane >= 0 && $0.aggregate == .std },
          slopes: take { $0.lane >= 0 && $0.aggregate == .slope }))
    }
  }
}

/// A stat source per PGS row and its validity bitmap: Double values (+0.0 where NULL), or,
/// for an integer PGS column, that column's own Int32 storage (shared, not copied: converting
/// the integer columns to Double up front cost 16 MB per source per million rows).
struct SourceVector: Sendable {
  var values: [Double] = []
  var ints: [Int32] = []
  var isInteger = false
  var validity: ValidityBitmap

  /// Calls `body` with the values as a buffer of their own type and a conversion to Double
  /// that the generic caller's loop specialises: one branch per call, none per value.
  @inline(__always)
  func withValues<R>(_ body: (SourceValues) -> R) -> R {
    if isInteger {
      return ints.withUnsafeBufferPointer { body(.int32($0)) }
    }
    return values.withUnsafeBufferPointer { body(.double($0)) }
  }

  /// Every value as Double (NULL → whatever the slot holds), materialised.
  var doubles: [Double] { isInteger ? ints.map(Double.init) : values }
}

enum SourceValues {
  case int32(UnsafeBufferPointer<Int32>)
  case double(UnsafeBufferPointer<Double>)
}

/// Histories laid out for a sweep: groups back to back, each one player's games of one season
/// oldest first, as positions; `rows` maps a position to its PGS row.
struct Batch: Sendable {
  var rows: [Int32] = []
  var dates: [Int32] = []
  /// Per position: the first position of its group, and its history end (the first position
  /// of its group dated on or after its own date, so start..<end are the games strictly before).
  var groupStart: [Int32] = []
  var historyEnd: [Int32] = []
  var groups: [Range<Int>] = []

  /// Appends one group; `pgsRows` must be sorted by (game_date, rowid).
  mutating func appendGroup(_ pgsRows: UnsafeBufferPointer<Int32>, dates d: UnsafeBufferPointer<Int32>) {
    let start = rows.count
    var end = start
    for (k, r) in pgsRows.enumerated() {
      let date = d[Int(r)]
      if k == 0 || date != dates[dates.count - 1] { end = start + k }
      rows.append(r)
      dates.append(date)
      groupStart.append(Int32(start))
      historyEnd.append(Int32(end))
    }
    groups.append(start..<rows.count)
  }

  /// The positions that `include` keeps (by date), ascending, and the output order as indices
  /// into them: sorted by (game_date, player_lookup bytes, rowid). Groups are laid out in
  /// player byte order and each group in (date, rowid) order, so a stable sort by date alone
  /// gives that order; a counting sort does it in O(n) when the dates span a sane range.
  func outputOrder(include: (Int32) -> Bool) -> (targets: [Int32], order: [Int32]) {
    var kept: [Int32] = []
    kept.reserveCapacity(rows.count)
    var lo = Int32.max, hi = Int32.min
    for (p, d) in dates.enumerated() where include(d) {
      kept.append(Int32(p))
      lo = Swift.min(lo, d)
      hi = Swift.max(hi, d)
    }
    guard kept.count > 1 else { return (kept, kept.indices.map(Int32.init)) }
    let span = Int(hi) - Int(lo) + 1
    guard span <= 4 * kept.count + 4096 else {
      let d = dates
      let order = kept.indices.map(Int32.init).sorted { a, b in
        let da = d[Int(kept[Int(a)])], db = d[Int(kept[Int(b)])]
        return da != db ? da < db : a < b
      }
      return (kept, order)
    }
    var start = [Int](repeating: 0, count: span + 1)
    for p in kept { start[Int(dates[Int(p)] - lo) + 1] += 1 }
    for i in 0..<span { start[i + 1] += start[i] }
    var order = [Int32](repeating: 0, count: kept.count)
    for (k, p) in kept.enumerated() {
      let b = Int(dates[Int(p)] - lo)
      order[start[b]] = Int32(k)
      start[b] += 1
    }
    return (kept, order)
  }
}

/// The source tables indexed for the sweep: stat vectors, player keys, active rows grouped by
/// (player, season) and sorted by date, the PCF join.
struct Prepared: Sendable {
  struct Group: Sendable {
    var season: Int32
    /// Positions in `groupRows`: PGS rows, active only, sorted by (game_date, rowid).
    var range: Range<Int>
  }

  let source: SourceData
  let plan: Plan
  var sources: [SourceVector] = []
  var dates: [Int32]
  let players: PlayerKeys
  /// Groups in (player byte order, season) order.
  var groups: [Group] = []
  var groupRows: [Int32] = []
  var pcfIndex: PairIndex

  init(source: SourceData, plan: Plan, groupRows wantGroups: Bool = true) {
    self.source = source
    self.plan = plan
    let pgs = source.pgs
    dates = pgs.gameDate.values.map(\.daysSinceEpoch)
    players = PlayerKeys(pgs.playerLookup)
    sources = plan.sources.map { Self.vector($0, pgs: pgs, derived: plan.derived) }
    let pcf = source.pcf
    pcfIndex = PairIndex(capacity: pcf.count)
    let ranks = players.ranks(of: pcf.playerLookup)
    pcf.gameDate.values.withUnsafeBufferPointer { dates in
      for r in 0..<pcf.count where ranks[r] >= 0 {
        // A duplicate PCF key fails the duplicate_keys gate; the engine keeps the first row
        // read (lowest rowid) so its output stays deterministic even when that gate is
        // overridden.
        pcfIndex.insertIfAbsent(player: ranks[r], date: dates[r].daysSinceEpoch, row: Int32(r))
      }
    }
    guard wantGroups else { return }
    groupActiveRows()
  }

  /// Active rows of the requested seasons, bucketed by player (counting sort on the player
  /// rank, so buckets come in byte order), each bucket sorted by (season, date, rowid) and cut
  /// into one group per season.
  mutating func groupActiveRows() {
    let pgs = source.pgs
    // A table of the requested seasons, not `contains` on their list: a 75-season build
    // would otherwise compare every row with up to 75 seasons.
    let lowest = source.seasons.min() ?? 0
    var requested = [Bool](repeating: false, count: (source.seasons.max() ?? 0) - lowest + 1)
    for s in source.seasons { requested[s - lowest] = true }
    var start = [Int](repeating: 0, count: players.count + 1)
    var eligible: [Int32] = []
    eligible.reserveCapacity(pgs.count)
    for i in 0..<pgs.count where FeatureOptions.isHistoryRow(pgs, i) {
      let slot = Int(pgs.seasonYear.values[i]) - lowest
      guard slot >= 0, slot < requested.count, requested[slot] else { continue }
      eligible.append(Int32(i))
      start[Int(players.rank[i]) + 1] += 1
    }
    for p in 0..<players.count { start[p + 1] += start[p] }
    var rows = [Int32](repeating: 0, count: eligible.count)
    var next = start
    for i in eligible {
      let p = Int(players.rank[Int(i)])
      rows[next[p]] = i
      next[p] += 1
    }
    let d = dates, rowid = pgs.rowid, season = pgs.seasonYear.values
    func before(_ a: Int32, _ b: Int32) -> Bool {
      let a = Int(a), b = Int(b)
      if season[a] != season[b] { return season[a] < season[b] }
      if d[a] != d[b] { return d[a] < d[b] }
      return rowid[a] < rowid[b]
    }
    rows.withUnsafeMutableBufferPointer { buf in
      for p in 0..<players.count where start[p + 1] - start[p] > 1 {
        let bucket = start[p]..<start[p + 1]
        // Exports usually list a player's games in date order already.
        var sorted = true
        for k in bucket.dropFirst() where before(buf[k], buf[k - 1]) {
          sorted = false
          break
        }
        if !sorted {
          var part = UnsafeMutableBufferPointer(rebasing: buf[bucket])
          part.sort(by: before)
        }
      }
    }
    for p in 0..<players.count {
      var k = start[p]
      while k < start[p + 1] {
        let s = season[Int(rows[k])]
        var e = k + 1
        while e < start[p + 1], season[Int(rows[e])] == s { e += 1 }
        groups.append(Group(season: s, range: k..<e))
        k = e
      }
    }
    groupRows = rows
  }

  /// One season's groups, in player byte order.
  func batch(season: Int32) -> Batch {
    var b = Batch()
    var n = 0
    for g in groups where g.season == season { n += g.range.count }
    b.rows.reserveCapacity(n)
    b.dates.reserveCapacity(n)
    b.groupStart.reserveCapacity(n)
    b.historyEnd.reserveCapacity(n)
    groupRows.withUnsafeBufferPointer { rows in
      dates.withUnsafeBufferPointer { d in
        for g in groups where g.season == season {
          b.appendGroup(UnsafeBufferPointer(rebasing: rows[g.range]), dates: d)
        }
      }
    }
    return b
  }

  /// The batch's games as lanes (NULL → +0.0 and a zero mask). The caller deallocates it.
  func laneMatrix(_ batch: Batch, runningSums: Bool) -> LaneMatrix {
    let m = LaneMatrix(rows: batch.rows.count, lanes: plan.lanes.count, runningSums: runningSums)
    for lane in 0..<m.stride {
      guard lane < plan.lanes.count else {
        for p in 0..<m.rows {
          m.values[p * m.stride + lane] = 0
          m.masks[p * m.stride + lane] = 0
        }
        continue
      }
      let v = sources[plan.lanes[lane]]
      func fill<T>(_ values: UnsafeBufferPointer<T>, _ double: (T) -> Double) {
        v.validity.words.withUnsafeBufferPointer { valid in
          batch.rows.withUnsafeBufferPointer { rows in
            for (p, r) in rows.enumerated() {
              let i = Int(r)
              let present = (valid[i >> 6] >> UInt64(i & 63)) & 1 != 0
              m.values[p * m.stride + lane] = present ? double(values[i]) : 0
              m.masks[p * m.stride + lane] = present ? -1 : 0
            }
          }
        }
      }
      v.withValues { values in
        switch values {
        case .int32(let b): fill(b) { Double($0) }
        case .double(let b): fill(b) { $0 }
        }
      }
    }
    return m
  }

  static func vector(_ name: String, pgs: PlayerGameSummary, derived: [String: DerivedSource]) -> SourceVector {
    if let d = derived[name] {
      let parts = d.operands.map { vector($0, pgs: pgs, derived: derived) }
      var values = parts[0].doubles
      var words = parts[0].validity.words
      for p in parts.dropFirst() {
        let add = p.doubles
        for i in values.indices { values[i] += add[i] }
        for w in words.indices { words[w] &= p.validity.words[w] }
      }
      let validity = words.withUnsafeBufferPointer { Gather.bitmap($0, count: values.count) }
      return zeroed(values, validity)
    }
    switch name {
    case "minutes_played": return zeroed(pgs.minutesPlayed.values, pgs.minutesPlayed.validity)
    case "usage_rate": return zeroed(pgs.usageRate.values, pgs.usageRate.validity)
    default:
      let c = pgs.integerStatColumns.first { $0.name == name }?.column ?? Column<Int32>()
      // Every reader checks the validity bit before it uses a value, so a NULL slot's
      // placeholder never reaches a sum.
      return SourceVector(ints: c.values, isInteger: true, validity: c.validity)
    }
  }

  /// Clears NULL slots to +0.0 even if a source broke Column's placeholder invariant: the SIMD
  /// kernel adds them.
  static func zeroed(_ values: [Double], _ validity: ValidityBitmap) -> SourceVector {
    var values = values
    validity.words.withUnsafeBufferPointer { valid in
      values.withUnsafeMutableBufferPointer { v in
        for i in v.indices where (valid[i >> 6] >> UInt64(i & 63)) & 1 == 0 { v[i] = 0 }
      }
    }
    return SourceVector(values: values, validity: validity)
  }

  /// The PCF row with this PGS row's (player_lookup, game_date), or −1.
  func pcfRow(forPGSRow t: Int) -> Int32 {
    pcfIndex.find(player: players.rank[t], date: dates[t])
  }
}

/// Dense ids for player_lookup values by their bytes (the identity SQL uses), numbered in byte
/// order, so grouping, joins and the output sort compare integers. NULL counts as "".
struct PlayerKeys: Sendable {
  /// Per PGS row.
  var rank: [Int32]
  var count: Int
  /// Open addressing: the PGS row where a key first occurs (−1 = empty), and that key's rank.
  private var slotRow: [Int32]
  private var slotRank: [Int32]
  private var mask: Int
  private let column: StringColumn

  init(_ c: StringColumn) {
    column = c
    let n = c.count
    var capacity = 16
    while capacity < 2 * n { capacity <<= 1 }
    mask = capacity - 1
    var slotRow = [Int32](repeating: -1, count: capacity)
    var slotOf = [Int32](repeating: 0, count: n)
    var firstRows: [Int32] = []
    c.bytes.withUnsafeBufferPointer { bytes in
      c.offsets.withUnsafeBufferPointer { off in
        slotRow.withUnsafeMutableBufferPointer { slots in
          for i in 0..<n {
            let s = Int(off[i]), len = Int(off[i + 1]) - s
            let key = UnsafeRawPointer(bytes.baseAddress.map { $0 + s })
            var h = Self.hash(key, len) & (capacity - 1)
            while true {
              let r = Int(slots[h])
              if r < 0 {
                slots[h] = Int32(i)
                firstRows.append(Int32(i))
                break
              }
              let rs = Int(off[r])
              if Int(off[r + 1]) - rs == len, len == 0 || memcmp(key!, bytes.baseAddress! + rs, len) == 0 { break }
              h = (h + 1) & (capacity - 1)
            }
            slotOf[i] = Int32(h)
          }
        }
      }
    }
    // Ranks in byte order of the distinct keys.
    let sortedFirst = firstRows.sorted { c.compareBytes(Int($0), Int($1)) < 0 }
    var rankOfRow = [Int32](repeating: 0, count: n)
    for (k, r) in sortedFirst.enumerated() { rankOfRow[Int(r)] = Int32(k) }
    var slotRank = [Int32](repeating: -1, count: capacity)
    for h in 0..<capacity where slotRow[h] >= 0 { slotRank[h] = rankOfRow[Int(slotRow[h])] }
    rank = slotOf.map { slotRank[Int($0)] }
    count = firstRows.count
    self.slotRow = slotRow
    self.slotRank = slotRank
  }

  /// The rank of each value of `other` (by bytes), −1 where no PGS row has it.
  func ranks(of other: StringColumn) -> [Int32] {
    column.bytes.withUnsafeBufferPointer { bytes in
      column.offsets.withUnsafeBufferPointer { off in
        other.bytes.withUnsafeBufferPointer { otherBytes in
          other.offsets.withUnsafeBufferPointer { otherOff in
            (0..<other.count).map { i -> Int32 in
              let s = Int(otherOff[i]), len = Int(otherOff[i + 1]) - s
              let key = UnsafeRawPointer(otherBytes.baseAddress.map { $0 + s })
              var h = Self.hash(key, len) & mask
              while true {
                let r = Int(slotRow[h])
                if r < 0 { return -1 }
                let rs = Int(off[r])
                if Int(off[r + 1]) - rs == len, len == 0 || memcmp(key!, bytes.baseAddress! + rs, len) == 0 {
                  return slotRank[h]
                }
                h = (h + 1) & mask
              }
            }
          }
        }
      }
    }
  }

  /// A multiplicative hash over 8-byte words.
  @inline(__always)
  static func hash(_ p: UnsafeRawPointer?, _ n: Int) -> Int {
    var h = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
    var i = 0
    if let p {
      while i + 8 <= n {
        h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 32
        i += 8
      }
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while i < n {
        tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
        shift += 8
        i += 1
      }
      h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
    }
    h ^= h >> 29
    return Int(truncatingIfNeeded: h)
  }
}

/// (player rank, date) → row, open addressing; the first row inserted for a key wins.
struct PairIndex: Sendable {
  private var keys: [UInt64]
  private var rows: [Int32]
  private let mask: Int

  init(capacity n: Int) {
    var capacity = 16
    while capacity < 2 * n { capacity <<= 1 }
    mask = capacity - 1
    keys = [UInt64](repeating: 0, count: capacity)
    rows = [Int32](repeating: -1, count: capacity)
  }

  @inline(__always)
  static func key(_ player: Int32, _ date: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: player)) << 32 | UInt64(UInt32(bitPattern: date))
  }

  @inline(__always)
  func slot(_ key: UInt64) -> Int {
    Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
  }

  mutating func insertIfAbsent(player: Int32, date: Int32, row: Int32) {
    let k = Self.key(player, date)
    var h = slot(k)
    while rows[h] >= 0 {
      if keys[h] == k { return }
      h = (h + 1) & mask
    }
    keys[h] = k
    rows[h] = row
  }

  func find(player: Int32, date: Int32) -> Int32 {
    let k = Self.key(player, date)
    var h = slot(k)
    while rows[h] >= 0 {
      if keys[h] == k { return rows[h] }
      h = (h + 1) & mask
    }
    return -1
  }
}
