// The direct b-tree tier of `SourceReader.read` against the checked path it must equal, value
// for value and row for row, on generated files covering what the file format lets a table
// hold (page sizes 512 and 65536, reserved bytes, overflow chains, ALTER TABLE ADD COLUMN,
// REAL affinity, every integer width, auto_vacuum pointer maps, freelist reuse, seasons
// interleaved in rowid order), and its fallback on what it does not handle: the result or
// the error is then the checked path's.
import CSQLite
import Columnar
import Foundation
import Importer
import Testing

@testable import SQLiteSource
import TestSupport

private typealias Rng = SeededRandom

private enum Value { case null, int(Int64), real(Double), text(String) }

private struct TempDir {
  let dir = NSTemporaryDirectory() + "btree-read-tests-" + UUID().uuidString
  init() { try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
  func path(_ name: String) -> String { dir + "/" + name }
  func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// One generated file's shape.
struct Shape: CustomStringConvertible, Sendable {
  var seed: UInt64
  var pageSize = 4096
  /// Declared column types (TEXT / INTEGER / REAL, an INTEGER PRIMARY KEY first, two integer
  /// columns declared REAL) instead of none: REAL affinity makes SQLite store whole numbers
  /// as integers and report them as REAL.
  var typed = false
  var reserved = 0
  var autoVacuum = false
  /// The tables created without their last columns, rows written, then ALTER TABLE ADD COLUMN.
  var addColumn = false
  /// Some texts long enough to spill into chains of overflow pages.
  var longText = false
  /// Rows deleted then more written, reusing freelist pages.
  var churn = false
  var interleave = false
  /// Indexes on both selectors (`season_year`, `game_date`), as `dataset import` creates them.
  var indexed = true
  var seasons = [2019, 2020, 2021]
  var requested = [2019, 2020, 2021]
  var rowsPerSeason = 200

  var description: String {
    var s = "seed \(seed), page \(pageSize)"
    if typed { s += ", typed" }
    if reserved > 0 { s += ", reserved \(reserved)" }
    if autoVacuum { s += ", auto_vacuum" }
    if addColumn { s += ", add column" }
    if longText { s += ", long text" }
    if churn { s += ", churn" }
    if interleave { s += ", interleaved" }
    if !indexed { s += ", no indexes" }
    return s + ", seasons \(requested) of \(seasons)"
  }
}

private let names = [
  "Nikola Jokić", "Luka Dončić", "Dāvis Bertāns", "Ömer Yurtseven", "LeBron James", "", "名前", "🏀 emoji", "O'Neal",
]

/// Integers of every serial width (1, 2, 3, 4, 6 and 8 bytes, and the 0 and 1 of types 8/9),
/// both signs, within `limit`.
private func integer(_ g: inout Rng, limit: Int64) -> Int64 {
  let magnitudes: [Int64] = [
    0, 1, 2, 127, 128, 32767, 32768, 8_388_607, 8_388_608, 2_147_483_647, 1 << 40, 1 << 47, 1 << 48, Int64.max,
  ]
  let m = min(g.pick(magnitudes), limit)
  return g.chance(50) ? m : (m == Int64.max ? Int64.min : -m)
}

private func iso(_ d: Date32) -> String { CivilDate(d).description }

private func value(_ kind: ColumnSpec.Kind, _ g: inout Rng, date: Date32, season: Int, long: Bool) -> Value {
  func text() -> String {
    long && g.chance(8) ? String(repeating: g.pick(names) + " ", count: 50 + g.below(4000)) : g.pick(names)
  }
  switch kind {
  case .text(let required): return !required && g.chance(20) ? .null : .text(text())
  case .integer(let required):
    if required { return .int(Int64(season)) }
    if g.chance(10) { return .null }
    // A whole REAL where a count belongs, as some exports write it.
    if g.chance(10) { return .real(Double(g.below(60))) }
    return .int(integer(&g, limit: Int64(Int32.max)))
  case .real:
    if g.chance(10) { return .null }
    if g.chance(40) { return .int(integer(&g, limit: Int64.max)) }
    return .real(g.chance(20) ? Double(g.below(1000)) : Double(g.below(1_000_000)) / 997 - 300)
  case .flag:
    // A whole REAL 0.0 or 1.0, as a dataframe's REAL column writes a flag.
    return g.chance(10) ? .null : g.chance(10) ? .real(Double(g.below(2))) : .int(Int64(g.below(2)))
  case .date: return .text(iso(date))
  case .timestamp: return g.chance(20) ? .null : .text("\(iso(date))T0\(g.below(10)):1\(g.below(10)):00Z")
  }
}

private func declared(_ spec: ColumnSpec) -> String {
  if spec.name == "points" || spec.name == "fatigue_score" { return "REAL" }
  switch spec.kind {
  case .text, .date, .timestamp: return "TEXT"
  case .integer, .flag: return "INTEGER"
  case .real: return "REAL"
  }
}

private func insert(_ c: Connection, _ table: String, _ columns: [String], rows: [(Int64, [Value])]) throws {
  let st = try c.prepare(
    "INSERT INTO \(table) (rowid, \(columns.joined(separator: ", "))) VALUES (\((0...columns.count).map { "?\($0 + 1)" }.joined(separator: ", ")))"
  )
  for (rowid, row) in rows {
    st.reset()
    try st.bind(1, rowid)
    for (k, v) in row.prefix(columns.count).enumerated() {
      let i = Int32(k + 2)
      switch v {
      case .null: try st.bind(i, nil as Int64?)
      case .int(let x): try st.bind(i, x)
      case .real(let x): try st.bind(i, x)
      case .text(let x): try st.bind(i, x)
      }
    }
    _ = try st.step()
  }
}

/// Writes a league of `shape` at `path`.
private func makeLeague(_ path: String, _ shape: Shape) throws {
  var g = Rng(state: shape.seed)
  let c = try Connection(path: path, mode: .readWriteCreate)
  try c.execute("PRAGMA page_size = \(shape.pageSize)")
  if shape.autoVacuum { try c.execute("PRAGMA auto_vacuum = FULL") }
  let tables: [(name: String, specs: [ColumnSpec])] = [
    ("player_game_summary", SourceReader.pgsColumns), ("player_composite_factors", SourceReader.pcfColumns),
  ]
  // The last two columns of each table are nullable: the ones ALTER TABLE ADD COLUMN adds.
  let held = shape.addColumn ? 2 : 0
  try c.execute("BEGIN")
  for (name, specs) in tables {
    var defs = specs.dropLast(held).map { shape.typed ? "\($0.name) \(declared($0))" : $0.name }
    // Columns the reader does not read shift the others' record fields: an INTEGER PRIMARY
    // KEY (the rowid itself, stored as NULL) first, or a plain one in the middle.
    if shape.typed { defs.insert("id INTEGER PRIMARY KEY", at: 0) } else { defs.insert("note", at: 3) }
    try c.execute("CREATE TABLE \(name) (\(defs.joined(separator: ", ")))")
  }
  if shape.indexed {
    try c.execute("CREATE INDEX pgs_season ON player_game_summary (season_year)")
    // Created before the rows, so that its pages lie among the tables' as an index grown row by
    // row does; a second key column makes the entries of more than two fields.
    try c.execute("CREATE INDEX pcf_date ON player_composite_factors (game_date, player_lookup)")
  }

  var rows: [[(Int64, [Value])]] = [[], []]
  var rowids = Array(1...Int64(shape.seasons.count * shape.rowsPerSeason))
  if shape.interleave {
    for i in stride(from: rowids.count - 1, to: 0, by: -1) { rowids.swapAt(i, g.below(i + 1)) }
  }
  var next = 0
  for season in shape.seasons {
    let days = Season.dateRange(season)
    for _ in 0..<shape.rowsPerSeason {
      let date = Date32(daysSinceEpoch: days.lowerBound.daysSinceEpoch + Int32(g.below(240)))
      for (t, table) in tables.enumerated() {
        let row = table.specs.map { value($0.kind, &g, date: date, season: season, long: shape.longText) }
        // PCF rows take rowids of their own, from the same shuffled pool.
        rows[t].append((t == 0 ? rowids[next] : rowids[(next * 7 + 3) % rowids.count], row))
      }
      next += 1
    }
  }
  let half = rows[0].count / 2
  for (t, table) in tables.enumerated() {
    try insert(c, table.name, table.specs.dropLast(held).map(\.name), rows: Array(rows[t][..<half]))
  }
  if shape.addColumn {
    for (name, specs) in tables {
      for spec in specs.suffix(held) {
        try c.execute("ALTER TABLE \(name) ADD COLUMN \(spec.name)\(shape.typed ? " " + declared(spec) : "")")
      }
    }
  }
  for (t, table) in tables.enumerated() {
    try insert(c, table.name, table.specs.map(\.name), rows: Array(rows[t][half...]))
  }
  try c.execute("COMMIT")
  if shape.reserved > 0 {
    // Reserved bytes at the end of every page (as encryption or checksum extensions keep):
    // SQLite applies the number asked for when it rewrites the file.
    var n = Int32(shape.reserved)
    guard sqlite3_file_control(c.handle, "main", SQLITE_FCNTL_RESERVE_BYTES, &n) == SQLITE_OK else {
      throw SQLiteError(path: path, code: 1, message: "cannot reserve bytes")
    }
    try c.execute("VACUUM")
  }
  if shape.churn {
    // Whole pages freed in the middle of both trees (a run of rowids) and single rows
    // elsewhere, then fewer rows written again: some freed pages reused, some left free.
    let cut = Int64(rowids.count / 3)
    try c.execute("DELETE FROM player_game_summary WHERE rowid % 5 = 2 OR rowid BETWEEN \(cut) AND \(2 * cut)")
    try c.execute("DELETE FROM player_composite_factors WHERE rowid % 3 = 1 OR rowid BETWEEN \(cut) AND \(2 * cut)")
    let top = Int64(rowids.count)
    try c.execute("BEGIN")
    for (t, table) in tables.enumerated() {
      let more = rows[t].prefix(shape.rowsPerSeason / 4).enumerated().map { (top + 1 + Int64($0.offset), $0.element.1) }
      try insert(c, table.name, table.specs.map(\.name), rows: more)
    }
    try c.execute("COMMIT")
  }
}

/// What a read gives the user: the data, or the error's full message.
private enum Outcome: Equatable {
  case data(PlayerGameSummary, PlayerCompositeFactors, Schedule?)
  case error(String)
}

private func outcome(_ body: () throws(SourceError) -> SourceData) -> Outcome {
  do {
    let d = try body()
    return .data(d.pgs, d.pcf, d.schedule)
  } catch {
    return .error(error.description)
  }
}

/// `read` (with the tier that answered) and `readChecked` on the same file.
private func both(_ path: String, _ seasons: [Int]) -> (read: Outcome, tier: ReadTier?, checked: Outcome) {
  let reader = SourceReader(path: path)
  var tier: ReadTier?
  let read = outcome { () throws(SourceError) in
    let (data, t) = try reader.readReportingTier(seasons: seasons)
    tier = t
    return data
  }
  let checked = outcome { () throws(SourceError) in try reader.readChecked(try reader.open(), seasons: seasons.sorted())
  }
  return (read, tier, checked)
}

/// Whether each table holds a row outside `seasons` (PCF by its date).
private func rowsOutside(_ path: String, _ seasons: [Int]) throws -> (pgs: Bool, pcf: Bool) {
  let c = try Connection(path: path, mode: .readOnly)
  let list = seasons.map(String.init).joined(separator: ", ")
  let pgs = try c.prepare("SELECT count(*) FROM player_game_summary WHERE season_year NOT IN (\(list))")
  _ = try pgs.step()
  let inside = seasons.map { "game_date BETWEEN '\($0)-10-01' AND '\($0 + 1)-09-30'" }.joined(separator: " OR ")
  let pcf = try c.prepare("SELECT count(*) FROM player_composite_factors WHERE NOT (\(inside))")
  _ = try pcf.step()
  return (pgs.int64(0) > 0, pcf.int64(0) > 0)
}

/// The pages of the index b-tree rooted at `root` in a file of 512-byte pages.
private func indexPages(_ bytes: [UInt8], root: Int) -> [Int] {
  func be(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
  var pages: [Int] = [], stack = [root]
  while let n = stack.popLast() {
    pages.append(n)
    let o = (n - 1) * 512
    guard bytes[o] == 0x02 else { continue }
    stack.append(be(o + 8, 4))
    for c in 0..<be(o + 3, 2) { stack.append(be(o + be(o + 12 + 2 * c, 2), 4)) }
  }
  return pages
}

private func header(_ path: String) throws -> [UInt8] {
  let h = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
  defer { try? h.close() }
  return [UInt8](try h.read(upToCount: 100) ?? Data())
}

private let shapes: [Shape] = [
  Shape(seed: 1),
  Shape(seed: 2, pageSize: 512, longText: true, requested: [2020]),
  Shape(seed: 3, pageSize: 65536, typed: true, longText: true, rowsPerSeason: 200),
  Shape(seed: 4, typed: true, addColumn: true, interleave: true, requested: [2019, 2021]),
  Shape(seed: 5, pageSize: 512, addColumn: true, churn: true, interleave: true),
  Shape(seed: 6, pageSize: 1024, typed: true, reserved: 40, autoVacuum: true, churn: true, requested: [2021, 2019]),
  Shape(
    seed: 7, pageSize: 512, reserved: 32, autoVacuum: true, longText: true, interleave: true, requested: [2020, 2021]),
  Shape(
    seed: 8, pageSize: 65536, autoVacuum: true, addColumn: true, churn: true, interleave: true,
    seasons: [2015, 2016, 2017, 2018, 2019], requested: [2016], rowsPerSeason: 150),
  Shape(seed: 9, pageSize: 1024, seasons: [2015, 2016, 2017, 2018, 2019, 2020], requested: [2017, 2018]),
  Shape(seed: 10, pageSize: 512, indexed: false, requested: [2020]),
]

@Suite struct BTreeReadTests {
  @Test(arguments: shapes)
  func directReadEqualsTheCheckedRead(_ shape: Shape) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, shape)
    // The file really has the shape asked for.
    let h = try header(db)
    #expect((Int(h[16]) << 8 | Int(h[17])) == (shape.pageSize == 65536 ? 1 : shape.pageSize))
    #expect(Int(h[20]) == shape.reserved)
    #expect((h[52..<56].contains { $0 != 0 }) == shape.autoVacuum)
    // auto_vacuum = FULL gives free pages back at each commit; otherwise some stay listed.
    if shape.churn { #expect(h[36..<40].contains { $0 != 0 } != shape.autoVacuum) }

    let (read, tier, checked) = both(db, shape.requested)
    // The indexes choose the leaves read when they hold a season that was not asked for.
    // An index chooses the leaves read when its table holds a row of a season not asked for
    // (the churn can leave a season without PGS rows). A long player_lookup makes a `pcf_date`
    // entry spill to an overflow page, which the index walk declines: PCF is then read whole.
    let others = try rowsOutside(db, shape.requested)
    #expect(
      tier
        == .direct(pgsIndexed: shape.indexed && others.pgs, pcfIndexed: shape.indexed && others.pcf && !shape.longText))
    #expect(read == checked)
    guard case .data(let pgs, let pcf, _) = checked else {
      Issue.record("the checked read failed: \(checked)")
      return
    }
    #expect(pgs.count > 0 && pcf.count > 0)
    #expect(Set(pgs.seasonYear.values.map(Int.init)) == Set(shape.requested))
    // Small units of work, so that these files of tens to hundreds of leaves are split between
    // the two decoder threads many times over, as a large file is.
    let reader = SourceReader(path: db)
    for chunk in [1, 3] {
      let small = outcome { () throws(SourceError) in
        guard let d = try reader.readDirect(try reader.open(), seasons: shape.requested.sorted(), leavesPerChunk: chunk)
        else {
          throw SourceError.sqlite(path: db, detail: "the direct read declined")
        }
        return d
      }
      #expect(small == checked, "\(chunk) leaves per chunk")
    }
    // Index pages read through the mapping instead of with `pread`: the same answer.
    let mapped = outcome { () throws(SourceError) in
      guard
        let d = try reader.readDirectReporting(
          try reader.open(), seasons: shape.requested.sorted(), leavesPerChunk: 3, readIndexPages: false)?.data
      else {
        throw SourceError.sqlite(path: db, detail: "the direct read declined")
      }
      return d
    }
    #expect(mapped == checked, "index pages through the mapping")
  }

  /// Damaged pages: a flipped byte anywhere past the header page must give the checked path's
  /// result or its error, never a trap or a different answer.
  @Test(arguments: [UInt64(11), 12, 13])
  func corruptPagesFallBackToTheCheckedOutcome(_ seed: UInt64) throws {
    let t = TempDir()
    defer { t.remove() }
    let clean = t.path("clean.sqlite")
    // Without indexes: on a damaged file SQLite's answers depend on its access path (a row
    // sought through an index can land elsewhere than a scan finds it), and the direct read,
    // like the checked path here, then scans both tables. Damaged indexes: the next test.
    try makeLeague(
      clean, Shape(seed: seed, pageSize: 512, longText: true, interleave: true, indexed: false, rowsPerSeason: 120))
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: clean)))
    var g = Rng(state: seed)
    for trial in 0..<8 {
      var copy = bytes
      // Page headers and cell pointers (the first 40 bytes of a page) half the time, else
      // anywhere: payload bytes, overflow page numbers, record headers.
      for _ in 0..<(1 + g.below(3)) {
        let page = 1 + g.below(copy.count / 512 - 1)
        let at = page * 512 + (g.chance(50) ? g.below(40) : g.below(512))
        copy[at] ^= UInt8(1 + g.below(255))
      }
      let db = t.path("corrupt-\(trial).sqlite")
      try Data(copy).write(to: URL(fileURLWithPath: db))
      let (read, _, checked) = both(db, [2019, 2020, 2021])
      #expect(read == checked, "trial \(trial)")
      // One leaf per unit of work: a damaged leaf stops both threads mid-table, whatever the
      // other holds or waits for, and the read declines instead of answering with part of it.
      let reader = SourceReader(path: db)
      if let direct = try? reader.readDirect(try reader.open(), seasons: [2019, 2020, 2021], leavesPerChunk: 1) {
        #expect(Outcome.data(direct.pgs, direct.pcf, direct.schedule) == checked, "trial \(trial), one leaf per unit")
      }
    }
  }

  /// A damaged cell pointer aims into another cell; the "row" read there took its season from
  /// the wrong bytes (season 0, in range) and was skipped as another season's, so one season of
  /// several built without a word and a row short (session 13 sanitizer review, one byte of a
  /// pointer array flipped). A leaf whose rowids do not ascend is not read.
  @Test func aLeafWhoseRowidsDoNotAscendIsNotRead() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 31, pageSize: 512, indexed: false, rowsPerSeason: 120))
    let clean = SourceReader(path: db)
    #expect(try clean.readDirect(try clean.open(), seasons: [2020]) != nil)
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: db)))
    // The first table leaf (type 0x0D) with two cells or more: its first two pointers swapped.
    func cells(_ p: Int) -> Int { Int(bytes[p * 512 + 3]) << 8 | Int(bytes[p * 512 + 4]) }
    let leaves = (1..<bytes.count / 512).filter { bytes[$0 * 512] == 0x0D && cells($0) >= 2 }
    let page = try #require(leaves.first)
    let at = page * 512 + 8
    bytes.swapAt(at, at + 2)
    bytes.swapAt(at + 1, at + 3)
    try Data(bytes).write(to: URL(fileURLWithPath: db))
    let reader = SourceReader(path: db)
    #expect(try reader.readDirect(try reader.open(), seasons: [2020]) == nil)
  }

  /// Damaged selector indexes, read for one season of three: never a trap, and whatever the
  /// direct read answers comes from the tables. It may miss rows whose index entries are lost
  /// (as SQLite's indexed query does), but every row it returns is the clean file's row.
  @Test(arguments: [UInt64(14), 15, 16])
  func damagedIndexesNeverInventRows(_ seed: UInt64) throws {
    let t = TempDir()
    defer { t.remove() }
    let clean = t.path("clean.sqlite")
    try makeLeague(clean, Shape(seed: seed, pageSize: 512, interleave: true, rowsPerSeason: 120))
    let reader = SourceReader(path: clean)
    let reference = try reader.read(seasons: [2020])
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: clean)))
    var roots: [Int] = []
    do {
      let c = try Connection(path: clean, mode: .readOnly)
      let st = try c.prepare("SELECT rootpage FROM sqlite_schema WHERE type = 'index' ORDER BY name")
      while try st.step() { roots.append(Int(st.int64(0))) }
    }
    let pages = roots.flatMap { indexPages(bytes, root: $0) }
    #expect(roots.count == 2 && pages.count > 4)
    var g = Rng(state: seed)
    var answered = 0
    for trial in 0..<12 {
      var copy = bytes
      for _ in 0..<(1 + g.below(2)) {
        let page = g.pick(pages)
        copy[(page - 1) * 512 + (g.chance(50) ? g.below(40) : g.below(512))] ^= UInt8(1 + g.below(255))
      }
      let db = t.path("damaged-\(trial).sqlite")
      try Data(copy).write(to: URL(fileURLWithPath: db))
      let damaged = SourceReader(path: db)
      for chunk in [1, SourceReader.leavesPerChunk] {
        guard
          // Index pages with `pread` and, at one leaf per chunk, through the mapping.
          let (read, indexed, _, _) = try? damaged.readDirectReporting(
            try damaged.open(), seasons: [2020], leavesPerChunk: chunk, readIndexPages: chunk != 1)
        else { continue }
        if indexed.pgs || indexed.pcf { answered += 1 }
        for (table, rows, clean) in [
          ("PGS", read.pgs.rowid, reference.pgs.rowid), ("PCF", read.pcf.rowid, reference.pcf.rowid),
        ] {
          #expect(Set(rows).isSubset(of: clean), "trial \(trial): \(table) rows the clean file does not select")
        }
        let at = Dictionary(uniqueKeysWithValues: reference.pgs.rowid.enumerated().map { ($1, $0) })
        for (i, rowid) in read.pgs.rowid.enumerated() {
          guard let j = at[rowid] else { continue }
          #expect(read.pgs.points[i] == reference.pgs.points[j] && read.pgs.gameId[i] == reference.pgs.gameId[j])
        }
      }
    }
    // Damage that the index walk does not notice (a changed key or rowid, a dropped entry)
    // leaves an index choosing the leaves: the loop above checked such answers, not only
    // declines and whole-table reads.
    #expect(answered > 0)
  }

  /// What a build tells the operator: the rows each table holds (from the index entries when an
  /// index chose the pages, from the leaves' cells otherwise) and whether an index was used.
  @Test(arguments: [true, false])
  func theSummarySaysHowTheRowsWereFound(indexed: Bool) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 91, churn: true, interleave: true, indexed: indexed, requested: [2020]))
    let (data, summary) = try SourceReader(path: db).readSummarizing(seasons: [2020])
    let c = try Connection(path: db, mode: .readOnly)
    func count(_ table: String) throws -> Int {
      let st = try c.prepare("SELECT count(*) FROM \(table)")
      _ = try st.step()
      return Int(st.int64(0))
    }
    #expect(summary.pgsRowsInFile == (try count("player_game_summary")))
    #expect(summary.pcfRowsInFile == (try count("player_composite_factors")))
    #expect(summary.pgsIndexed == indexed && summary.pcfIndexed == indexed)
    #expect(data.pgs.count > 0 && data.pgs.count < summary.pgsRowsInFile!)
  }

  /// The build's note about a large table read whole: only past 200,000 rows, only when less
  /// than a quarter was needed, and never for a table an index chose the pages of.
  @Test func unindexedScansAreNamedOnlyWhenTheyCost() {
    let big = ReadSummary(pgsRowsInFile: 2_000_000, pcfRowsInFile: 1_700_000)
    #expect(
      big.unindexedScans(pgsSelected: 27_000, pcfSelected: 23_000).map(\.table) == [
        "player_game_summary", "player_composite_factors",
      ])
    #expect(big.unindexedScans(pgsSelected: 600_000, pcfSelected: 23_000).map(\.table) == ["player_composite_factors"])
    let indexed = ReadSummary(pgsRowsInFile: 2_000_000, pcfRowsInFile: 1_700_000, pgsIndexed: true, pcfIndexed: true)
    #expect(indexed.unindexedScans(pgsSelected: 27_000, pcfSelected: 23_000).isEmpty)
    let small = ReadSummary(pgsRowsInFile: 150_000, pcfRowsInFile: 140_000)
    #expect(small.unindexedScans(pgsSelected: 1_000, pcfSelected: 1_000).isEmpty)
    #expect(ReadSummary().unindexedScans(pgsSelected: 1, pcfSelected: 1).isEmpty)
  }

  /// The index walk reads pages with SQLite's own descriptor (a descriptor of ours would drop
  /// SQLite's locks when closed): it is open on the database file, finding it opens nothing,
  /// and a descriptor that is not the file at the connection's path is not used.
  @Test func indexPagesAreReadWithSQLitesOwnDescriptor() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 22))
    func descriptorsOnTheFile() -> Int {
      let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
      let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: db)) ?? db
      return fds.filter {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + $0)) == target
      }
      .count
    }
    let connection = try Connection(path: db, mode: .readOnly)
    try connection.execute("SELECT count(*) FROM sqlite_schema")
    var pointer: UnsafeMutableRawPointer?
    #expect(sqlite3_file_control(connection.handle, "main", SQLITE_FCNTL_FILE_POINTER, &pointer) == SQLITE_OK)
    let file = try #require(pointer?.assumingMemoryBound(to: sqlite3_file.self))
    let before = descriptorsOnTheFile()
    let fd = try #require(SourceReader.sqliteDescriptor(connection, file))
    #expect(descriptorsOnTheFile() == before && before >= 1)
    var opened = stat(), named = stat()
    #expect(fstat(fd, &opened) == 0 && stat(db, &named) == 0)
    #expect(opened.st_dev == named.st_dev && opened.st_ino == named.st_ino)
    // Another file moved over the path: the connection's descriptor is not that file.
    try FileManager.default.moveItem(atPath: db, toPath: t.path("moved.sqlite"))
    try makeLeague(db, Shape(seed: 23))
    #expect(SourceReader.sqliteDescriptor(connection, file) == nil)
  }

  @Test func walModeIsLeftToSQLite() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("wal.sqlite")
    try makeLeague(db, Shape(seed: 21))
    // A reader holding the file open keeps the -wal and -shm files, and rows committed to
    // the WAL alone, which the file's own pages do not hold yet.
    let holder = try Connection(path: db, mode: .readWriteCreate)
    try holder.execute("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0")
    try holder.execute("UPDATE player_game_summary SET points = 99 WHERE rowid % 2 = 0")
    #expect(try header(db)[18] == 2)
    let reader = SourceReader(path: db)
    #expect(try reader.readDirect(try reader.open(), seasons: [2019, 2020, 2021]) == nil)
    let (read, tier, checked) = both(db, [2019, 2020, 2021])
    #expect(tier?.isDirect != true)
    #expect(read == checked)
    guard case .data(let pgs, _, _) = read else {
      Issue.record("the read failed: \(read)")
      return
    }
    #expect(pgs.points.values.enumerated().contains { pgs.rowid[$0.offset] % 2 == 0 && $0.element == 99 })
  }

  /// Schemas the decoder does not handle: the checked result, through another tier.
  @Test(arguments: [
    "ALTER TABLE player_game_summary ADD COLUMN doubled INTEGER GENERATED ALWAYS AS (points * 2) VIRTUAL",
    "ALTER TABLE player_composite_factors ADD COLUMN extra TEXT DEFAULT 'x'",
  ])
  func unhandledSchemasFallBack(_ alter: String) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 31, typed: true))
    let c = try Connection(path: db, mode: .readWriteCreate)
    try c.execute(alter)
    if alter.contains("DEFAULT") {
      // Rows written before the column existed hold no field for it: SQLite reads 'x'. The
      // column is not one the reader reads, so the direct tier still answers.
      let (read, tier, checked) = both(db, [2020])
      #expect(tier?.isDirect == true)
      #expect(read == checked)
      return
    }
    let reader = SourceReader(path: db)
    #expect(try reader.readDirect(try reader.open(), seasons: [2020]) == nil)
    let (read, tier, checked) = both(db, [2020])
    #expect(tier == .fast)
    #expect(read == checked)
  }

  /// A column read that was added with a default other than NULL: records written before hold
  /// no field for it and SQLite reads the default, which the decoder does not evaluate.
  @Test func addedColumnWithADefaultFallsBack() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    let c = try Connection(path: db, mode: .readWriteCreate)
    try c.execute(
      """
      CREATE TABLE player_game_summary (\(SourceReader.pgsColumns.map(\.name).filter { $0 != "is_dnp" }.joined(separator: ", ")));
      CREATE TABLE player_composite_factors (\(SourceReader.pcfColumns.map(\.name).joined(separator: ", ")));
      INSERT INTO player_game_summary (player_lookup, game_id, game_date, season_year, team_abbr, opponent_team_abbr)
        VALUES ('a', 'g1', '2020-12-25', 2020, 'LAL', 'BOS');
      ALTER TABLE player_game_summary ADD COLUMN is_dnp INTEGER DEFAULT 1;
      INSERT INTO player_game_summary (player_lookup, game_id, game_date, season_year, team_abbr, opponent_team_abbr, is_dnp)
        VALUES ('b', 'g2', '2020-12-26', 2020, 'LAL', 'BOS', 0);
      INSERT INTO player_composite_factors (player_lookup, game_date, game_id) VALUES ('a', '2020-12-25', 'g1');
      """)
    let reader = SourceReader(path: db)
    #expect(try reader.readDirect(try reader.open(), seasons: [2020]) == nil)
    let (read, tier, checked) = both(db, [2020])
    #expect(tier?.isDirect != true)
    #expect(read == checked)
    guard case .data(let pgs, _, _) = read else {
      Issue.record("the read failed: \(read)")
      return
    }
    #expect(pgs.isDnp.values == [true, false])
  }

  /// Tables the decoder does not read itself: WITHOUT ROWID (an index b-tree, no rowid), and
  /// a column read that is the rowid (INTEGER PRIMARY KEY, stored as NULL in the record).
  @Test(arguments: [
    "player_lookup TEXT, game_date TEXT, game_id TEXT, fatigue_score INTEGER, PRIMARY KEY (player_lookup, game_id)) WITHOUT ROWID",
    "player_lookup TEXT, game_date TEXT, game_id TEXT, fatigue_score INTEGER PRIMARY KEY)",
  ])
  func rowidSchemasFallBack(_ pcfColumns: String) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    let c = try Connection(path: db, mode: .readWriteCreate)
    try c.execute(
      """
      CREATE TABLE player_game_summary (\(SourceReader.pgsColumns.map(\.name).joined(separator: ", ")));
      CREATE TABLE player_composite_factors (\(pcfColumns.replacingOccurrences(of: "fatigue_score", with: "shot_zone_mismatch_score, pace_score, usage_spike_score, total_composite_adjustment, calculation_version, processed_at, fatigue_score"));
      INSERT INTO player_game_summary (player_lookup, game_id, game_date, season_year, team_abbr, opponent_team_abbr, minutes_played)
        VALUES ('a', 'g1', '2020-12-25', 2020, 'LAL', 'BOS', 31.5), ('b', 'g1', '2020-12-25', 2020, 'BOS', 'LAL', 12);
      INSERT INTO player_composite_factors (player_lookup, game_date, game_id, fatigue_score)
        VALUES ('a', '2020-12-25', 'g1', 70), ('b', '2020-12-25', 'g1', 55);
      """)
    let reader = SourceReader(path: db)
    #expect(try reader.readDirect(try reader.open(), seasons: [2020]) == nil)
    let (read, tier, checked) = both(db, [2020])
    #expect(tier?.isDirect != true)
    if pcfColumns.hasSuffix("WITHOUT ROWID") {
      // No path can read it (each orders and names rows by rowid): refused by name before
      // any read, where the checked path alone says only SQLite's "no such column: rowid".
      #expect(read == .error(SourceError.withoutRowid(path: db, table: "player_composite_factors").description))
    } else {
      #expect(read == checked)
    }
  }

  /// A season index entry naming a row of another season (one key byte changed in the file):
  /// the rows decoded from the leaves it chose are not the rows it lists, so PGS is read whole
  /// and the answer is the table's, as before the change.
  @Test func indexDisagreeingWithTheTableIsNotBelieved() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 71, interleave: true))
    let reader = SourceReader(path: db)
    let clean = outcome { () throws(SourceError) in try reader.read(seasons: [2020]) }
    let root: Int
    do {
      let c = try Connection(path: db, mode: .readOnly)
      let st = try c.prepare("SELECT rootpage FROM sqlite_schema WHERE name = 'pgs_season'")
      _ = try st.step()
      root = Int(st.int64(0))
    }
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: db)))
    func start(_ page: Int) -> Int { (page - 1) * 4096 }
    func be(_ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 << 8 | Int(bytes[at + $1]) } }
    // Down the left edge to the first leaf, whose entries are the lowest season's, 2019.
    var page = root
    while bytes[start(page)] == 0x02 { page = be(start(page) + be(start(page) + 12, 2), 4) }
    #expect(bytes[start(page)] == 0x0A)
    let cell = start(page) + be(start(page) + 8, 2)
    // Payload size, then the record: header size 3, a 2-byte integer, the rowid's type.
    #expect(Array(bytes[(cell + 1)...(cell + 2)]) == [3, 2])
    #expect(be(cell + 4, 2) == 2019)
    bytes[cell + 5] = 0xE4  // 2020
    try Data(bytes).write(to: URL(fileURLWithPath: db))

    let (data, tier) = try reader.readReportingTier(seasons: [2020])
    #expect(tier == .direct(pgsIndexed: false, pcfIndexed: true))
    #expect(Outcome.data(data.pgs, data.pcf, data.schedule) == clean)
  }

  /// Values the checked path refuses, inside and outside the seasons read: the direct tier
  /// declines and the user sees the checked path's message.
  @Test(arguments: [
    (
      "UPDATE player_game_summary SET points = 3000000000 WHERE rowid = (SELECT min(rowid) FROM player_game_summary WHERE season_year = 2020)",
      [2020]
    ),
    (
      "UPDATE player_game_summary SET season_year = '2019' || 'x' WHERE rowid = (SELECT min(rowid) FROM player_game_summary WHERE season_year = 2019)",
      [2020]
    ),
    (
      "UPDATE player_game_summary SET season_year = 2019.5 WHERE rowid = (SELECT max(rowid) FROM player_game_summary WHERE season_year = 2019)",
      [2020]
    ),
    (
      "UPDATE player_composite_factors SET game_date = '2019-13-05' WHERE rowid = (SELECT max(rowid) FROM player_composite_factors)",
      [2021]
    ),
    (
      "UPDATE player_composite_factors SET game_date = NULL WHERE rowid = (SELECT min(rowid) FROM player_composite_factors WHERE game_date < '2020')",
      [2021]
    ),
    ("UPDATE player_composite_factors SET pace_score = x'00ff' WHERE rowid % 10 = 3", [2019, 2020, 2021]),
  ])
  func refusedValuesGiveTheCheckedError(_ update: String, _ seasons: [Int]) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 41, pageSize: 512))
    try Connection(path: db, mode: .readWriteCreate).execute(update)
    let (read, tier, checked) = both(db, seasons)
    #expect(tier == nil)
    #expect(read == checked)
    guard case .error(let message) = read else {
      Issue.record("expected the checked path's error, got data")
      return
    }
    #expect(message.contains(db))
  }

  /// The row loop stores integers, flags and REALs itself and leaves every value it does not
  /// take to `store`: an infinity, a flag of 2 (both refused, so the direct read declines), a
  /// flag column of REAL affinity (whole numbers stored as integers, read as REALs, accepted
  /// since session 19, so the direct read answers). The result is the checked path's in each
  /// case.
  @Test(arguments: [
    ("UPDATE player_game_summary SET usage_rate = 1e999 WHERE rowid % 7 = 2", false),
    ("UPDATE player_game_summary SET is_dnp = 2 WHERE rowid % 11 = 5", false),
    (
      """
      ALTER TABLE player_game_summary RENAME COLUMN is_dnp TO dnp_before;
      ALTER TABLE player_game_summary ADD COLUMN is_dnp REAL;
      UPDATE player_game_summary SET is_dnp = dnp_before;
      """, true
    ),
  ])
  func valuesTheRowLoopLeavesToStore(_ change: String, _ directAnswers: Bool) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 53, typed: true))
    try Connection(path: db, mode: .readWriteCreate).execute(change)
    let (read, tier, checked) = both(db, [2019, 2020, 2021])
    #expect((tier?.isDirect == true) == directAnswers)
    #expect(read == checked)
  }

  /// A season with PGS rows and no PCF rows: empty PCF columns, equal to the checked ones.
  @Test func seasonWithoutPCFRows() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 61))
    try Connection(path: db, mode: .readWriteCreate).execute(
      "DELETE FROM player_composite_factors WHERE game_date BETWEEN '2020-10-01' AND '2021-09-30'")
    let (read, tier, checked) = both(db, [2020])
    #expect(tier?.isDirect == true)
    #expect(read == checked)
    guard case .data(let pgs, let pcf, _) = read else {
      Issue.record("the read failed: \(read)")
      return
    }
    #expect(pgs.count > 0 && pcf.count == 0)
  }

  @Test func seasonWithoutRowsGivesTheCheckedError() throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    try makeLeague(db, Shape(seed: 51))
    let (read, tier, checked) = both(db, [2020, 2023])
    #expect(tier == nil)
    #expect(read == checked)
    guard case .error(let message) = read else {
      Issue.record("expected the checked path's error, got data")
      return
    }
    #expect(message.contains("2023"))
  }

  /// Real NBA.com logs through the importer, as `dataset import` writes them.
  @Test func importedRealSeasonIsReadDirectly() throws {
    let t = TempDir()
    defer { t.remove() }
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    let logs = url.appendingPathComponent("shared/realdata/raw/antbap23_player_logs/player_logs_2022-23.csv").path
    var lines = try String(contentsOfFile: logs, encoding: .utf8).split(separator: "\n")
    let head = lines.removeFirst()
    // Whole games (both teams' rows), the first 80 game ids in file order.
    var games: [Substring] = []
    for line in lines {
      let id = line.split(separator: ",", omittingEmptySubsequences: false)[6]
      if !games.contains(id) { games.append(id) }
      if games.count == 80 { break }
    }
    let keep = Set(games)
    let rows = lines.filter { keep.contains($0.split(separator: ",", omittingEmptySubsequences: false)[6]) }
    let csv = t.path("sub.csv")
    try ([head] + rows).joined(separator: "\n").appending("\n").write(toFile: csv, atomically: true, encoding: .utf8)
    let db = t.path("league.sqlite")
    let summary = try Importer(databasePath: db, processedAt: "2024-01-01T00:00:00Z").run(files: [csv])
    let (read, tier, checked) = both(db, [2022])
    #expect(tier?.isDirect == true)
    #expect(read == checked)
    guard case .data(let pgs, let pcf, _) = read else {
      Issue.record("the read failed: \(read)")
      return
    }
    #expect(pgs.count == summary.rowsRead)
    #expect(pcf.count == summary.pcfInserted)
  }
}

/// The index walk's fast path for the commonest entry against the general decoder: wherever
/// `quickEntry` answers, `indexEntry` gives the same season and rowid.
@Suite struct IndexEntryTests {
  @Test(arguments: [false, true])
  func quickEntryAgreesWithTheGeneralDecoder(byDate: Bool) {
    var g = Rng(state: byDate ? 81 : 82)
    let page = UnsafeMutablePointer<UInt8>.allocate(capacity: 512)
    defer { page.deallocate() }
    let image = FileImage(base: UnsafePointer(page), size: 512, pageSize: 512, usable: 512, pageCount: 1)
    let index = SelectorIndex(root: 2, fields: 2, byDate: byDate)
    let dates = ["2021-03-04", "2020-10-01", "2021-09-30", "2021-02-30", "2021-3-04x", "abcdefghij"]
    var quickMemo = ParseMemo(), fullMemo = ParseMemo()
    var answered = 0
    for _ in 0..<20_000 {
      for i in 0..<512 { page[i] = UInt8(truncatingIfNeeded: g.below(256)) }
      // Serial types: integers of every width, NULL, REAL, texts of 10 and other lengths, a
      // two-byte varint; bodies of the size the types say, or one byte off.
      let key = g.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 33, 33, 33, 31, 35, 12])
      let rowid = g.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      let sizes = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0]
      let keyBytes = key >= 13 ? (key - 13) / 2 : key == 12 ? 0 : sizes[key]
      var payload = 3 + keyBytes + sizes[rowid]
      if g.chance(10) { payload += g.chance(50) ? 1 : -1 }
      let at = 100
      page[at] = UInt8(max(0, payload))
      page[at + 1] = g.chance(5) ? 4 : 3
      page[at + 2] = UInt8(key)
      page[at + 3] = UInt8(rowid)
      if key == 33, g.chance(90) {
        for (k, b) in g.pick(dates).utf8.enumerated() { page[at + 4 + k] = b }
      }
      // A season key of 2020 or 2021 in two bytes now and then, as real indexes hold.
      if key == 2, g.chance(50) { (page[at + 4], page[at + 5]) = (0x07, UInt8(0xE4 + g.below(2))) }
      let quick = SourceReader.quickEntry(UnsafePointer(page), at: at, usable: 512, index: index, memo: &quickMemo)
      let full = SourceReader.indexEntry(image, UnsafePointer(page), at: at, index: index, memo: &fullMemo)
      guard let quick else { continue }
      answered += 1
      #expect(full?.season == quick.season && full?.rowid == quick.rowid, "key type \(key), rowid type \(rowid)")
    }
    #expect(answered > 1000)
  }
}

/// The last-parse memo of date and timestamp columns: a repeat must give what a parse gives,
/// and a different or malformed text must never be taken for the remembered one.
@Suite struct ParseMemoTests {
  func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

  @Test func rememberedTextAnswersOnlyForTheSameBytes() {
    var memo = ParseMemo()
    let a = bytes("2021-01-15")
    a.withUnsafeBufferPointer { #expect(memo.value(ifSameAs: $0) == nil) }
    a.withUnsafeBufferPointer { memo.remember($0, 18642) }
    a.withUnsafeBufferPointer { #expect(memo.value(ifSameAs: $0) == 18642) }
    // Same length, one byte apart (the kind of damage a backfill leaves), and a prefix.
    for other in ["2021-01-16", "2021-01-1X", "2021-01-1", "2021-01-15 "] {
      bytes(other).withUnsafeBufferPointer { #expect(memo.value(ifSameAs: $0) == nil, "\(other)") }
    }
  }

  @Test func textsLongerThanTheMemoAreNeverRemembered() {
    var memo = ParseMemo()
    let long = bytes("2021-01-15T12:00:00.123456789+05:00")
    #expect(long.count > ParseMemo.capacity)
    long.withUnsafeBufferPointer { memo.remember($0, 1) }
    long.withUnsafeBufferPointer { #expect(memo.value(ifSameAs: $0) == nil) }
    let fits = bytes("2021-01-15T12:00:00.123456+05:00")
    #expect(fits.count == ParseMemo.capacity)
    fits.withUnsafeBufferPointer { memo.remember($0, 2) }
    fits.withUnsafeBufferPointer { #expect(memo.value(ifSameAs: $0) == 2) }
  }

  /// Long runs of one date and one processed_at (what the memo is for), then a row whose date
  /// has the remembered date's length but is not a date: the read must still refuse it with
  /// the checked path's message, and every other value must equal the checked path's.
  @Test(arguments: [("2020-12-25", true), ("2020-12-32", false), ("2020-12-2x", false)])
  func repeatedDatesReadAsParsed(_ last: String, _ valid: Bool) throws {
    let t = TempDir()
    defer { t.remove() }
    let db = t.path("league.sqlite")
    let c = try Connection(path: db, mode: .readWriteCreate)
    try c.execute(
      """
      CREATE TABLE player_game_summary (\(SourceReader.pgsColumns.map(\.name).joined(separator: ", ")));
      CREATE TABLE player_composite_factors (\(SourceReader.pcfColumns.map(\.name).joined(separator: ", ")));
      """)
    let pgs =
      "INSERT INTO player_game_summary (player_lookup, game_id, game_date, season_year, team_abbr, opponent_team_abbr, processed_at)"
    let pcf = "INSERT INTO player_composite_factors (player_lookup, game_date, game_id, processed_at)"
    var sql = ""
    for i in 0..<600 {
      let date = i < 300 ? "2020-12-24" : "2020-12-25"
      let stamp = i < 400 ? "2021-01-01T00:00:00Z" : "2021-01-02T06:30:00.25Z"
      sql += "\(pgs) VALUES ('p\(i)', 'g\(i / 20)', '\(date)', 2020, 'AAA', 'BBB', '\(stamp)');\n"
      sql += "\(pcf) VALUES ('p\(i)', '\(date)', 'g\(i / 20)', '\(stamp)');\n"
    }
    sql += "\(pgs) VALUES ('q', 'g99', '\(last)', 2020, 'AAA', 'BBB', '2021-01-02T06:30:00.25Z');\n"
    sql += "\(pcf) VALUES ('q', '\(last)', 'g99', '2021-01-02T06:30:00.25Z');\n"
    try c.execute("BEGIN; \(sql) COMMIT;")
    let (read, tier, checked) = both(db, [2020])
    #expect(read == checked)
    if valid {
      #expect(tier?.isDirect == true)
      guard case .data(let pgs, let pcf, _) = read else {
        Issue.record("the read failed: \(read)")
        return
      }
      #expect(pgs.count == 601 && pcf.count == 601)
    } else {
      #expect(tier == nil)
      guard case .error(let message) = read else {
        Issue.record("expected the checked path's error, got data")
        return
      }
      #expect(message.contains(last))
    }
  }
}

/// The word-at-a-time ASCII check both read paths use before accepting text without decoding it.
@Suite struct ASCIICheckTests {
  /// Every length up to three words, a byte ≥ 0x80 at every position (and none): the check
  /// must agree with a byte-by-byte scan, whatever the alignment of the text.
  @Test func agreesWithAByteByByteScan() {
    for length in 0...24 {
      for offset in 0..<3 {
        for high in [nil] + Array(0..<length) {
          var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: offset + length)
          if let high { bytes[offset + high] = 0xC3 }
          bytes.withUnsafeBufferPointer { all in
            let text = UnsafeBufferPointer(rebasing: all[offset...])
            #expect(
              ColumnBuilder.isASCII(text) == !text.contains { $0 >= 0x80 },
              "length \(length), offset \(offset), high byte at \(String(describing: high))")
          }
        }
      }
    }
  }
}

/// The row loop's copy of short texts: overlapping word loads must check and copy exactly the
/// text's bytes, at any length it takes (4–32) and any alignment, after any earlier texts.
@Suite struct ShortTextAppendTests {
  @Test func appendsExactlyTheASCIITextsAndNothingElse() {
    var buffer = ByteBuffer()
    defer { buffer.free() }
    var expected: [UInt8] = []
    var g = SeededRandom(seed: 7)
    for length in 4...32 {
      for offset in 0..<3 {
        for high in [nil] + Array(0..<length) {
          var bytes = [UInt8](repeating: 0, count: offset + length)
          for i in bytes.indices { bytes[i] = UInt8(32 + g.below(95)) }
          if let high { bytes[offset + high] = 0xC3 }
          let appended = bytes.withUnsafeBufferPointer { all in
            buffer.appendShortASCII(all.baseAddress! + offset, count: length)
          }
          #expect(
            appended == (high == nil), "length \(length), offset \(offset), high byte at \(String(describing: high))")
          if high == nil { expected += bytes[offset...] }
          #expect(buffer.count == expected.count)
        }
      }
    }
    #expect(Array(UnsafeBufferPointer(start: buffer.base, count: buffer.count)) == expected)
  }
}

extension ParseMemoTests {
  /// The word-wise compare: a remembered text of every length the memo holds answers for
  /// itself, and for no text one byte apart at any position.
  @Test func oneByteApartIsNeverTheSame() {
    for length in 1...ParseMemo.capacity {
      var memo = ParseMemo()
      let text = (0..<length).map { UInt8(ascii: "0") + UInt8($0 % 10) }
      text.withUnsafeBufferPointer { memo.remember($0, Int64(length)) }
      text.withUnsafeBufferPointer { #expect(memo.value(ifSameAs: $0) == Int64(length)) }
      for i in 0..<length {
        var other = text
        other[i] ^= 0x01
        other.withUnsafeBufferPointer { #expect(memo.value(ifSameAs: $0) == nil, "length \(length), byte \(i)") }
      }
    }
  }
}
