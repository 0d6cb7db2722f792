import Columnar
import Foundation
import SQLiteSource
import Synchronization

/// `dataset verify`: checks a snapshot against its manifest and the manifest against itself
/// and its schema. Every problem is one line naming the file and what differs.
public struct Verifier: Sendable {
  public var format: DataFileFormat

  public init(format: DataFileFormat) { self.format = format }

  public struct Report: Sendable, Equatable {
    /// Version folders checked, in order.
    public var checked: [String] = []
    public var problems: [String] = []
    /// The checked version folders with at least one problem, in order.
    public var failed: [String] = []
    /// How many of `problems` are problems of a checked version (the rest: a path that does
    /// not exist, a folder that cannot be read).
    public var problemsInVersions = 0
    /// What the check passed over that a person should know of, but that is no problem of any
    /// version (a dataset folder left without versions).
    public var notes: [String] = []
    public var ok: Bool { problems.isEmpty }
  }

  /// Every path of `paths`, each version folder checked once however many of the paths reach
  /// it (`verify Datasets Datasets/props_v1/v1`, or one path given twice).
  public func verify(paths: [String]) -> Report {
    var report = Report()
    var seen = Set<String>()
    for path in paths { verify(path: path, into: &report, seen: &seen) }
    return report
  }

  /// `path` is a version folder, its manifest.json, a dataset folder or a Datasets root.
  public func verify(path: String) -> Report { verify(paths: [path]) }

  private func verify(path given: String, into report: inout Report, seen: inout Set<String>) {
    func checkOnce(folder: String, into report: inout Report) {
      guard seen.insert(PathNames.canonical(folder)).inserted else { return }
      let before = report.problems.count
      self.verifyVersion(folder: folder, into: &report)
      if report.problems.count > before {
        report.failed.append(folder)
        report.problemsInVersions += report.problems.count - before
      }
    }
    let path = given.count > 1 && given.hasSuffix("/") ? String(given.dropLast()) : given
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
      let problem = "\(path): \(SnapshotStore.whyUnusable(path) ?? "does not exist")"
      if !report.problems.contains(problem) { report.problems.append(problem) }
      return
    }
    if !isDir.boolValue {
      if (path as NSString).lastPathComponent == "manifest.json" {
        checkOnce(folder: PathNames.folder(holding: path), into: &report)
      } else {
        report.problems.append("\(path): not a manifest.json, a version folder or a Datasets folder")
      }
      return
    }
    let name = (path as NSString).lastPathComponent
    if FileManager.default.fileExists(atPath: "\(path)/manifest.json") || SnapshotStore.versionNumber(name) != nil {
      checkOnce(folder: path, into: &report)
      return
    }
    // A dataset folder (holds versions) or a root (holds datasets).
    let asDataset = SnapshotStore(root: PathNames.folder(holding: path)).versions(name)
    if !asDataset.isEmpty {
      for v in asDataset { checkOnce(folder: "\(path)/\(v)", into: &report) }
      return
    }
    let store = SnapshotStore(root: path)
    let datasets = store.datasets()
    // A folder this user cannot list (the one given, or a dataset in it) would otherwise drop
    // out without a word, and CI would pass having checked less than it was asked to.
    for folder in store.unreadableFolders() {
      report.problems.append("\(folder.path): \(folder.why): its versions, if any, are not checked")
    }
    // A dataset whose versions were all renamed aside or removed drops out of `datasets()`:
    // CI would pass over it without a word (a review). Its record of the last version published
    // shows it held some; a note, not a problem, since quarantining a version is allowed and
    // the record must stay to keep its number from being used again.
    let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    for name in names.sorted() where !name.hasPrefix(".") && !datasets.contains(name) {
      if let last = store.recordedLastVersion(name) {
        let folder = store.datasetPath(name)
        guard seen.insert("dataset:" + PathNames.canonical(folder)).inserted else { continue }
        report.notes.append(Self.emptiedDatasetNote(folder, last: last))
      }
    }
    guard !datasets.isEmpty else {
      guard report.problems.isEmpty else { return }
      // Given a dataset folder whose versions were all moved aside: it was asked for by name.
      let parent = SnapshotStore(root: PathNames.folder(holding: path))
      if let last = parent.recordedLastVersion(name) {
        report.problems.append(
          "\(path): holds no version, though v\(last) was published (.last-version): every version was moved aside or removed"
        )
      } else {
        report.problems.append("\(path): holds no manifest.json and no snapshot versions")
      }
      return
    }
    for d in datasets {
      for v in store.versions(d) { checkOnce(folder: store.versionPath(d, v), into: &report) }
    }
  }

  static func emptiedDatasetNote(_ folder: String, last: Int) -> String {
    "\(folder): holds no version, though v\(last) was published (.last-version); nothing to check there"
  }

  /// Schemas/manifest.schema.json (embedded), checked by the tests to load.
  static let manifestSchema: JSONSchema = {
    do {
      return try JSONSchema(try JSONValue.parse(Array(Manifest.schemaText.utf8)))
    } catch {
      preconditionFailure("the embedded manifest schema does not load: \(error)")
    }
  }()

  func verifyVersion(folder: String, into report: inout Report) {
    report.checked.append(folder)
    func problem(_ file: String, _ text: String) { report.problems.append("\(folder)/\(file): \(text)") }
    let (read, manifestProblems) = manifestProblems(folder: folder)
    for (file, text) in manifestProblems { problem(file, text) }
    guard let manifest = read else {
      for (file, text) in listedFileProblems(folder: folder) { problem(file, text) }
      return
    }

    // Files on disk against the manifest.
    for name in SnapshotStore.unlisted(in: folder, by: manifest) { problem(name, "is not listed in the manifest") }
    // The statistics `diff` compares, recomputed from the files exactly as the build gathered
    // them (each file's table, merged in file order): no hash covers them, and an edited mean
    // would otherwise pass here and move every later drift report. Compared only when every
    // file is intact, so a damaged file is reported once, not again through its statistics.
    // Files are independent: they are checked on every core, then reported and their
    // statistics merged in manifest order, so the output is the same as one after another.
    let checks = Mutex<[FileCheck?]>(Array(repeating: nil, count: manifest.files.count))
    DispatchQueue.concurrentPerform(iterations: manifest.files.count) { i in
      let check = checkFile(manifest.files[i], folder: folder, manifest: manifest)
      checks.withLock { $0[i] = check }
    }
    var recomputed: ColumnStats.TableAccumulator?
    var statsComparable = !manifest.files.isEmpty
    for check in checks.withLock({ $0 }) {
      guard let check else { continue }
      for (file, text) in check.problems { problem(file, text) }
      guard statsComparable, let stats = check.stats else {
        statsComparable = false
        continue
      }
      if recomputed == nil { recomputed = ColumnStats.TableAccumulator(fields: stats.fields) }
      recomputed?.merge(stats)
    }
    let fileSeasons = manifest.files.map(\.season)
    if Set(fileSeasons).count != fileSeasons.count {
      problem(
        "manifest.json",
        "files list season \(fileSeasons.first { s in fileSeasons.filter { $0 == s }.count > 1 }!) more than once")
    }
    if Set(fileSeasons) != Set(manifest.config.seasons) {
      problem(
        "manifest.json",
        "config.seasons is \(manifest.config.seasons.joined(separator: ", ")) but the files are of season \(fileSeasons.joined(separator: ", "))"
      )
    }
    guard statsComparable, let recomputed else { return }
    let fromFiles = recomputed.finish()
    for column in manifest.schema {
      guard let stated = manifest.stats[column.name], let actual = fromFiles[column.name],
        !Self.statsAgree(stated, actual)
      else { continue }
      problem(
        "manifest.json",
        "stats of column \(column.name) differ from its files: \(Self.statsDifferences(stated, actual))")
    }
  }

  /// What `verify` reports of a version's manifest without opening a data file: JSON, the
  /// manifest schema, unknown and missing fields, and its values (names, totals, content hash,
  /// statistics' shape, gates and overrides). The manifest is nil when it cannot be decoded.
  /// A build that finds the same content already published asks this too: "nothing changed"
  /// must not point at a version whose manifest verify fails.
  func manifestProblems(folder: String) -> (manifest: Manifest?, problems: [(String, String)]) {
    var problems: [(String, String)] = []
    func problem(_ file: String, _ text: String) { problems.append((file, text)) }
    let manifestPath = "\(folder)/manifest.json"
    if let kind = Self.notARegularFile(manifestPath) {
      problem("manifest.json", "\(kind), not a regular file")
      return (nil, problems)
    }
    guard let data = FileManager.default.contents(atPath: manifestPath) else {
      problem("manifest.json", Self.whyUnreadable(manifestPath) ?? "missing")
      return (nil, problems)
    }
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
      problem("manifest.json", "not valid JSON (\(jsonErrorSummary(error)))")
      return (nil, problems)
    }
    // Stricter than Foundation's reader, which takes the first of two equal keys where
    // Python's json and jq take the last: the same file would mean two things.
    let tree: JSONValue?
    do {
      tree = try JSONValue.parse([UInt8](data))
    } catch {
      problem("manifest.json", "not valid JSON (\(error))")
      tree = nil
    }
    if data.starts(with: [0xEF, 0xBB, 0xBF]) {
      problem(
        "manifest.json",
        "starts with a UTF-8 byte order mark, which the manifests this tool writes never have and Python's json.load refuses"
      )
    }
    let manifest: Manifest
    do {
      manifest = try JSONDecoder().decode(Manifest.self, from: data)
    } catch {
      // The schema names the field and the rule (a seed of -1: "below the minimum 0") where
      // the decoder can only say the number did not fit.
      let named = tree.map { Self.manifestSchema.violations(of: $0).filter { $0.kind == .other } } ?? []
      if named.isEmpty {
        problem("manifest.json", "does not match the manifest schema: \(describeDecodingError(error, data: data))")
      }
      for v in named { problem("manifest.json", "does not match the manifest schema at \(v.path): \(v.message)") }
      return (nil, problems)
    }
    // Decoding ignores unknown keys and fills absent optionals; re-encoding and comparing key
    // paths catches both (the schema says additionalProperties: false, every key required).
    if let reencoded = try? JSONSerialization.jsonObject(with: Data(try manifest.encoded())) {
      let have = keyPaths(json), want = keyPaths(reencoded)
      for k in have.subtracting(want).sorted() { problem("manifest.json", "unknown field \(k)") }
      for k in want.subtracting(have).sorted() { problem("manifest.json", "missing field \(k)") }
    }
    // The schema's own constraints (patterns, minimums, one-of forms): missing and unknown
    // fields are reported above, by key path.
    if let tree {
      for v in Self.manifestSchema.violations(of: tree) where v.kind == .other {
        problem("manifest.json", "does not match the manifest schema at \(v.path): \(v.message)")
      }
    }
    checkManifestValues(manifest, folder: folder, problem: problem)
    return (manifest, problems)
  }

  /// The files a manifest that cannot be decoded still lists, checked for size and SHA-256:
  /// a spec audit removed `tool` from a manifest and damaged a data file, and verify reported
  /// the missing field alone, hiding the damage. Nothing more is checked (rows, schema and
  /// statistics need the manifest), and nothing when the JSON itself does not parse.
  func listedFileProblems(folder: String) -> [(String, String)] {
    guard let data = FileManager.default.contents(atPath: "\(folder)/manifest.json"),
      case .object(let root)? = try? JSONValue.parse([UInt8](data)), case .array(let files)? = root["files"]
    else { return [] }
    var problems: [(String, String)] = []
    for case .object(let entry) in files {
      guard case .string(let path)? = entry["path"], !path.isEmpty, !path.contains("/"), path != "..", path != ".",
        case .number(let size)? = entry["bytes"], let bytes = Int(exactly: size),
        case .string(let sha256)? = entry["sha256"]
      else { continue }
      _ = readListedFile(path, bytes: bytes, sha256: sha256, folder: folder) { problems.append(($0, $1)) }
    }
    return problems
  }

  /// A file the manifest lists, read and held to its size and SHA-256: its bytes, and whether
  /// they are the listed ones; nil when it is not a regular file or cannot be read. Each
  /// problem goes to `problem` as (file, text), worded the same for both callers.
  func readListedFile(
    _ path: String, bytes expected: Int, sha256: String, folder: String, problem: (String, String) -> Void
  ) -> (bytes: [UInt8], intact: Bool)? {
    let filePath = "\(folder)/\(path)"
    // A version is a set of regular files: a symbolic link makes it depend on a file outside
    // it that can change under the same name.
    if let kind = Self.notARegularFile(filePath) {
      problem(path, "\(kind), not a regular file (the manifest lists \(expected) bytes)")
      return nil
    }
    guard let bytes = FileManager.default.contents(atPath: filePath).map(Array.init) else {
      problem(path, "\(Self.whyUnreadable(filePath) ?? "missing") (the manifest lists \(expected) bytes)")
      return nil
    }
    if bytes.count != expected {
      problem(path, "is \(bytes.count) bytes but the manifest says \(expected)")
      return (bytes, false)
    }
    let sha = Digest.hex(bytes)
    guard sha == sha256 else {
      problem(path, "sha256 is \(short(sha)) but the manifest says \(short(sha256))")
      return (bytes, false)
    }
    return (bytes, true)
  }

  /// What one data file showed: its problems, as (file, text), and the statistics of its
  /// table when they can be compared with the manifest's (nil when the file is damaged or
  /// its schema differs, so a damaged file is reported once, not again through its statistics).
  struct FileCheck: Sendable {
    var problems: [(String, String)] = []
    var stats: ColumnStats.TableAccumulator?
  }

  func checkFile(_ entry: Manifest.FileEntry, folder: String, manifest: Manifest) -> FileCheck {
    var check = FileCheck()
    func problem(_ file: String, _ text: String) { check.problems.append((file, text)) }
    guard !entry.path.isEmpty, !entry.path.contains("/"), entry.path != "..", entry.path != "." else {
      problem("manifest.json", "file path \"\(entry.path)\" is not a plain file name")
      return check
    }
    guard
      let read = readListedFile(entry.path, bytes: entry.bytes, sha256: entry.sha256, folder: folder, problem: problem)
    else { return check }
    let (bytes, intact) = read
    let table: Table, batchRows: [Int]
    do {
      (table, batchRows) = try format.decode(bytes)
    } catch {
      problem(entry.path, "cannot be read as an Arrow IPC file: \(error)")
      return check
    }
    if table.rowCount != entry.rows {
      problem(entry.path, "has \(table.rowCount) rows but the manifest says \(entry.rows)")
    }
    // Fields no hash covers but the file implies: a job that sizes memory by batch_rows or
    // picks files by season must not be misled by an edited manifest.
    let size = manifest.config.batchRows
    if size > 0, batchRows.dropLast().contains(where: { $0 != size }) || (batchRows.last ?? 0) > size {
      problem(
        entry.path, "has batches of \(Self.listed(batchRows)) rows but the manifest's config.batch_rows is \(size)")
    }
    let labelled = Season.startYear(ofLabel: entry.season)
    if labelled == nil {
      problem(
        entry.path,
        "has the season \"\(entry.season)\" in the manifest, which is no season label (expected YYYY-YY, the second part the year after the first: 2022-23)"
      )
    }
    if let i = table.fields.firstIndex(where: { $0.name == "season_year" }), case .int32(let years) = table.columns[i] {
      let held = Set((0..<years.count).compactMap { years[$0] }).sorted()
      if let year = labelled, held.contains(where: { Int($0) != year }) {
        problem(
          entry.path,
          "holds season_year \(Self.listed(held.map(Int.init))) but the manifest says its season is \(entry.season)")
      }
    }
    let differences = schemaDifferences(file: table.fields, manifest: manifest.schema)
    for line in differences { problem(entry.path, line) }
    // The build writes each column's meaning into both; a file without one (written by another
    // tool, e.g. pyarrow's feather writer) is not held to it. Prose only: the statistics are
    // still compared.
    let meanings = Dictionary(manifest.schema.map { ($0.name, $0.meaning) }, uniquingKeysWith: { a, _ in a })
    for f in table.fields where !f.meaning.isEmpty {
      if let stated = meanings[f.name], stated != f.meaning {
        problem(
          entry.path, "column \(f.name) means \"\(f.meaning)\" in the file but the manifest's schema says \"\(stated)\""
        )
      }
    }
    if intact && differences.isEmpty { check.stats = ColumnStats.TableAccumulator(table: table) }
    return check
  }

  /// "cannot be read (permission denied)" for a file that exists but cannot be opened, nil
  /// for one that does not exist.
  static func whyUnreadable(_ path: String) -> String? {
    unreadableCause(path).map { "cannot be read (\($0))" }
  }

  /// Why a file that may exist cannot be read ("permission denied"), nil for one that does not
  /// exist. Only "no such file" is missing: a folder this user may not search (chmod 700 by
  /// another user) hides a file that is there, and "missing" would send someone looking for a
  /// deleted file.
  static func unreadableCause(_ path: String) -> String? {
    var st = stat()
    guard lstat(path, &st) == 0 else {
      let code = errno
      return code == ENOENT || code == ENOTDIR ? nil : String(cString: strerror(code)).lowercased()
    }
    return unreadableReason(path)
  }

  static func unreadableReason(_ path: String) -> String {
    // Non-blocking: opening a FIFO for reading would wait for a writer forever.
    let fd = open(path, O_RDONLY | O_NONBLOCK)
    if fd >= 0 {
      close(fd)
      return "unknown reason"
    }
    return String(cString: strerror(errno)).lowercased()
  }

  /// "a symbolic link", "a folder", "a FIFO", …; nil for a regular file or nothing at all.
  static func notARegularFile(_ path: String) -> String? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    switch st.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFLNK: return "is a symbolic link"
    case S_IFDIR: return "is a folder"
    case S_IFIFO: return "is a FIFO"
    case S_IFSOCK: return "is a socket"
    default: return "is a device"
    }
  }

  /// "8192, 8192, 7187"; long lists shortened.
  static func listed(_ values: [Int]) -> String {
    values.count <= 6
      ? values.map(String.init).joined(separator: ", ")
      : values.prefix(5).map(String.init).joined(separator: ", ") + ", … (\(values.count) in all)"
  }

  /// "mean 12.5 (the files give 12.25), null_count 3 (the files give 4)".
  /// Counts, min, max and histogram must be equal; mean and std agree within
  /// `roundingTolerance` of the column's largest magnitude. Those two are sums in floating
  /// point whose last digits depend on the order of the additions, and that order changed:
  /// tools from before 2026-11-27 summed every season in one pass, later ones sum each season
  /// and merge, so a valid multi-season snapshot of an older tool recomputes a few units in
  /// the 14th digit away (`game_date` std 187.60620405418368 stated, 187.60620405419158
  /// recomputed). Rounding moves a sum of n values by at most about n · 2^-53 of the largest
  /// magnitude (2.2e-10 at a million rows); an edit that could move a drift report is larger
  /// by orders of magnitude.
  static func statsAgree(_ stated: ColumnStats, _ actual: ColumnStats) -> Bool {
    guard stated != actual else { return true }
    var rounded = stated
    rounded.mean = actual.mean
    rounded.std = actual.std
    return rounded == actual && withinRounding(stated.mean, actual.mean, of: actual)
      && withinRounding(stated.std, actual.std, of: actual)
  }

  static func withinRounding(_ a: Double?, _ b: Double?, of actual: ColumnStats) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    guard let lo = actual.min, let hi = actual.max else { return a == b }
    return (a - b).magnitude <= roundingTolerance * Swift.max(lo.magnitude, hi.magnitude)
  }

  /// Relative to the column's largest magnitude; see `statsAgree`.
  static let roundingTolerance = 1e-9

  static func statsDifferences(_ stated: ColumnStats, _ actual: ColumnStats) -> String {
    func shown(_ v: Double?) -> String { v.map { "\($0)" } ?? "null" }
    func shown(_ v: Int?) -> String { v.map { "\($0)" } ?? "null" }
    var parts: [String] = []
    func compare(_ name: String, _ a: String, _ b: String) {
      if a != b { parts.append("\(name) \(a) (the files give \(b))") }
    }
    compare("null_count", shown(stated.nullCount), shown(actual.nullCount))
    compare("non_finite_count", shown(stated.nonFiniteCount), shown(actual.nonFiniteCount))
    compare("min", shown(stated.min), shown(actual.min))
    compare("max", shown(stated.max), shown(actual.max))
    if !withinRounding(stated.mean, actual.mean, of: actual) { compare("mean", shown(stated.mean), shown(actual.mean)) }
    if !withinRounding(stated.std, actual.std, of: actual) { compare("std", shown(stated.std), shown(actual.std)) }
    compare("distinct_count", shown(stated.distinctCount), shown(actual.distinctCount))
    if stated.histogram != actual.histogram { parts.append("histogram") }
    return parts.isEmpty ? "a value the comparison cannot name" : parts.joined(separator: ", ")
  }

  func checkManifestValues(_ m: Manifest, folder: String, problem: (String, String) -> Void) {
    if m.format != Manifest.currentFormat {
      problem("manifest.json", "format is \(m.format) but this tool reads format \(Manifest.currentFormat)")
    }
    let folderName = (folder as NSString).lastPathComponent
    if SnapshotStore.versionNumber(folderName) != nil, m.version != folderName {
      problem("manifest.json", "version is \(m.version) but the folder is \(folderName)")
    }
    // A parent is an earlier version: published before this one, so numbered lower. Whether it
    // still exists is not asked (removing old versions is allowed). A malformed name is the
    // schema check's to report.
    if let parent = m.parentVersion, let own = SnapshotStore.versionNumber(m.version),
      let number = SnapshotStore.versionNumber(parent), number >= own
    {
      let expected =
        own == 1 ? "null (v1 is the first number)" : "an earlier version than \(m.version) (v1 … v\(own - 1)) or null"
      problem("manifest.json", "parent_version is \(parent), expected \(expected)")
    }
    let sum = m.files.reduce(0) { $0 + $1.rows }
    if sum != m.rowCount { problem("manifest.json", "row_count is \(m.rowCount) but its files' rows add up to \(sum)") }
    let content = Digest.content(files: m.files, schema: m.schema)
    if content != m.contentSHA256 {
      problem(
        "manifest.json",
        "content_sha256 is \(short(m.contentSHA256)) but its files and schema hash to \(short(content))")
    }
    let schemaNames = Set(m.schema.map(\.name))
    for name in Set(m.stats.keys).subtracting(schemaNames).sorted() {
      problem("manifest.json", "stats has column \(name) that the schema does not list")
    }
    for name in schemaNames.subtracting(m.stats.keys).sorted() {
      problem("manifest.json", "stats lacks column \(name)")
    }
    for f in m.files {
      if f.format != Manifest.FileEntry.arrowFormat {
        problem("manifest.json", "\(f.path) has format \(f.format), expected \(Manifest.FileEntry.arrowFormat)")
      }
      if f.compression != Manifest.FileEntry.lz4Compression {
        problem(
          "manifest.json", "\(f.path) has compression \(f.compression), expected \(Manifest.FileEntry.lz4Compression)")
      }
    }
    for line in m.statsProblems() { problem("manifest.json", line) }
    for line in m.gateProblems() { problem("manifest.json", line) }
    for c in m.schema where ColumnType(rawValue: c.type) == nil {
      problem(
        "manifest.json",
        "column \(c.name) has type \(c.type), expected one of \(ColumnType.allCases.map(\.rawValue).joined(separator: ", "))"
      )
    }
  }

  /// The folder holding `path`; `.` for a name in the working directory.
  func schemaDifferences(file: [Field], manifest: [Manifest.SchemaColumn]) -> [String] {
    var out: [String] = []
    let declared = Dictionary(manifest.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let actual = Dictionary(file.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for f in file where declared[f.name] == nil {
      out.append("has column \(f.name) (\(f.type.rawValue)) that the manifest's schema does not list")
    }
    for c in manifest where actual[c.name] == nil {
      out.append("lacks column \(c.name) (\(c.type)) that the manifest's schema lists")
    }
    for f in file {
      guard let c = declared[f.name] else { continue }
      if f.type.rawValue != c.type {
        out.append("column \(f.name) is \(f.type.rawValue) but the manifest's schema says \(c.type)")
      }
      if f.nullable != c.nullable {
        out.append(
          "column \(f.name) is \(f.nullable ? "nullable" : "not nullable") but the manifest's schema says \(c.nullable ? "nullable" : "not nullable")"
        )
      }

    }
    if out.isEmpty, file.map(\.name) != manifest.map(\.name) {
      out.append(
        "columns are in the order \(file.map(\.name).joined(separator: ", ")) but the manifest's schema says \(manifest.map(\.name).joined(separator: ", "))"
      )
    }
    return out
  }
}

/// The first 12 hex digits, enough to tell two digests apart in a message.
func short(_ sha: String) -> String { sha.count > 12 ? "\(sha.prefix(12))…" : sha }

/// Key paths of a JSON value, array indices collapsed to `[]`, with the keys of the free-form
/// maps (stats by column, thresholds by gate, tables by name) collapsed to `*`, so the set
/// describes the shape only.
func keyPaths(_ value: Any, prefix: String = "") -> Set<String> {
  var out = Set<String>()
  if let dict = value as? [String: Any] {
    let isMap = ["stats", "config.thresholds", "source.tables"].contains(prefix)
    for (k, v) in dict {
      let p = prefix.isEmpty ? k : "\(prefix).\(isMap ? "*" : k)"
      out.insert(p)
      out.formUnion(keyPaths(v, prefix: p))
    }
  } else if let array = value as? [Any] {
    for v in array { out.formUnion(keyPaths(v, prefix: "\(prefix)[]")) }
  }
  return out
}

func jsonErrorSummary(_ error: Error) -> String {
  let ns = error as NSError
  if let detail = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
  return ns.localizedDescription
}
