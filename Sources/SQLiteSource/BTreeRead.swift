import Columnar
import CSQLite
import Dispatch

#if canImport(Glibc)
  import Glibc
#endif

// The direct tier of `SourceReader.read`: the table b-trees of the database file decoded here
// (https://www.sqlite.org/fileformat2.html) instead of stepping SQLite's VM row by row.
// SQLite still answers everything about the schema, holds the read lock, and maps the file;
// this code only walks pages and records. Anything it does not handle, or does not find
// exactly as the format says, makes it return nil, and `readFast` (then the checked path)
// answers instead, so every error message stays the checked path's own.

/// Which tier answered a read; tests use it to prove the direct tier ran, and, for each table,
/// whether an index on its selector chose the leaves it decoded (SelectorIndex.swift).
enum ReadTier: Sendable, Equatable {
  case direct(pgsIndexed: Bool, pcfIndexed: Bool)
  case fast, checked
  var isDirect: Bool {
    if case .direct = self { return true }
    return false
  }
}

/// The database file as mapped by SQLite, read-only, while a read transaction is open. Every
/// page number, offset and length taken from it is checked against its size before use.
struct FileImage: @unchecked Sendable {
  let base: UnsafePointer<UInt8>
  let size: Int
  let pageSize: Int
  /// Page size less the reserved bytes at the end of each page.
  let usable: Int
  let pageCount: Int

  /// SQLite's own descriptor of the file, when `SourceReader.sqliteDescriptor` could prove it
  /// is: `scatteredPage` then reads with `pread` instead of through the mapping.
  var descriptor: Int32?

  /// The first byte of page `n` (1-based), nil when `n` is not a page of the file.
  @inline(__always) func page(_ n: UInt32) -> UnsafePointer<UInt8>? {
    guard n >= 1, Int(n) <= pageCount else { return nil }
    return base + (Int(n) - 1) * pageSize
  }

  /// Page `n` for a walk that visits pages scattered over the file and each only once (an
  /// index grown row by row lies among the tables' pages): copied into `buffer` (`pageSize`
  /// bytes) with `pread` when there is a descriptor, else its place in the mapping. A fault
  /// on a mapped page maps up to 15 neighbours with it, which are then dropped again: through
  /// the mapping, that was about 45 % of the CPU of reading one season out of 75. Nil when
  /// `n` is not a page of the file or the read comes back short.
  func scatteredPage(_ n: UInt32, into buffer: UnsafeMutablePointer<UInt8>) -> UnsafePointer<UInt8>? {
    #if canImport(Glibc)
      guard let descriptor, n >= 1, Int(n) <= pageCount else { return page(n) }
      var done = 0
      while done < pageSize {
        let got = pread(descriptor, buffer + done, pageSize - done, off_t((Int(n) - 1) * pageSize + done))
        if got < 0 && errno == EINTR { continue }
        guard got > 0 else { return nil }
        done += got
      }
      return UnsafePointer(buffer)
    #else
      return page(n)
    #endif
  }

  /// Drops pages already decoded from this process's resident set. The mapping is SQLite's,
  /// shared and read-only, so a page touched again is simply read back from the page cache;
  /// without this a large file's every page stayed resident until the read ended (at 2M PGS
  /// rows, 504 MB on top of the columns: peak RSS 1.24 GB instead of under 1 GiB).
  ///
  /// Pages go in page-number order, and runs less than `gap` pages apart go in one call with
  /// the pages between them: each call interrupts the other core to flush its TLB, and a
  /// table's leaves lie in short runs between interior pages and the other table's leaves
  /// (2,034 calls for a 273k-row read, 1.4 % of the build's CPU in those interrupts). A page
  /// dropped that is still to be read is read back from the page cache.
  func release(_ pages: some Collection<UInt32>, gap: UInt32 = 64) {
    #if canImport(Glibc)
      let osPage = Int(sysconf(Int32(_SC_PAGESIZE)))
      guard osPage > 0 else { return }
      let pages = pages.sorted()
      var i = pages.startIndex
      while i < pages.endIndex {
        var j = i + 1
        while j < pages.endIndex && pages[j] &- pages[j - 1] <= gap { j += 1 }
        // Whole OS pages around the run; a neighbour dropped with them is re-read if needed.
        let from = (Int(pages[i]) - 1) * pageSize
        let to = min(size, Int(pages[j - 1]) * pageSize)
        let start = from / osPage * osPage
        let end = min(size, (to + osPage - 1) / osPage * osPage)
        if start >= 0, start < end, end <= size {
          _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED)
        }
        i = j
      }
    #endif
  }
}

@inline(__always) func be16(_ p: UnsafePointer<UInt8>) -> Int { Int(p[0]) << 8 | Int(p[1]) }
@inline(__always) func be32(_ p: UnsafePointer<UInt8>) -> UInt32 {
  UInt32(p[0]) << 24 | UInt32(p[1]) << 16 | UInt32(p[2]) << 8 | UInt32(p[3])
}

/// A SQLite varint at `p[i]`, reading no byte at or past `end`; advances `i`.
@inline(__always) func varint(_ p: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int) -> UInt64? {
  // One byte: every serial type below 128 (all numbers, texts under 58 bytes), so nearly
  // every field of a record header.
  if i < end, p[i] < 0x80 {
    defer { i += 1 }
    return UInt64(p[i])
  }
  var v: UInt64 = 0
  for _ in 0..<8 {
    guard i < end else { return nil }
    let b = p[i]
    i += 1
    v = v << 7 | UInt64(b & 0x7f)
    if b < 0x80 { return v }
  }
  guard i < end else { return nil }
  v = v << 8 | UInt64(p[i])
  i += 1
  return v
}

/// How one table's records map onto the columns read, from SQLite's own description of it.
struct RecordLayout: Sendable {
  let root: UInt32
  /// Per column read: its field index in the record.
  let field: [Int]
  /// Per column read: REAL affinity, where SQLite reports a stored integer as a REAL.
  let realAffinity: [Bool]
  /// Per column read: its default is NULL, so a record without the field holds NULL.
  let nullDefault: [Bool]
  /// The column that selects rows: PGS `season_year`, PCF `game_date`.
  let selector: Int
  /// Fields the decoder needs: 0...lastField.
  let lastField: Int
}

extension SourceReader {
  /// SQLite's column affinity for a declared type (the rules of section 3.1 of
  /// https://www.sqlite.org/datatype3.html, in the order SQLite's own scan applies them);
  /// true only for REAL, the one affinity that changes what a plain column read reports.
  static func hasRealAffinity(declaredType: String) -> Bool {
    enum Affinity { case numeric, text, blob, real, integer }
    if declaredType.isEmpty { return false }
    var aff = Affinity.numeric
    var h: UInt32 = 0
    func code(_ s: String) -> UInt32 { s.utf8.reduce(0) { $0 << 8 | UInt32($1) } }
    for byte in declaredType.utf8 {
      let lower = byte >= 65 && byte <= 90 ? byte + 32 : byte
      h = h << 8 | UInt32(lower)
      if h == code("char") || h == code("clob") || h == code("text") {
        aff = .text
      } else if h == code("blob") && (aff == .numeric || aff == .real) {
        aff = .blob
      } else if (h == code("real") || h == code("floa") || h == code("doub")) && aff == .numeric {
        aff = .real
      } else if h & 0x00ff_ffff == code("int") {
        aff = .integer
        break
      }
    }
    return aff == .real
  }

  /// The layout of `table` for `columns`, nil for anything the decoder does not handle: a
  /// view or virtual table, WITHOUT ROWID, a generated or hidden column anywhere in the table
  /// (virtual ones are not stored, shifting every later field), or a column read that is
  /// part of the primary key (an INTEGER PRIMARY KEY is the rowid, stored as NULL).
  static func recordLayout(_ connection: Connection, table: String, columns: [ColumnSpec], selector: String)
    throws(SQLiteError) -> RecordLayout?
  {
    // Table names are case-insensitive (ASCII) in SQLite, as NOCASE compares.
    let root = try connection.prepare(
      "SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = ?1 COLLATE NOCASE")
    try root.bind(1, table)
    guard try root.step(), root.storageClass(0) == .integer else { return nil }
    let rootPage = root.int64(0)
    guard rootPage >= 2, rootPage <= Int64(UInt32.max) else { return nil }
    let list = try connection.prepare(
      "SELECT type, wr FROM pragma_table_list WHERE schema = 'main' AND name = ?1 COLLATE NOCASE")
    try list.bind(1, table)
    guard try list.step(), list.text(0) == "table", list.int64(1) == 0 else { return nil }
    let info = try connection.prepare("SELECT cid, name, type, dflt_value, pk, hidden FROM pragma_table_xinfo(?1)")
    try info.bind(1, table)
    var byName: [String: (field: Int, type: String, nullDefault: Bool, pk: Bool)] = [:]
    while try info.step() {
      guard info.int64(5) == 0 else { return nil }
      let defaultValue = info.storageClass(3) == .null ? nil : info.text(3)
      byName[(info.text(1) ?? "").lowercased()] = (
        Int(info.int64(0)), info.text(2) ?? "", defaultValue == nil || defaultValue!.uppercased() == "NULL",
        info.int64(4) != 0
      )
    }
    var field: [Int] = [], real: [Bool] = [], nullDefault: [Bool] = []
    for spec in columns {
      guard let c = byName[spec.name.lowercased()], !c.pk else { return nil }
      field.append(c.field)
      real.append(hasRealAffinity(declaredType: c.type))
      nullDefault.append(c.nullDefault)
    }
    guard let s = columns.firstIndex(where: { $0.name == selector }) else { return nil }
    return RecordLayout(
      root: UInt32(rootPage), field: field, realAffinity: real, nullDefault: nullDefault, selector: s,
      lastField: field.max() ?? 0)
  }

  /// Reads what `readChecked` reads by decoding the file's pages, or nil (see the file comment).
  /// One read transaction covers the layout queries, both tables and the schedule, so no writer
  /// can commit in between.
  /// `leavesPerChunk` is the decoders' unit of work (tests make it small, so that files of a
  /// few hundred leaves still alternate between the threads many times).
  func readDirect(_ connection: Connection, seasons: [Int], leavesPerChunk: Int = leavesPerChunk) throws(SourceError)
    -> SourceData?
  {
    try readDirectReporting(connection, seasons: seasons, leavesPerChunk: leavesPerChunk)?.data
  }

  /// `readDirect`, also saying for each table whether its selector index chose the leaves read,
  /// and how many rows it holds.
  /// `readIndexPages: false` walks the indexes through the mapping even where SQLite's
  /// descriptor is found (tests compare the two).
  func readDirectReporting(
    _ connection: Connection, seasons: [Int], leavesPerChunk: Int = leavesPerChunk, readIndexPages: Bool = true
  )
    throws(SourceError) -> (
      data: SourceData, indexed: (pgs: Bool, pcf: Bool), rowsInFile: (pgs: Int, pcf: Int), neighbours: ReadResult?
    )?
  {
    guard !seasons.isEmpty else { return nil }
    // SQLite maps the file for us (xFetch): its own mapping is tied to its locks, where a
    // second descriptor of ours would drop them on close (POSIX locks are per process).
    guard (try? connection.execute("PRAGMA mmap_size = 2147418112")) != nil else { return nil }
    defer { try? connection.execute("PRAGMA mmap_size = 0") }
    guard (try? connection.execute("BEGIN")) != nil else { return nil }
    defer { try? connection.execute("COMMIT") }
    let layouts: (pgs: RecordLayout, pcf: RecordLayout)
    do {
      // The first read of the transaction takes the shared lock, held until COMMIT.
      guard
        let pgs = try Self.recordLayout(
          connection, table: "player_game_summary", columns: Self.pgsColumns, selector: "season_year"),
        let pcf = try Self.recordLayout(
          connection, table: "player_composite_factors", columns: Self.pcfColumns, selector: "game_date")
      else { return nil }
      layouts = (pgs, pcf)
    } catch {
      return nil
    }
    // An index that cannot be described is only an index not used.
    let indexes = (
      pgs: (try? Self.selectorIndex(connection, table: "player_game_summary", column: "season_year", byDate: false))
        ?? nil,
      pcf: (try? Self.selectorIndex(connection, table: "player_composite_factors", column: "game_date", byDate: true))
        ?? nil
    )
    var fileArg: UnsafeMutableRawPointer?
    guard sqlite3_file_control(connection.handle, "main", SQLITE_FCNTL_FILE_POINTER, &fileArg) == SQLITE_OK,
      let file = fileArg?.assumingMemoryBound(to: sqlite3_file.self), let methods = file.pointee.pMethods,
      methods.pointee.iVersion >= 3, let fileSize = methods.pointee.xFileSize, let fetch = methods.pointee.xFetch,
      let unfetch = methods.pointee.xUnfetch
    else { return nil }
    var size: sqlite3_int64 = 0
    guard fileSize(file, &size) == SQLITE_OK, size >= 512, size <= Int64(Int32.max) else { return nil }
    var mapped: UnsafeMutableRawPointer?
    guard fetch(file, 0, Int32(size), &mapped) == SQLITE_OK, let mapped else { return nil }
    defer { _ = unfetch(file, 0, mapped) }
    let base = UnsafePointer(mapped.assumingMemoryBound(to: UInt8.self))
    guard var image = Self.image(base, size: Int(size)) else { return nil }
    image.descriptor = readIndexPages ? Self.sqliteDescriptor(connection, file) : nil
    guard
      let parts = Self.decode(
        image, layouts: layouts, seasons: seasons, leavesPerChunk: leavesPerChunk, indexes: indexes,
        neighbours: Self.neighbours(of: seasons))
    else { return nil }
    return (
      try assemble(connection, seasons: seasons, pgs: parts.pgs, pcf: parts.pcf), parts.indexed, parts.rowsInFile,
      parts.neighbours
    )
  }

  /// SQLite's own descriptor of the connection's main database file, to `pread` scattered
  /// pages with (`FileImage.scatteredPage`); nil when it cannot be proven to be that file.
  ///
  /// A descriptor of our own would not do: closing any descriptor of a file drops every POSIX
  /// lock the process holds on it, so closing ours would drop the shared lock of this read, or
  /// of another connection's read of the same file in this process (RELIABILITY.md, "A writer
  /// during the read"). SQLite's is borrowed and never closed here. SQLite has no call that
  /// returns it: it is the fourth field of the unix VFS's file object (`int h`, after the
  /// methods, VFS and inode pointers, the same since SQLite 3.7). So it is used only when the
  /// connection's VFS is one of the unix VFSes, and when the descriptor found there is open on
  /// the very file at the connection's path (same device and inode, a regular file). Anything
  /// else, and the pages are read through the mapping as before: same result, more time.
  static func sqliteDescriptor(_ connection: Connection, _ file: UnsafeMutablePointer<sqlite3_file>) -> Int32? {
    #if canImport(Glibc)
      var vfsPointer: UnsafeMutableRawPointer?
      guard sqlite3_file_control(connection.handle, "main", SQLITE_FCNTL_VFS_POINTER, &vfsPointer) == SQLITE_OK,
        let vfs = vfsPointer?.assumingMemoryBound(to: sqlite3_vfs.self), let name = vfs.pointee.zName.map(String.init),
        name == "unix" || name.hasPrefix("unix-")
      else { return nil }
      let fd = UnsafeRawPointer(file).load(fromByteOffset: 3 * MemoryLayout<UnsafeRawPointer>.stride, as: Int32.self)
      var opened = stat(), named = stat()
      guard fd >= 0, fstat(fd, &opened) == 0, stat(connection.path, &named) == 0,
        opened.st_mode & S_IFMT == S_IFREG, opened.st_dev == named.st_dev, opened.st_ino == named.st_ino
      else { return nil }
      return fd
    #else
      return nil
    #endif
  }

  /// Checks the 100-byte header (https://www.sqlite.org/fileformat2.html#the_database_header):
  /// nil for WAL mode (the newest pages may be in the -wal file, not here), text not in UTF-8,
  /// or a page size or reserved space the format does not allow.
  static func image(_ base: UnsafePointer<UInt8>, size: Int) -> FileImage? {
    guard size >= 100 else { return nil }
    let magic = Array("SQLite format 3\0".utf8)
    guard (0..<16).allSatisfy({ base[$0] == magic[$0] }) else { return nil }
    let raw = be16(base + 16)
    let pageSize = raw == 1 ? 65536 : raw
    guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else { return nil }
    guard base[18] == 1, base[19] == 1 else { return nil }
    let reserved = Int(base[20])
    let usable = pageSize - reserved
    guard usable >= 480 else { return nil }
    // The payload fractions are fixed by the format; SQLite refuses a file with others.
    guard base[21] == 64, base[22] == 32, base[23] == 32 else { return nil }
    guard be32(base + 56) == 1 else { return nil }
    // SQLite's page count: the header's when its version-valid-for number matches the change
    // counter, else the file's size; pages past it do not exist (a pointer to one is
    // corruption to SQLite even when the file is longer), and a header claiming more pages
    // than the file holds is corruption too.
    let filePages = size / pageSize
    var pages = Int(be32(base + 28))
    if pages == 0 || be32(base + 24) != be32(base + 92) { pages = filePages }
    guard pages <= filePages else { return nil }
    return FileImage(base: base, size: size, pageSize: pageSize, usable: usable, pageCount: pages)
  }

  /// The leaf pages of the table b-tree rooted at `root`, in key order, and the cells each
  /// holds. Nil for a page that is not a table b-tree page, a pointer out of the page or the
  /// file, or a page reached twice (`seen`, shared by both tables).
  ///
  /// With `rowids` (ascending), only the subtrees that can hold one of them: an interior
  /// cell's key is the largest rowid of its child's subtree, so each child holds the keys
  /// above the previous cell's key and up to its own. Keys out of that order are damage.
  static func leaves(_ image: FileImage, root: UInt32, seen: inout [UInt64], keeping rowids: [Int64]? = nil)
    -> (pages: [UInt32], cells: [Int])?
  {
    var pages: [UInt32] = [], cells: [Int] = []
    var released = 0
    // Each page with the keys its subtree may hold: above `above`, up to `through`.
    var stack: [(page: UInt32, above: Int64?, through: Int64?)] = [(root, nil, nil)]
    var children: [(page: UInt32, above: Int64?, through: Int64?)] = []
    while let (n, above, through) = stack.popLast() {
      guard n >= 2, let page = image.page(n) else { return nil }
      let bit = UInt64(1) << UInt64(n & 63)
      guard seen[Int(n >> 6)] & bit == 0 else { return nil }
      seen[Int(n >> 6)] |= bit
      let count = be16(page + 3)
      // SQLite's own limit on cells per page; an empty page is only allowed as the root.
      guard count <= (image.pageSize - 8) / 6, count > 0 || n == root else { return nil }
      switch page[0] {
      case 0x0D:
        guard 8 + 2 * count <= image.usable else { return nil }
        pages.append(n)
        cells.append(count)
        // Reading a leaf's header maps its page: without this every page of the file was
        // resident before the first row was decoded (one season of a 510 MB file: 525 MB).
        if pages.count - released >= 256 {
          image.release(pages[released...])
          released = pages.count
        }
      case 0x05:
        let pointers = 12
        guard pointers + 2 * count <= image.usable else { return nil }
        children.removeAll(keepingCapacity: true)
        var previous = above
        for c in 0..<count {
          var at = be16(page + pointers + 2 * c)
          guard at >= pointers + 2 * count, at + 4 <= image.usable else { return nil }
          let child = be32(page + at)
          guard let rowids else {
            children.append((child, nil, nil))
            continue
          }
          at += 4
          guard let raw = varint(page, &at, image.usable) else { return nil }
          let key = Int64(bitPattern: raw)
          guard previous.map({ $0 < key }) ?? true, through.map({ key <= $0 }) ?? true else { return nil }
          if SourceReader.holdsRowid(rowids, above: previous, through: key) { children.append((child, previous, key)) }
          previous = key
        }
        let right = be32(page + 8)
        if rowids.map({ SourceReader.holdsRowid($0, above: previous, through: through) }) ?? true {
          children.append((right, previous, through))
        }
        // Children are visited left to right: push the right-most first.
        stack.append(contentsOf: children.reversed())
      default:
        return nil
      }
    }
    image.release(pages[released...])
    return (pages, cells)
  }

  /// Both tables' selected rows, as `readChecked` orders them: PGS in rowid order, PCF season
  /// by season, each in rowid order; and for each table whether its selector index chose the
  /// leaves read (SelectorIndex.swift).
  static func decode(
    _ image: FileImage, layouts: (pgs: RecordLayout, pcf: RecordLayout), seasons: [Int], leavesPerChunk: Int,
    indexes: (pgs: SelectorIndex?, pcf: SelectorIndex?) = (nil, nil), neighbours: [Int] = []
  )
    -> (
      pgs: ReadResult, pcf: ReadResult, indexed: (pgs: Bool, pcf: Bool), rowsInFile: (pgs: Int, pcf: Int),
      neighbours: ReadResult?
    )?
  {
    guard let lo = seasons.first else { return nil }
    let words = image.pageCount / 64 + 1
    var seen = [UInt64](repeating: 0, count: words)
    let listed = listedRows(image, indexes: indexes, seasons: seasons, seen: &seen)
    func read(_ layout: RecordLayout, _ specs: [ColumnSpec], byDate: Bool, listed: IndexedRows?, also: [Int] = [])
      -> (read: TableRead, indexed: Bool, rowsInFile: Int, also: ReadResult?)?
    {
      let before = seen
      if let listed,
        let kept = leaves(image, root: layout.root, seen: &seen, keeping: listed.rowids),
        let read = decodeTable(
          image, layout, specs, leaves: kept, seasons: seasons, byDate: byDate, leavesPerChunk: leavesPerChunk),
        read.perSeason == listed.perSeason, read.rows.rowid == listed.rowids
      {
        return (read, true, listed.entries, nil)
      }
      // Without an index, or when the rows decoded are not exactly the ones it lists, season by
      // season: the whole table. Every leaf is walked then, so the rows of `also` (PGS: the
      // seasons next to those asked for, which `lookAcrossSeasonBorders` would otherwise find
      // with a scan of its own per season) cost only their decoding; they are split off.
      seen = before
      var wanted = Array(Set(seasons + also)).sorted()
      guard let all = leaves(image, root: layout.root, seen: &seen) else { return nil }
      var decoded = decodeTable(
        image, layout, specs, leaves: all, seasons: wanted, byDate: byDate, leavesPerChunk: leavesPerChunk)
      if decoded == nil && wanted != seasons {
        // A value this read refuses in a neighbour's row (a column the neighbour check never
        // looks at): the seasons asked for alone, and the neighbours are queried instead.
        wanted = seasons
        decoded = decodeTable(
          image, layout, specs, leaves: all, seasons: seasons, byDate: byDate, leavesPerChunk: leavesPerChunk)
      }
      guard var read = decoded else { return nil }
      var extra: ReadResult?
      if wanted != seasons, let hi = seasons.last {
        // perSeason as a read of `seasons` alone gives it: lo...hi, the seasons not asked at 0.
        let asked = Set(seasons)
        let shift = lo - wanted[0]
        let perSeason = (lo...hi).map { asked.contains($0) ? read.perSeason[$0 - lo + shift] : 0 }
        if perSeason.reduce(0, +) != read.rows.rowid.count {
          let keep = read.season.indices.filter { asked.contains(Int(read.season[$0])) }
          extra = read.rows.gather(read.season.indices.filter { !asked.contains(Int(read.season[$0])) })
          read = (read.rows.gather(keep), keep.map { read.season[$0] }, perSeason)
        } else {
          extra = ReadResult(rowid: [], columns: [])
          read.perSeason = perSeason
        }
      }
      return (read, false, all.cells.reduce(0, +), extra)
    }
    guard let pgs = read(layouts.pgs, pgsColumns, byDate: false, listed: listed.pgs, also: neighbours),
      let pcf = read(layouts.pcf, pcfColumns, byDate: true, listed: listed.pcf)
    else { return nil }
    // `readChecked` refuses a requested season without PGS rows; PCF may have none.
    guard seasons.allSatisfy({ pgs.read.perSeason[$0 - lo] > 0 }) else { return nil }
    var result = pcf.read.rows
    let seasonOf = pcf.read.season
    if !zip(seasonOf, seasonOf.dropFirst()).allSatisfy({ $0 <= $1 }) {
      result = result.gather(seasonOf.indices.sorted { (seasonOf[$0], $0) < (seasonOf[$1], $1) })
    }
    return (pgs.read.rows, result, (pgs.indexed, pcf.indexed), (pgs.rowsInFile, pcf.rowsInFile), pgs.also)
  }

  /// A table's selected rows, the season of each, and the rows per season in `lo...hi`.
  typealias TableRead = (rows: ReadResult, season: [Int32], perSeason: [Int])

  /// What each table's selector index lists for `seasons`, both indexes walked at once, one per
  /// thread. Nil for a table without an index, whose index holds no season that was not asked
  /// for (nothing to skip), or whose walk refused something: that table is read whole. The
  /// index pages are added to `seen`; a page in both walks is damage, and both are dropped.
  static func listedRows(
    _ image: FileImage, indexes: (pgs: SelectorIndex?, pcf: SelectorIndex?), seasons: [Int], seen: inout [UInt64]
  ) -> (pgs: IndexedRows?, pcf: IndexedRows?) {
    // Requested seasons covering every season from the index's first entry to its last leave
    // nothing to skip, and cost no walk.
    func worthWalking(_ index: SelectorIndex?) -> SelectorIndex? {
      guard let index, let span = seasonSpan(image, index) else { return nil }
      let covered = seasons.filter { span.contains(Int64($0)) }.count
      // The span of a damaged index's ends can exceed Int64; then there is surely more to skip.
      let (gap, overflow) = span.upperBound.subtractingReportingOverflow(span.lowerBound)
      return overflow || Int64(covered) <= gap ? index : nil
    }
    let pgsIndex = worthWalking(indexes.pgs), pcfIndex = worthWalking(indexes.pcf)
    guard pgsIndex != nil || pcfIndex != nil else { return (nil, nil) }
    final class Walk: @unchecked Sendable {
      var seen: [UInt64]
      var rows: IndexedRows?
      init(words: Int) { seen = [UInt64](repeating: 0, count: words) }
      func run(_ image: FileImage, _ index: SelectorIndex?, _ seasons: [Int]) {
        guard let index, let found = SourceReader.indexedRows(image, index, seasons: seasons, seen: &seen),
          found.rowids.count < found.entries
        else { return }
        rows = found
      }
    }
    let pgs = Walk(words: seen.count), pcf = Walk(words: seen.count)
    let group = DispatchGroup()
    if pgsIndex != nil && pcfIndex != nil {
      DispatchQueue.global().async(group: group) { pcf.run(image, pcfIndex, seasons) }
    } else {
      pcf.run(image, pcfIndex, seasons)
    }
    pgs.run(image, pgsIndex, seasons)
    group.wait()
    for w in seen.indices {
      guard pgs.seen[w] & pcf.seen[w] == 0 else { return (nil, nil) }
      seen[w] |= pgs.seen[w] | pcf.seen[w]
    }
    return (pgs.rows, pcf.rows)
  }

  /// Leaves per unit of work: the two threads take alternate runs of this many leaves, so a
  /// selection clustered in rowid order (one season of ten, about 1,700 leaves of 4 KiB) still
  /// splits roughly evenly. Each run's pages are released with one madvise, and each madvise
  /// interrupts the other core to flush its TLB: runs of 16 leaves spent several percent of
  /// the read in those interrupts. SourceReadBench, 273k rows, CPU, best of 9, four rounds:
  /// all seasons 387–450 ms at 16 leaves, 365–450 at 64, 363–405 at 256; one season of ten
  /// 107–134 ms, 105–130, 96–108. Not 256: with it a 2M-row build peaked 45–50 MiB higher
  /// (about 1,010 against 960 MiB of anonymous memory, three runs each, not explained), too
  /// close to the 1 GiB the build is meant to stay under.
  static let leavesPerChunk = 64

  /// Every row of a table, its selector checked the way `refuseUnselectableRows` checks it
  /// (every row, selected or not), the selected ones decoded, on two threads.
  ///
  /// The threads take alternate runs of leaves and decode each into a small scratch
  /// `FastColumns` (two per thread, reused run after run); runs are appended to the result in
  /// order by whichever thread finds the next one ready. A table's values are so written into
  /// fresh memory once: decoding into per-thread buffers sized for the whole table and joining
  /// them afterwards faulted in every page twice, and on this project's machines a page fault
  /// costs several microseconds (the read made three quarters of a 2M-row build's 390k).
  static func decodeTable(
    _ image: FileImage, _ layout: RecordLayout, _ specs: [ColumnSpec], leaves: (pages: [UInt32], cells: [Int]),
    seasons: [Int], byDate: Bool, leavesPerChunk: Int
  ) -> TableRead? {
    precondition(leavesPerChunk > 0, "leavesPerChunk must be positive, got \(leavesPerChunk)")
    let pages = leaves.pages, cells = leaves.cells
    let chunks = (pages.count + leavesPerChunk - 1) / leavesPerChunk
    @Sendable func range(_ c: Int) -> Range<Int> { c * leavesPerChunk..<min(pages.count, (c + 1) * leavesPerChunk) }
    let largest = (0..<chunks).map { range($0).reduce(0) { $0 + cells[$1] } }.max() ?? 0
    let total = cells.reduce(0, +)

    /// The run-order hand-over between the two threads; `lock` guards everything but the
    /// appended columns, which only the thread holding `appending` touches.
    final class Order: @unchecked Sendable {
      let lock = Condition()
      var ready: [Int: (decoder: LeafDecoder, thread: Int)] = [:]
      var next = 0
      var appending = false
      var failed = false
      var free: [[LeafDecoder]]
      var out: FastColumns.Appender
      var season: [Int32] = []
      init(free: [[LeafDecoder]], out: FastColumns.Appender) {
        self.free = free
        self.out = out
      }
    }
    let decoders = (0..<2).map { _ in
      (0..<2).map { _ in
        LeafDecoder(image: image, layout: layout, specs: specs, capacity: largest, seasons: seasons, byDate: byDate)
      }
    }
    let order = Order(free: decoders, out: FastColumns.Appender(like: decoders[0][0].columns, reserving: total))
    order.season.reserveCapacity(total)

    let work: @Sendable (Int) -> Void = { t in
      // Pages decoded and not yet released: released 2,048 at a time (8 MiB of 4 KiB pages).
      var decoded: [UInt32] = []
      for c in stride(from: t, to: chunks, by: 2) {
        order.lock.lock()
        // A thread's own runs are appended in order, so one of its two decoders is free
        // once the runs before this one are in: no wait can close a cycle.
        while order.free[t].isEmpty && !order.failed { order.lock.wait() }
        if order.failed {
          order.lock.unlock()
          return
        }
        let d = order.free[t].removeLast()
        order.lock.unlock()

        d.reset()
        var ok = true
        for i in range(c) where ok { ok = d.decodeLeaf(pages[i]) }
        decoded.append(contentsOf: pages[range(c)])
        if decoded.count >= 2048 || c + 2 >= chunks {
          image.release(decoded)
          decoded.removeAll(keepingCapacity: true)
        }

        order.lock.lock()
        guard ok else {
          order.failed = true
          order.lock.broadcast()
          order.lock.unlock()
          return
        }
        order.ready[c] = (d, t)
        if order.appending {
          order.lock.unlock()
          continue
        }
        order.appending = true
        while let (ready, owner) = order.ready.removeValue(forKey: order.next) {
          order.lock.unlock()
          order.out.append(ready.columns, rows: 0..<ready.columns.count)
          order.season.append(contentsOf: UnsafeBufferPointer(start: ready.season, count: ready.columns.count))
          order.lock.lock()
          order.free[owner].append(ready)
          order.next += 1
          order.lock.broadcast()
        }
        order.appending = false
        order.lock.unlock()
      }
    }
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { work(1) }
    work(0)
    group.wait()
    guard !order.failed, order.next == chunks else { return nil }
    let rows = order.out.result()
    // Keys of a table b-tree ascend; anything else is a damaged tree.
    guard zip(rows.rowid, rows.rowid.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
    let wanted = decoders[0][0].wanted.count
    let perSeason = (0..<wanted).map { s in decoders.joined().reduce(0) { $0 + $1.perSeason[s] } }
    return (rows, order.season, perSeason)
  }
}

/// A mutex and its condition variable, from pthreads: this module does without Foundation.
final class Condition: @unchecked Sendable {
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

  init() {
    pthread_mutex_init(mutex, nil)
    pthread_cond_init(condition, nil)
  }

  deinit {
    pthread_cond_destroy(condition)
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
    condition.deallocate()
  }

  func lock() { pthread_mutex_lock(mutex) }
  func unlock() { pthread_mutex_unlock(mutex) }
  /// Unlocks, waits for a `broadcast`, locks again.
  func wait() { pthread_cond_wait(condition, mutex) }
  func broadcast() { pthread_cond_broadcast(condition) }
}

/// Decodes the cells of table leaf pages into one `FastColumns`, on one thread.
final class LeafDecoder {
  let image: FileImage
  let layout: RecordLayout
  let columns: FastColumns
  let byDate: Bool
  let lo: Int
  /// Per season in `lo...`: requested or not.
  let wanted: [Bool]
  /// Rows stored per season in `lo...`, and the season of each row stored (pointers: see
  /// `FastColumns.count`).
  let perSeason: UnsafeMutablePointer<Int>
  let season: UnsafeMutablePointer<Int32>
  /// Per column read: its field, and where a value of the commonest kinds goes.
  ///
  /// `store` dispatches twice per value (on the serial type, then on the column's code) and is
  /// too large to inline. The row loop stores the commonest values itself through these
  /// (integers into integer and flag columns, numbers into REAL columns, ASCII texts of 4–32
  /// bytes, a date or timestamp equal to the column's last one) and leaves every other case
  /// (NULLs, other texts, new dates, anything that fails) to `store`, which gives the same
  /// result for them.
  struct Target {
    let code: FastColumns.Code
    let field: Int
    let values: UnsafeMutableRawPointer
    let valid: UnsafeMutablePointer<UInt64>
    /// A text column's bytes.
    let bytes: UnsafeMutablePointer<ByteBuffer>
    /// A date or timestamp column's last text parsed.
    let memo: UnsafeMutablePointer<ParseMemo>
  }
  private let targets: UnsafeMutablePointer<Target>
  /// The layout's arrays `store` needs, per column read.
  private let realAffinity: UnsafeMutablePointer<Bool>
  private let nullDefault: UnsafeMutablePointer<Bool>
  private let columnCount: Int
  /// Record field serial types and body offsets, fields 0...lastField.
  private let types: UnsafeMutablePointer<UInt64>
  private let offsets: UnsafeMutablePointer<Int>
  /// The last selector date parsed and its season (see `ParseMemo`); a pointer, as the other
  /// per-row state is, so the hot path carries no exclusivity checks.
  private let selectorMemo: UnsafeMutablePointer<ParseMemo>
  /// A payload spilled to overflow pages, put back together.
  private var spill: [UInt8] = []

  init(image: FileImage, layout: RecordLayout, specs: [ColumnSpec], capacity: Int, seasons: [Int], byDate: Bool) {
    self.image = image
    self.layout = layout
    self.byDate = byDate
    columns = FastColumns(specs: specs, capacity: capacity)
    lo = seasons.first ?? 0
    var w = [Bool](repeating: false, count: (seasons.last ?? 0) - lo + 1)
    for s in seasons { w[s - lo] = true }
    wanted = w
    perSeason = .allocate(capacity: w.count)
    perSeason.initialize(repeating: 0, count: w.count)
    season = .allocate(capacity: max(1, capacity))
    columnCount = layout.field.count
    realAffinity = .allocate(capacity: max(1, columnCount))
    nullDefault = .allocate(capacity: max(1, columnCount))
    targets = .allocate(capacity: max(1, columnCount))
    for k in 0..<columnCount {
      realAffinity[k] = layout.realAffinity[k]
      nullDefault[k] = layout.nullDefault[k]
      let (code, values, valid, bytes, memo) = columns.target(k)
      targets[k] = Target(
        code: code, field: layout.field[k], values: values, valid: valid,
        bytes: bytes, memo: memo)
    }
    types = .allocate(capacity: layout.lastField + 1)
    offsets = .allocate(capacity: layout.lastField + 1)
    selectorMemo = .allocate(capacity: 1)
    selectorMemo.initialize(to: ParseMemo())
  }

  /// Empties the columns for the next run of leaves; the rows counted per season stay.
  func reset() { columns.reset() }

  deinit {
    selectorMemo.deallocate()
    types.deallocate()
    offsets.deallocate()
    perSeason.deallocate()
    season.deallocate()
    targets.deallocate()
    realAffinity.deallocate()
    nullDefault.deallocate()
  }

  /// False when the page or a record in it is not as the format says, or a value breaks its
  /// column's rule, or a selector is one the checked path refuses.
  func decodeLeaf(_ n: UInt32) -> Bool {
    guard let page = image.page(n) else { return false }
    let usable = image.usable
    let count = be16(page + 3)
    let pointers = 8
    // Largest payload kept whole on a leaf, and the least kept locally when it spills.
    let maxLocal = usable - 35
    let minLocal = (usable - 12) * 32 / 255 - 23
    // A leaf's rowids ascend strictly, as SQLite's integrity check requires: a damaged cell
    // pointer aims into another cell, and the "row" read there (its selector taken from the
    // wrong bytes) would be skipped as another season's without a word (session 13, found by
    // flipping one byte of a cell-pointer array).
    var previous = Int64.min
    for c in 0..<count {
      var i = be16(page + pointers + 2 * c)
      guard i >= pointers + 2 * count, i < usable else { return false }
      guard let size = varint(page, &i, usable), let key = varint(page, &i, usable) else { return false }
      guard size <= UInt64(Int32.max) else { return false }
      let payloadSize = Int(size)
      let rowid = Int64(bitPattern: key)
      guard c == 0 || rowid > previous else { return false }
      previous = rowid
      var local = payloadSize
      if payloadSize > maxLocal {
        let k = minLocal + (payloadSize - minLocal) % (usable - 4)
        local = k <= maxLocal ? k : minLocal
      }
      guard i + local + (local < payloadSize ? 4 : 0) <= usable else { return false }
      let ok: Bool
      if local == payloadSize {
        ok = decodeRecord(page + i, payloadSize, rowid: rowid)
      } else {
        guard gatherSpill(page + i, local: local, total: payloadSize, next: be32(page + i + local)) else {
          return false
        }
        ok = spill.withUnsafeBufferPointer { decodeRecord($0.baseAddress!, payloadSize, rowid: rowid) }
      }
      guard ok else { return false }
    }
    return true
  }

  /// The payload of a cell whose tail lies in a chain of overflow pages (4-byte next page,
  /// then `usable - 4` bytes of payload each), copied into `spill`.
  private func gatherSpill(_ head: UnsafePointer<UInt8>, local: Int, total: Int, next first: UInt32) -> Bool {
    spill.removeAll(keepingCapacity: true)
    spill.append(contentsOf: UnsafeBufferPointer(start: head, count: local))
    var next = first
    let room = image.usable - 4
    // Each page holds `room` more bytes, so the chain ends (or fails) within total/room pages:
    // a loop in a damaged chain cannot run forever.
    while spill.count < total {
      guard next >= 2, let page = image.page(next) else { return false }
      let take = min(room, total - spill.count)
      spill.append(contentsOf: UnsafeBufferPointer(start: page + 4, count: take))
      next = be32(page)
    }
    return true
  }

  /// Bytes of the body a serial type takes, nil for the reserved types 10 and 11.
  @inline(__always) static func contentSize(_ t: UInt64) -> Int? {
    switch t {
    case 0, 8, 9: return 0
    case 1, 2, 3, 4: return Int(t)
    case 5: return 6
    case 6, 7: return 8
    case 10, 11: return nil
    default: return t >= UInt64(Int32.max) ? nil : Int((t - 12) / 2)
    }
  }

  @inline(__always) static func integer(_ t: UInt64, _ p: UnsafePointer<UInt8>) -> Int64 {
    switch t {
    case 8: return 0
    case 9: return 1
    // Box-score counts and seasons: one or two bytes, without the loop.
    case 1: return Int64(Int8(bitPattern: p[0]))
    case 2: return Int64(Int8(bitPattern: p[0])) << 8 | Int64(p[1])
    default:
      let n = t == 5 ? 6 : t == 6 ? 8 : Int(t)
      var v = Int64(Int8(bitPattern: p[0]))
      for j in 1..<n { v = v << 8 | Int64(p[j]) }
      return v
    }
  }

  /// A REAL field (serial type 7): an IEEE 754 double, big-endian.
  @inline(__always) private static func real(_ p: UnsafePointer<UInt8>) -> Double {
    var bits: UInt64 = 0
    for j in 0..<8 { bits = bits << 8 | UInt64(p[j]) }
    return Double(bitPattern: bits)
  }

  /// Stores field `f` as column `k` of row `r`, in the storage class a plain column read
  /// reports: the stored class, except REAL affinity turning an integer into a REAL and a NaN
  /// (which SQLite never writes) read as NULL, as SQLite reads it.
  @inline(__always) private func store(_ k: Int, row r: Int, field f: Int, fields: Int, body: UnsafePointer<UInt8>)
    -> Bool
  {
    guard f < fields else { return nullDefault[k] && columns.storeNull(k, row: r) }
    let t = types[f]
    let p = body + offsets[f]
    switch t {
    case 0: return columns.storeNull(k, row: r)
    case 1...6, 8, 9:
      let v = Self.integer(t, p)
      return realAffinity[k] ? columns.store(k, row: r, real: Double(v)) : columns.store(k, row: r, integer: v)
    case 7:
      let d = Self.real(p)
      return d.isNaN ? columns.storeNull(k, row: r) : columns.store(k, row: r, real: d)
    default:
      guard t & 1 == 1 else { return false }
      return columns.store(k, row: r, text: UnsafeBufferPointer(start: p, count: Int((t - 13) / 2)))
    }
  }

  /// One record: its header parsed up to the last field read, every field checked to lie
  /// inside the payload, the selector checked, and the row stored when selected.
  private func decodeRecord(_ p: UnsafePointer<UInt8>, _ size: Int, rowid: Int64) -> Bool {
    var i = 0
    // 98307 is the largest header SQLite reads; beyond it SQLite calls the record corrupt.
    guard let h = varint(p, &i, size), h <= UInt64(size), h <= 98307, Int(h) >= i else { return false }
    let headerEnd = Int(h)
    var body = 0
    var fields = 0
    // The header as far as the selector first: most rows of a file holding many seasons stop
    // there, as SQLite's own filter reads no further.
    let s = layout.selector
    let sf = layout.field[s]
    while fields <= sf && i < headerEnd {
      guard let t = varint(p, &i, headerEnd), let n = LeafDecoder.contentSize(t) else { return false }
      types[fields] = t
      offsets[fields] = body
      body += n
      fields += 1
    }
    // SQLite checks the same: fields inside the payload, and when it has parsed the whole
    // header that they fill the payload exactly.
    guard headerEnd + body <= size, i < headerEnd || headerEnd + body == size else { return false }
    let bodyStart = p + headerEnd

    // The selector, as `refuseUnselectableRows` requires it of every row.
    let seasonYear: Int
    if byDate {
      guard sf < fields, types[sf] >= 13, types[sf] & 1 == 1 else { return false }
      let text = UnsafeBufferPointer(start: bodyStart + offsets[sf], count: Int((types[sf] - 13) / 2))
      guard
        let season = selectorMemo.pointee.value(of: text, parse: Season.ofISODate)
      else { return false }
      seasonYear = Int(season)
    } else {
      // An INTEGER column of REAL affinity reads as REAL: not an integer season.
      guard sf < fields, !layout.realAffinity[s], (1...9).contains(types[sf]), types[sf] != 7 else { return false }
      let v = Self.integer(types[sf], bodyStart + offsets[sf])
      guard v >= Int64(lo), v < Int64(lo + wanted.count) else {
        // Not selected; but a value outside the calendar is one the checked path refuses.
        return Season.storedYears.contains(Int(v))
      }
      seasonYear = Int(v)
    }
    guard seasonYear >= lo, seasonYear - lo < wanted.count, wanted[seasonYear - lo] else { return true }
    // A selected row: the rest of the header, to the last field read.
    let last = layout.lastField
    while fields <= last && i < headerEnd {
      guard let t = varint(p, &i, headerEnd), let n = LeafDecoder.contentSize(t) else { return false }
      types[fields] = t
      offsets[fields] = body
      body += n
      fields += 1
    }
    guard headerEnd + body <= size, i < headerEnd || headerEnd + body == size else { return false }
    perSeason[seasonYear - lo] += 1
    guard columns.beginRow(rowid: rowid) else { return false }
    let r = columns.count
    let word = r &>> 6, bit = UInt64(1) &<< UInt64(r & 63)
    for k in 0..<columnCount {
      let target = targets[k]
      let f = target.field
      if f < fields {
        let t = types[f]
        let p = bodyStart + offsets[f]
        // Serial types 1–6, 8 and 9 are integers; 7 is a REAL.
        let isInteger = t != 0 && t <= 9 && t != 7
        switch target.code {
        case .intRequired, .intOptional:
          // With REAL affinity the integer becomes a REAL first, and an integral REAL is
          // stored as the same Int32: the result is the same either way.
          if isInteger, let small = Int32(exactly: Self.integer(t, p)) {
            target.values.assumingMemoryBound(to: Int32.self)[r] = small
            target.valid[word] |= bit
            continue
          }
        case .real:
          if isInteger {
            target.values.assumingMemoryBound(to: Double.self)[r] = Double(Self.integer(t, p))
            target.valid[word] |= bit
            continue
          }
          if t == 7 {
            let d = Self.real(p)
            // NaN reads as NULL and an infinity is refused: `store` says which.
            if d.isFinite {
              target.values.assumingMemoryBound(to: Double.self)[r] = d
              target.valid[word] |= bit
              continue
            }
          }
        case .flag:
          // An integer 0 or 1, in a column of any affinity: one of REAL affinity hands it out
          // as 0.0 or 1.0, which `store` reads as the same flag since session 19.
          if isInteger {
            let v = Self.integer(t, p)
            if v == 0 || v == 1 {
              target.values.assumingMemoryBound(to: Bool.self)[r] = v == 1
              target.valid[word] |= bit
              continue
            }
          }
        case .textRequired, .textOptional:
          // A short ASCII text; a longer one, UTF-8 beyond ASCII or a column near its 2 GiB of
          // bytes goes through `store`, which checks each.
          if t >= 21 && t <= 77 && t & 1 == 1 && target.bytes.pointee.count < Int(Int32.max) - 16,
            target.bytes.pointee.appendShortASCII(p, count: Int((t - 13) / 2))
          {
            target.values.assumingMemoryBound(to: Int32.self)[r + 1] = Int32(
              truncatingIfNeeded: target.bytes.pointee.count)
            target.valid[word] |= bit
            continue
          }
        case .date, .timestamp:
          // The text parsed last time (rows come in date order); a new one is parsed and
          // remembered by `store`.
          if t >= 13 && t & 1 == 1,
            let known = target.memo.pointee.value(ifSameAs: UnsafeBufferPointer(start: p, count: Int((t - 13) / 2)))
          {
            if target.code == .date {
              target.values.assumingMemoryBound(to: Date32.self)[r] = Date32(
                daysSinceEpoch: Int32(truncatingIfNeeded: known))
            } else {
              target.values.assumingMemoryBound(to: Int64.self)[r] = known
            }
            target.valid[word] |= bit
            continue
          }
        }
      }
      guard store(k, row: r, field: f, fields: fields, body: bodyStart) else { return false }
    }
    columns.endRow()
    season[r] = Int32(seasonYear)
    return true
  }
}
