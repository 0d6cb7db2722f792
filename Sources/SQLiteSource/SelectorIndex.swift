import Columnar

// Reading the requested seasons' rows out of many without decoding the others'.
//
// A warehouse export holds many seasons and a daily build asks for one. The direct read
// decodes the selector of every row (PGS `season_year`, PCF `game_date`) to find that
// season's rows: at 75 seasons (2M rows, 487 MiB) that scan was four fifths of a one-season
// build. SQLite answers `season_year IN (…)` and `game_date BETWEEN …` from an index on the
// selector when the file has one (`dataset import` creates both), and so does this: it walks
// the whole index, which is small (a key and a rowid per row), then only the subtrees of the
// table that hold a rowid the index lists for a requested season.
//
// What the whole-table scan checked of every row, this checks of every index entry: each
// `season_year` is an integer, each `game_date` a TEXT date (else the read declines, and the
// checked path names the row). What it reads it cross-checks: the rows decoded from the kept
// leaves must be exactly the rows the index lists for the requested seasons, season by
// season, or that table is read whole. Entries missing from the index for a row whose whole
// leaf is skipped cannot be seen here; SQLite's own indexed query misses the same rows
// (docs/RELIABILITY.md, "Damaged databases").

/// An index whose first key column is a table's selector, on the column itself (not partial,
/// not an expression).
struct SelectorIndex: Sendable {
  let root: UInt32
  /// Fields in each entry's record: the key columns, then the rowid.
  let fields: Int
  /// The key is a `game_date` (a season by the date rule), else a `season_year`.
  let byDate: Bool
}

/// What a selector index says of the requested seasons.
struct IndexedRows {
  /// Rowids of the requested seasons' rows, ascending.
  var rowids: [Int64]
  /// Entries per season in `lo...hi` of the requested seasons (as `LeafDecoder.perSeason`).
  var perSeason: [Int]
  /// Entries in the whole index: one per row of the table.
  var entries: Int
}

extension SourceReader {
  /// The narrowest usable index of `table` whose first key is `column`, nil when there is none.
  static func selectorIndex(_ connection: Connection, table: String, column: String, byDate: Bool)
    throws(SQLiteError) -> SelectorIndex?
  {
    let list = try connection.prepare("SELECT name, partial FROM pragma_index_list(?1)")
    try list.bind(1, table)
    var names: [String] = []
    while try list.step() {
      if list.int64(1) == 0, let name = list.text(0) { names.append(name) }
    }
    var best: SelectorIndex?
    for name in names {
      let root = try connection.prepare("SELECT rootpage FROM sqlite_schema WHERE type = 'index' AND name = ?1")
      try root.bind(1, name)
      guard try root.step(), root.storageClass(0) == .integer else { continue }
      let page = root.int64(0)
      guard page >= 2, page <= Int64(UInt32.max) else { continue }
      // Key columns come first (key = 1), then the rowid (cid -1) of a table with rowids.
      let info = try connection.prepare("SELECT cid, name, key FROM pragma_index_xinfo(?1) ORDER BY seqno")
      try info.bind(1, name)
      var columns: [(cid: Int64, name: String, key: Bool)] = []
      while try info.step() { columns.append((info.int64(0), (info.text(1) ?? "").lowercased(), info.int64(2) == 1)) }
      let keys = columns.prefix { $0.key }.count
      guard keys >= 1, columns[0].cid >= 0, columns[0].name == column.lowercased(),
        columns.dropFirst(keys).map(\.cid) == [-1], columns.dropFirst(keys).allSatisfy({ !$0.key })
      else { continue }
      if best == nil || keys + 1 < best!.fields {
        best = SelectorIndex(root: UInt32(page), fields: keys + 1, byDate: byDate)
      }
    }
    return best
  }

  /// One index entry at `page` offset `start` (its payload size first): its season and rowid,
  /// nil when the cell is not as the format says, spills to an overflow page, has another
  /// number of fields, its rowid is not an integer, or its key is not a selector the checked
  /// path accepts (`refuseUnselectableRows`).
  @inline(__always) static func indexEntry(
    _ image: FileImage, _ page: UnsafePointer<UInt8>, at start: Int, index: SelectorIndex, memo: inout ParseMemo
  ) -> (season: Int64, rowid: Int64)? {
    let usable = image.usable
    // The largest payload an index page keeps whole; selector keys are a few bytes.
    let maxLocal = (usable - 12) * 64 / 255 - 23
    var i = start
    guard let size = varint(page, &i, usable), size <= UInt64(maxLocal), i + Int(size) <= usable else { return nil }
    let p = page + i
    let payload = Int(size)
    var body = 0
    var first: (type: UInt64, at: Int) = (0, 0), last: (type: UInt64, at: Int) = (0, 0)
    var headerEnd = 0
    let fields = index.fields
    if payload > fields, Int(p[0]) == fields + 1 {
      // A one-byte header size and one-byte serial types, as every entry of a season or date
      // index has: the types are the bytes that follow.
      headerEnd = fields + 1
      for f in 1...fields {
        let t = UInt64(p[f])
        guard t < 0x80, let n = LeafDecoder.contentSize(t) else { return nil }
        if f == 1 { first = (t, body) }
        last = (t, body)
        body += n
      }
    } else {
      var j = 0
      guard let h = varint(p, &j, payload), h <= UInt64(payload), Int(h) >= j else { return nil }
      headerEnd = Int(h)
      var count = 0
      while j < headerEnd {
        guard let t = varint(p, &j, headerEnd), let n = LeafDecoder.contentSize(t) else { return nil }
        if count == 0 { first = (t, body) }
        last = (t, body)
        body += n
        count += 1
      }
      guard count == fields else { return nil }
    }
    // Serial types 1–6, 8 and 9 are integers; odd ones from 13 up are texts.
    @inline(__always) func isInteger(_ t: UInt64) -> Bool { t >= 1 && t <= 9 && t != 7 }
    guard headerEnd + body == payload, isInteger(last.type) else { return nil }
    let rowid = LeafDecoder.integer(last.type, p + headerEnd + last.at)
    if !index.byDate {
      guard isInteger(first.type) else { return nil }
      let season = LeafDecoder.integer(first.type, p + headerEnd + first.at)
      // A season_year the checked path refuses (Season.storedYears) sends the table whole.
      guard Season.storedYears.contains(Int(season)) else { return nil }
      return (season, rowid)
    }
    guard first.type >= 13, first.type & 1 == 1 else { return nil }
    let text = UnsafeBufferPointer(start: p + headerEnd + first.at, count: Int((first.type - 13) / 2))
    guard let season = memo.value(of: text, parse: Season.ofISODate) else { return nil }
    return (season, rowid)
  }

  /// Bytes of an integer of serial type 0–9, -1 for the types that are not integers (NULL, REAL).
  private static let integerBytes: [Int8] = [-1, 1, 2, 3, 4, 6, 8, -1, 0, 0]

  /// `indexEntry` for the commonest entry of a one-column index, nil for any other: a one-byte
  /// payload size and header, a `season_year` integer or a 10-byte `game_date` text, and an
  /// integer rowid. It gives the same season and rowid `indexEntry` gives for such an entry
  /// (the walk of 3.8M entries was two thirds of a one-season read with `indexEntry` alone).
  @inline(__always) static func quickEntry(
    _ page: UnsafePointer<UInt8>, at start: Int, usable: Int, index: SelectorIndex, memo: inout ParseMemo
  ) -> (season: Int64, rowid: Int64)? {
    guard index.fields == 2, start + 4 <= usable else { return nil }
    let size = Int(page[start])
    let p = page + start + 1
    guard size < 0x80, start + 1 + size <= usable, p[0] == 3 else { return nil }
    let first = Int(p[1]), last = Int(p[2])
    guard last <= 9, first < 0x80 else { return nil }
    let rowidBytes = Int(integerBytes[last])
    let keyBytes: Int
    if index.byDate {
      guard first == 33 else { return nil }
      keyBytes = 10
    } else {
      guard first <= 9 else { return nil }
      keyBytes = Int(integerBytes[first])
    }
    guard keyBytes >= 0, rowidBytes >= 0, 3 + keyBytes + rowidBytes == size else { return nil }
    let rowid = LeafDecoder.integer(UInt64(last), p + 3 + keyBytes)
    if !index.byDate {
      let season = LeafDecoder.integer(UInt64(first), p + 3)
      return Season.storedYears.contains(Int(season)) ? (season, rowid) : nil
    }
    let text = UnsafeBufferPointer(start: p + 3, count: 10)
    guard let season = memo.value(of: text, parse: Season.ofISODate) else { return nil }
    return (season, rowid)
  }

  /// The cell pointers' area of an index b-tree page: its header size and cell count, nil for
  /// a page that is not an index b-tree page.
  @inline(__always) private static func indexPage(_ image: FileImage, _ page: UnsafePointer<UInt8>)
    -> (interior: Bool, header: Int, count: Int)?
  {
    let interior: Bool
    switch page[0] {
    case 0x02: interior = true
    case 0x0A: interior = false
    default: return nil
    }
    let header = interior ? 12 : 8
    let count = be16(page + 3)
    guard count <= (image.pageSize - 8) / 6, header + 2 * count <= image.usable else { return nil }
    return (interior, header, count)
  }

  /// The seasons of the index's first and last entries, lowest first (an index keeps its keys
  /// in order), nil when either is refused or the path down to it is damaged. It only decides
  /// whether walking the index could skip anything: nothing read depends on it.
  static func seasonSpan(_ image: FileImage, _ index: SelectorIndex) -> ClosedRange<Int64>? {
    var memo = ParseMemo()
    func end(leftmost: Bool) -> Int64? {
      var n = index.root
      for _ in 0..<64 {
        guard let page = image.page(n), let shape = indexPage(image, page) else { return nil }
        if shape.interior {
          if leftmost {
            guard shape.count > 0 else { return nil }
            let at = be16(page + shape.header)
            guard at + 4 <= image.usable else { return nil }
            n = be32(page + at)
          } else {
            n = be32(page + 8)
          }
          continue
        }
        guard shape.count > 0 else { return nil }
        let at = be16(page + shape.header + 2 * (leftmost ? 0 : shape.count - 1))
        guard at >= shape.header + 2 * shape.count, at < image.usable else { return nil }
        return indexEntry(image, page, at: at, index: index, memo: &memo)?.season
      }
      return nil
    }
    guard let a = end(leftmost: true), let b = end(leftmost: false) else { return nil }
    return min(a, b)...max(a, b)
  }

  /// Every entry of the index, each checked (see `indexEntry`), and the rowids of the
  /// requested seasons' rows. Nil when a page is damaged or reached twice (`seen`, shared with
  /// the tables' walks), an entry is refused, or a rowid is listed twice.
  static func indexedRows(_ image: FileImage, _ index: SelectorIndex, seasons: [Int], seen: inout [UInt64])
    -> IndexedRows?
  {
    guard let lo = seasons.first, let hi = seasons.last else { return nil }
    var wanted = [Bool](repeating: false, count: hi - lo + 1)
    for s in seasons { wanted[s - lo] = true }
    var result = IndexedRows(rowids: [], perSeason: [Int](repeating: 0, count: wanted.count), entries: 0)
    var memo = ParseMemo()
    // Pages read through the mapping are dropped as the walk goes (below); pages read with
    // `pread` were never mapped.
    let releasing = image.descriptor == nil
    var visited: [UInt32] = []
    var stack: [UInt32] = [index.root]
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: image.pageSize)
    defer { buffer.deallocate() }
    while let n = stack.popLast() {
      guard n >= 2, let page = image.scatteredPage(n, into: buffer), let shape = indexPage(image, page) else {
        return nil
      }
      let bit = UInt64(1) << UInt64(n & 63)
      guard seen[Int(n >> 6)] & bit == 0, shape.count > 0 || n == index.root else { return nil }
      seen[Int(n >> 6)] |= bit
      if releasing { visited.append(n) }
      // An interior page's cells are entries too, each after its child's page number.
      if shape.interior { stack.append(be32(page + 8)) }
      for c in 0..<shape.count {
        var at = be16(page + shape.header + 2 * c)
        guard at >= shape.header + 2 * shape.count, at < image.usable else { return nil }
        if shape.interior {
          guard at + 4 < image.usable else { return nil }
          stack.append(be32(page + at))
          at += 4
        }
        guard
          let entry = quickEntry(page, at: at, usable: image.usable, index: index, memo: &memo)
            ?? indexEntry(image, page, at: at, index: index, memo: &memo)
        else { return nil }
        result.entries += 1
        if entry.season >= Int64(lo), entry.season <= Int64(hi), wanted[Int(entry.season) - lo] {
          result.rowids.append(entry.rowid)
          result.perSeason[Int(entry.season) - lo] += 1
        }
      }
      // Read through the mapping (no descriptor), an index page's neighbours in the file are
      // mapped with it (the kernel maps around a fault), and index pages lie scattered among
      // the tables' pages: dropped every 256 pages, not 2,048, one season of 75 peaked at
      // 58 MiB instead of 120.
      if visited.count >= 256 {
        image.release(visited)
        visited.removeAll(keepingCapacity: true)
      }
    }
    image.release(visited)
    result.rowids.sort()
    guard zip(result.rowids, result.rowids.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
    return result
  }

  /// Whether `rowids` (ascending) holds one in `(above, through]`; nil bounds are open.
  @inline(__always) static func holdsRowid(_ rowids: [Int64], above: Int64?, through: Int64?) -> Bool {
    var low = 0, high = rowids.count
    if let above {
      while low < high {
        let mid = (low + high) / 2
        if rowids[mid] <= above { low = mid + 1 } else { high = mid }
      }
    }
    guard low < rowids.count else { return false }
    return through.map { rowids[low] <= $0 } ?? true
  }
}
