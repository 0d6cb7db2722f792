// The broken-snapshot corpus: a real version written by `dataset build`, copied and damaged
// the ways disks, copies and hands damage files (truncated, bit-flipped, hand-edited, absurd
// lengths and offsets), then read by `verify`, `show` and `diff` as a user would. Verify must
// exit 2 with one line per problem; show/diff must exit 3 naming the manifest; nothing traps.
// Reader-level cases already pinned in Tests/ArrowIPCTests (every truncation, seeded bit flips,
// absurd footer size, buffer length, block offset, lying LZ4 length) and Tests/SnapshotsTests
// (edited schema, unknown/missing fields, not JSON) are not repeated.
@testable import DatasetCLI
import Foundation
import Snapshots
import Testing

/// One real version, built once per process from the small real source.
enum RealSnapshot {
  static let root: Result<String, Error> = Result {
    let out = SmallSource.dir + "/Datasets"
    let r = try runCLI(buildArguments(db: try SmallSource.database.get(), out: out, batchRows: 256))
    guard r.status == 0 else { throw Failure(text: "build of the corpus snapshot failed: \(r)") }
    return out
  }
  struct Failure: Error, CustomStringConvertible { var text: String; var description: String { text } }

  /// A private copy of the version folder at `<dir>/rel/v1`.
  static func copy(into dir: String) throws -> String {
    let target = dir + "/rel"
    try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: try root.get() + "/rel/v1", toPath: target + "/v1")
    return target + "/v1"
  }
}

let arrowName = "2022-23.arrow"

/// Little-endian helpers over a file's bytes.
func le32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * $1) } }
func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
  for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
}
func put64(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
  for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * i)) }
}

/// Offset of the footer's first Block struct (offset i64, metaDataLength i32, pad, bodyLength
/// i64): found as the 24 bytes whose offset field is 8-aligned and points at the first message.
func firstBlock(_ b: [UInt8]) -> Int? {
  let footerSize = Int(le32(b, b.count - 10))
  let start = b.count - 10 - footerSize
  // The first record batch follows the schema message; its offset is the smallest block offset
  // the footer holds, and a Block's metaDataLength is a small positive multiple of 8.
  var best: (at: Int, offset: UInt64)?
  var p = start
  while p + 24 <= b.count - 10 {
    let off = UInt64(le32(b, p)) | UInt64(le32(b, p + 4)) << 32
    let meta = le32(b, p + 8)
    let body = UInt64(le32(b, p + 16)) | UInt64(le32(b, p + 20)) << 32
    if off >= 8, off % 8 == 0, off < UInt64(start), meta > 0, meta % 8 == 0, meta < 4096, body % 8 == 0,
      body < UInt64(b.count),
      le32(b, Int(off)) == 0xFFFF_FFFF
    {
      if best == nil || off < best!.offset { best = (p, off) }
    }
    p += 4
  }
  return best?.at
}

struct SnapshotCase: Sendable, CustomTestStringConvertible {
  var name: String
  var damage: @Sendable (_ folder: String) throws -> Void
  /// `verify <folder>`'s stdout, `{v}` standing for the version folder.
  var problems: [String]
  var testDescription: String { name }
}

func editArrow(_ edit: @escaping @Sendable (inout [UInt8]) -> Void) -> @Sendable (String) throws -> Void {
  { folder in
    var b = fileBytes(folder + "/" + arrowName)
    edit(&b)
    try Data(b).write(to: URL(fileURLWithPath: folder + "/" + arrowName))
  }
}

func editManifestText(_ edit: @escaping @Sendable (String) -> String) -> @Sendable (String) throws -> Void {
  { folder in
    let p = folder + "/manifest.json"
    try edit(try String(contentsOfFile: p, encoding: .utf8)).write(toFile: p, atomically: false, encoding: .utf8)
  }
}

/// Replaces the first `"key" : value` number in the manifest text.
func setNumber(_ key: String, _ value: String) -> @Sendable (String) throws -> Void {
  editManifestText { text in
    guard let r = text.range(of: #""\#(key)" : -?[0-9.eE+]+"#, options: .regularExpression) else {
      return "no key \(key)"
    }
    return text.replacingCharacters(in: r, with: "\"\(key)\" : \(value)")
  }
}

let shaLine = "{v}/2022-23.arrow: sha256 is {sha} but the manifest says {msha}"
let unreadable = "{v}/2022-23.arrow: cannot be read as an Arrow IPC file: "

// Placeholders are computed from the undamaged file: {n} its size, {sizeAt} where the footer
// size sits (n − 10), {block} the first Block struct in the footer, {offset}/{meta} that
// block's message offset and metadata length, {footerStart} where the footer begins.
let snapshotCases: [SnapshotCase] = [
  SnapshotCase(
    name: "data file truncated to 0 bytes", damage: editArrow { $0 = [] },
    problems: [
      "{v}/2022-23.arrow: is 0 bytes but the manifest says {n}",
      unreadable + "not an Arrow IPC file: 0 bytes is shorter than the 18 bytes of magic, footer size and magic",
    ]),
  SnapshotCase(
    name: "data file cut in half", damage: editArrow { $0 = Array($0.prefix($0.count / 2)) },
    problems: [
      "{v}/2022-23.arrow: is {half} bytes but the manifest says {n}",
      unreadable
        + "not an Arrow IPC file: the last 6 bytes are {halfTail}, expected \"ARROW1\" (41 52 52 4f 57 31); the file may be truncated",
    ]),
  SnapshotCase(
    name: "footer size claims 2 GiB", damage: editArrow { put32(&$0, $0.count - 10, 0x7FFF_FFFF) },
    problems: [
      shaLine,
      unreadable
        + "invalid Arrow file: footer size at byte {sizeAt}: declares 2147483647 bytes, but only {between} bytes lie between the leading magic and it",
    ]),
  SnapshotCase(
    name: "negative footer size", damage: editArrow { put32(&$0, $0.count - 10, 0xFFFF_FFF0) },
    problems: [
      shaLine,
      unreadable
        + "invalid Arrow file: footer size at byte {sizeAt}: declares -16 bytes, but only {between} bytes lie between the leading magic and it",
    ]),
  SnapshotCase(
    name: "block offset claims 2^62",
    damage: editArrow { b in if let at = firstBlock(b) { put64(&b, at, 1 << 62) } },
    problems: [
      shaLine,
      unreadable
        + "invalid Arrow file: record batch 0 block at byte {block}: offset 4611686018427387904 is outside the data region 8..<{footerStart}",
    ]),
  SnapshotCase(
    name: "block metadata length claims 2 GiB",
    damage: editArrow { b in if let at = firstBlock(b) { put32(&b, at + 8, 0x7FFF_FFF8) } },
    problems: [
      shaLine,
      unreadable
        + "invalid Arrow file: record batch 0 block at byte {block}: metaDataLength 2147483640 does not fit in the {afterOffset} bytes before the footer",
    ]),
  SnapshotCase(
    name: "block body length claims 2^62",
    damage: editArrow { b in if let at = firstBlock(b) { put64(&b, at + 16, 1 << 62) } },
    problems: [
      shaLine,
      unreadable
        + "invalid Arrow file: record batch 0 block at byte {block}: bodyLength 4611686018427387904 does not fit in the {afterMeta} bytes before the footer",
    ]),
  SnapshotCase(
    name: "message length prefix claims 2 GiB",
    damage: editArrow { b in
      if let at = firstBlock(b) { put32(&b, Int(le32(b, at)) + 4, 0x7FFF_FFF8) }
    },
    problems: [
      shaLine,
      unreadable
        + "invalid Arrow file: record batch 0 message at byte {offset}: metadata length 2147483640 disagrees with the footer's metaDataLength {meta}",
    ]),
  // Where a flipped bit lands (LZ4 data, a flatbuffer, padding) depends on the layout; the
  // second line is checked for its start only.
  SnapshotCase(
    name: "one bit flipped in the middle of the body", damage: editArrow { $0[$0.count / 2] ^= 0x10 },
    problems: [shaLine, unreadable + "*"]),
  SnapshotCase(
    name: "manifest truncated", damage: editManifestText { String($0.prefix($0.count / 2)) },
    problems: ["{v}/manifest.json: not valid JSON (Unexpected end of file during JSON parse.)"]),
  SnapshotCase(
    name: "manifest of 0 bytes", damage: editManifestText { _ in "" },
    problems: ["{v}/manifest.json: not valid JSON (Unexpected end of file during JSON parse.)"]),
  SnapshotCase(
    name: "manifest nested 100,000 arrays deep",
    damage: editManifestText { _ in String(repeating: "[", count: 100_000) },
    problems: ["{v}/manifest.json: not valid JSON (Too many nested arrays or dictionaries around character 513.)"]),
  SnapshotCase(
    name: "manifest claims 10^18 bytes", damage: setNumber("bytes", "1000000000000000000"),
    problems: ["{v}/2022-23.arrow: is {n} bytes but the manifest says 1000000000000000000"]),
  // Regression: Foundation reports an integer past Int64 without a coding path, and the
  // message said "not valid JSON" about valid JSON.
  SnapshotCase(
    name: "manifest claims 2^63 rows (past Int)", damage: setNumber("rows", "9223372036854775808"),
    problems: [
      "{v}/manifest.json: does not match the manifest schema: the number 9223372036854775808 does not fit a 64-bit integer"
    ]),
  SnapshotCase(
    name: "manifest with one high bit flipped",
    damage: { folder in
      let p = folder + "/manifest.json"
      var b = fileBytes(p)
      if let i = b.indices.dropFirst(b.count / 3).first(where: { b[$0] == UInt8(ascii: "{") }) { b[i] ^= 0x80 }
      try Data(b).write(to: URL(fileURLWithPath: p))
    },
    problems: ["{v}/manifest.json: not valid JSON (*"]),
  SnapshotCase(
    name: "manifest claims -1 rows", damage: setNumber("rows", "-1"),
    problems: [
      "{v}/manifest.json: does not match the manifest schema at files[0].rows: -1 is below the minimum 0",
      "{v}/manifest.json: row_count is {rows} but its files' rows add up to -1",
      "{v}/2022-23.arrow: has {rows} rows but the manifest says -1",
    ]),
  SnapshotCase(
    name: "manifest file path escapes the folder",
    damage: editManifestText {
      $0.replacingOccurrences(of: "\"path\" : \"2022-23.arrow\"", with: "\"path\" : \"../../../etc/passwd\"")
    },
    problems: [
      #"{v}/manifest.json: does not match the manifest schema at files[0].path: "../../../etc/passwd" does not match ^[^/]+$"#,
      "{v}/manifest.json: content_sha256 is {content} but its files and schema hash to *",
      "{v}/2022-23.arrow: is not listed in the manifest",
      "{v}/manifest.json: file path \"../../../etc/passwd\" is not a plain file name",
    ]),
  SnapshotCase(
    name: "manifest row_count changed by hand", damage: setNumber("row_count", "1"),
    problems: ["{v}/manifest.json: row_count is 1 but its files' rows add up to {rows}"]),
  // Statistics are outside content_sha256 too; verify recomputes them from the files.
  SnapshotCase(
    name: "a column's mean edited by hand", damage: setNumber("mean", "12345.5"),
    problems: [
      "{v}/manifest.json: stats of column {meanColumn} differ from its files: mean 12345.5 (the files give {mean})"
    ]),
  // Gates and overrides are outside content_sha256 (snapshot.md); what a build could not have
  // published is still caught.
  SnapshotCase(
    name: "a gate's status edited to fail",
    damage: editManifestText {
      $0.replacingOccurrences(
        of: #""status" : "pass""#, with: #""status" : "fail""#, options: [], range: $0.range(of: #""status" : "pass""#))
    },
    problems: [
      "{v}/manifest.json: gate pcf_date_coverage failed and carries no override: a build publishes a failed gate only with one"
    ]),
  SnapshotCase(
    name: "built_with_overrides edited to true",
    damage: editManifestText {
      $0.replacingOccurrences(of: #""built_with_overrides" : false"#, with: #""built_with_overrides" : true"#)
    },
    problems: ["{v}/manifest.json: built_with_overrides is true but its gates and config.overrides say false"]),
  // Session 12: the schema's own rules, duplicate keys and fields the files imply. Python's
  // jsonschema rejected these manifests while verify passed them.
  SnapshotCase(
    name: "created_at edited to a word",
    damage: editManifestText {
      $0.replacingOccurrences(
        of: #""created_at" : "[^"]*""#, with: #""created_at" : "yesterday""#, options: .regularExpression)
    },
    problems: [
      #"{v}/manifest.json: does not match the manifest schema at created_at: "yesterday" does not match ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$"#
    ]),
  SnapshotCase(
    name: "parent_version v0",
    damage: editManifestText {
      $0.replacingOccurrences(of: #""parent_version" : null"#, with: #""parent_version" : "v0""#)
    },
    problems: [
      #"{v}/manifest.json: does not match the manifest schema at parent_version: "v0" does not match ^v[1-9][0-9]*$"#
    ]),
  SnapshotCase(
    name: "parent_version later than the version itself",
    damage: editManifestText {
      $0.replacingOccurrences(of: #""parent_version" : null"#, with: #""parent_version" : "v7""#)
    },
    problems: ["{v}/manifest.json: parent_version is v7, expected null (v1 is the first number)"]),
  SnapshotCase(
    name: "a negative point-in-time seed", damage: setNumber("point_in_time_seed", "-1"),
    problems: [
      "{v}/manifest.json: does not match the manifest schema at config.point_in_time_seed: -1 is below the minimum 0"
    ]),
  SnapshotCase(
    name: "row_count given twice",
    damage: editManifestText { text in
      let body = text.trimmingCharacters(in: .whitespacesAndNewlines)
      return String(body.dropLast()) + ",\n  \"row_count\" : 999\n}\n"
    },
    problems: [#"{v}/manifest.json: not valid JSON (line *"#]),
  SnapshotCase(
    name: "batch_rows edited", damage: setNumber("batch_rows", "1000"),
    problems: ["{v}/2022-23.arrow: has batches of 256, 256, 256, 98 rows but the manifest's config.batch_rows is 1000"]),
  SnapshotCase(
    name: "a file's season and config.seasons edited together",
    damage: editManifestText {
      $0.replacingOccurrences(of: #""2022-23""#, with: #""2019-20""#).replacingOccurrences(
        of: #""2019-20.arrow""#, with: #""2022-23.arrow""#)
    },
    problems: ["{v}/2022-23.arrow: holds season_year 2022 but the manifest says its season is 2019-20"]),
]

@Suite struct BadSnapshotTests {
  @Test(arguments: snapshotCases)
  func damagedSnapshotIsReportedByVerify(_ c: SnapshotCase) throws {
    let s = Scratch("snapshot-\(c.name)")
    defer { s.remove() }
    let folder = try RealSnapshot.copy(into: s.dir)
    let good = try Manifest.read(path: folder + "/manifest.json")
    // The first column, in the manifest's sorted key order, whose mean is a number.
    let meanColumn = good.stats.keys.sorted().first { good.stats[$0]?.mean != nil } ?? ""
    let goodBytes = fileBytes(folder + "/" + arrowName)
    try c.damage(folder)
    let bytes = fileBytes(folder + "/" + arrowName)
    let r = try runCLI(["verify", folder])
    #expect(r.signal == nil, "\(r)")
    #expect(r.status == 2, "\(r)")
    let footerSize = Int(le32(goodBytes, goodBytes.count - 10))
    let footerStart = goodBytes.count - 10 - footerSize
    let block = try #require(firstBlock(goodBytes))
    let offset = Int(le32(goodBytes, block)), meta = Int(le32(goodBytes, block + 8))
    let halfTail = goodBytes[(goodBytes.count / 2 - 6)..<(goodBytes.count / 2)].map { b in
      (b < 16 ? "0" : "") + String(b, radix: 16)
    }.joined(separator: " ")
    let values: [String: String] = [
      "{v}": folder, "{n}": String(good.files[0].bytes), "{half}": String(goodBytes.count / 2), "{halfTail}": halfTail,
      "{sha}": String(Digest.hex(bytes).prefix(12)) + "…", "{msha}": String(good.files[0].sha256.prefix(12)) + "…",
      "{sizeAt}": String(goodBytes.count - 10), "{between}": String(goodBytes.count - 18), "{block}": String(block),
      "{footerStart}": String(footerStart), "{offset}": String(offset), "{meta}": String(meta),
      "{afterOffset}": String(footerStart - offset), "{afterMeta}": String(footerStart - offset - meta),
      "{rows}": String(good.rowCount), "{content}": String(good.contentSHA256.prefix(12)) + "…",
      "{meanColumn}": meanColumn, "{mean}": good.stats[meanColumn]?.mean.map { "\($0)" } ?? "",
    ]
    let expected = c.problems.map { line in values.reduce(line) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
    }
    let actual = r.stdout.split(separator: "\n").map(String.init)
    #expect(actual.count == expected.count, "\(r)")
    for (a, e) in zip(actual, expected) {
      // A trailing * matches any rest of the line (only where the text depends on layout).
      if e.hasSuffix("*") { #expect(a.hasPrefix(e.dropLast()), "\(a)") } else { #expect(a == e) }
    }
    #expect(r.stderr == "verify: \(expected.count) problem\(expected.count == 1 ? "" : "s") in 1 version\n")
  }
}

/// Hand edits of a manifest's stats that `verify` reports and `show`/`diff` refuse by name.
struct StatsEdit: Sendable, CustomTestStringConvertible {
  var name: String
  var key: String
  var value: any Sendable
  var problem: String
  var testDescription: String { name }
}

let statsEdits: [StatsEdit] = [
  // Regression: Differ added first_bin to the bin count and trapped on overflow.
  StatsEdit(
    name: "first_bin at Int.max", key: "first_bin", value: Int.max,
    problem: "first_bin is 9223372036854775807, expected within ±2^53"),
  StatsEdit(
    name: "width_log2 at Int.min", key: "width_log2", value: Int.min,
    problem: "width_log2 is -9223372036854775808, expected -1100…1100"),
  StatsEdit(
    name: "counts past Int when summed", key: "counts", value: [Int.max, Int.max],
    problem: "counts add up to more than 2^53"),
  StatsEdit(name: "negative count", key: "counts", value: [3, -7], problem: "counts[1] is -7, expected a count ≥ 0"),
  StatsEdit(
    name: "100,000 bins", key: "counts", value: [Int](repeating: 0, count: 100_000),
    problem: "counts has 100000 bins, expected 1…64"),
]

extension BadSnapshotTests {
  @Test(arguments: statsEdits)
  func handEditedHistogramIsRefusedByName(_ e: StatsEdit) throws {
    let s = Scratch("stats-\(e.name)")
    defer { s.remove() }
    let folder = try RealSnapshot.copy(into: s.dir)
    let path = folder + "/manifest.json"
    var json = try JSONSerialization.jsonObject(with: Data(fileBytes(path))) as! [String: Any]
    var stats = json["stats"] as! [String: Any]
    let column = try #require(
      stats.keys.sorted().first { (stats[$0] as? [String: Any])?["histogram"] is [String: Any] })
    var col = stats[column] as! [String: Any]
    var histogram = col["histogram"] as! [String: Any]
    histogram[e.key] = e.value
    col["histogram"] = histogram
    stats[column] = col
    json["stats"] = stats
    try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted]).write(
      to: URL(fileURLWithPath: path))
    let line = "stats.\(column).histogram: " + e.problem

    let verify = try runCLI(["verify", folder])
    #expect(verify.status == 2, "\(verify)")
    #expect(verify.stdout.split(separator: "\n").contains { $0 == "\(path): \(line)" }, "\(verify)")
    for args in [
      ["show", folder], ["diff", try RealSnapshot.root.get() + "/rel/v1", folder], ["diff", folder, folder],
    ] {
      let r = try runCLI(args)
      #expect(r.signal == nil, "\(args): \(r)")
      #expect(r.status == 3, "\(args): \(r)")
      #expect(r.stderr == "error: \(path): cannot read manifest: \(line)\n", "\(args)")
    }
  }
}

/// Operator mistakes around published versions (session 12 review): a build into a version
/// folder changed a published version; into a dataset folder it nested a second dataset no
/// command looks at; "nothing changed" pointed at a damaged version.
@Suite struct PublishedVersionTests {
  @Test func outInsideAVersionOrADatasetFolderIsRefused() throws {
    let s = Scratch("out-inside")
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let out = s.path("Datasets")
    #expect(try runCLI(buildArguments(db: db, out: out, batchRows: 256)).status == 0)
    let inVersion = try runCLI(buildArguments(db: db, out: out + "/rel/v1", batchRows: 256))
    #expect(inVersion.status == 1, "\(inVersion)")
    #expect(
      inVersion.stderr.contains(
        "--out \(out)/rel/v1 is inside the published version \(out)/rel/v1, which is never modified"), "\(inVersion)")
    let inDataset = try runCLI(buildArguments(db: db, out: out + "/rel", batchRows: 256))
    #expect(inDataset.status == 1, "\(inDataset)")
    #expect(inDataset.stderr.contains("--out \(out)/rel is a dataset folder (it holds v1)"), "\(inDataset)")
    #expect(
      try FileManager.default.contentsOfDirectory(atPath: out + "/rel/v1").sorted() == [
        "2022-23.arrow", "manifest.json",
      ])
    let named = try runCLI(buildArguments(db: db, out: out, batchRows: 256).map { $0 == "rel" ? "v2" : $0 })
    #expect(named.status == 1, "\(named)")
  }

  @Test func unchangedContentAgainstADamagedLatestVersionIsPublishedAgain() throws {
    let s = Scratch("damaged-latest")
    defer { s.remove() }
    let db = try SmallSource.copy(to: s.path("league.sqlite"))
    let out = s.path("Datasets")
    #expect(try runCLI(buildArguments(db: db, out: out, batchRows: 256)).status == 0)
    let file = out + "/rel/v1/2022-23.arrow"
    var bytes = fileBytes(file)
    bytes[bytes.count / 2] ^= 0x01
    try Data(bytes).write(to: URL(fileURLWithPath: file))
    let again = try runCLI(buildArguments(db: db, out: out, batchRows: 256))
    #expect(again.status == 0, "\(again)")
    #expect(
      again.stderr.contains("note: the content equals rel/v1, but that version is damaged (2022-23.arrow has SHA-256 "),
      "\(again)")
    #expect(FileManager.default.fileExists(atPath: out + "/rel/v2/manifest.json"))
    #expect(try runCLI(["verify", out + "/rel/v2"]).status == 0)
    // The intact v2 is now the latest: an identical build changes nothing.
    let third = try runCLI(buildArguments(db: db, out: out, batchRows: 256))
    #expect(third.status == 0 && !FileManager.default.fileExists(atPath: out + "/rel/v3"), "\(third)")
  }
}

@Suite struct ShowTests {
  /// Statistics hold a date column as days since 1970-01-01; `show` printed its mean and
  /// spread as "19375.8" and "47.08" beside min and max as dates (session 13 review).
  @Test func dateStatisticsReadAsDatesAndDays() throws {
    let root = try RealSnapshot.root.get()
    let r = try runCLI(["show", root + "/rel/v1"])
    #expect(r.status == 0, "\(r)")
    let line = try #require(r.stdout.split(separator: "\n").first { $0.hasPrefix("  game_date ") }, "\(r)")
    let cells = line.split(separator: " ").map(String.init)
    let dates = cells.filter { $0.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil }
    #expect(dates.count == 3, "min, max and mean as dates: \(line)")
    #expect(dates.sorted() == [dates[0], dates[2], dates[1]], "min ≤ mean ≤ max: \(line)")
    #expect(line.contains(" days "), "\(line)")
  }
}

/// `verify` over a root as CI runs it, after someone moved versions aside (a review, session 17).
@Suite struct VerifyRootTests {
  @Test func aRootWithOneDamagedVersionSaysHowManyPassedAndNamesEmptiedDatasets() throws {
    let s = Scratch("verify-root")
    defer { s.remove() }
    let root = s.path("Datasets")
    for name in ["a", "b", "c", "d"] {
      try FileManager.default.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: try RealSnapshot.root.get() + "/rel/v1", toPath: "\(root)/\(name)/v1")
    }
    // c's only version quarantined; its record of the last version stays.
    try "v1\n".write(toFile: "\(root)/c/.last-version", atomically: false, encoding: .utf8)
    try FileManager.default.moveItem(atPath: "\(root)/c/v1", toPath: "\(root)/c/v1.bad")
    let clean = try runCLI(["verify", root, root, "\(root)/d/v1"])
    #expect(clean.status == 0 && clean.stdout == "ok: 3 versions verified\n", "\(clean)")
    #expect(
      clean.stderr
        == "note: \(root)/c: holds no version, though v1 was published (.last-version); nothing to check there\n",
      "\(clean)")
    // A version name that carries a newline stays one line of the report.
    let manifest = "\(root)/b/v1/manifest.json"
    let text = try String(contentsOfFile: manifest, encoding: .utf8)
    try text.replacingOccurrences(of: "\"version\" : \"v1\"", with: "\"version\" : \"v1\\nall good\"")
      .write(toFile: manifest, atomically: false, encoding: .utf8)
    let damaged = try runCLI(["verify", root])
    #expect(damaged.status == 2, "\(damaged)")
    #expect(!damaged.stdout.split(separator: "\n").contains { $0.hasPrefix("all good") }, "\(damaged)")
    #expect(damaged.stdout.contains("v1\\u{a}all good"), "\(damaged)")
    let problems = damaged.stdout.split(separator: "\n").count
    #expect(
      damaged.stderr.hasSuffix(
        "verify: \(problems) problem\(problems == 1 ? "" : "s") in 1 of 3 versions; 2 verified ok\n"), "\(damaged)")
    // A path that does not exist, given twice, is one problem, counted apart from the versions'.
    let beside = try runCLI(["verify", root, s.path("nothere"), s.path("nothere")])
    #expect(
      beside.stderr.hasSuffix(
        "verify: \(problems + 1) problems: \(problems) in 1 of 3 versions, 1 outside any version; 2 verified ok\n"),
      "\(beside)")
    // The quarantined dataset asked for by name: a problem that says why it is empty.
    let emptied = try runCLI(["verify", "\(root)/c"])
    #expect(emptied.status == 2, "\(emptied)")
    #expect(
      emptied.stdout
        == "\(root)/c: holds no version, though v1 was published (.last-version): every version was moved aside or removed\n",
      "\(emptied)")
    #expect(VerifyCommand.oneLine("a\u{85}b\u{2028}c Dončić ≥") == "a\\u{85}b\\u{2028}c Dončić ≥")
  }
}

@Suite struct ListUnreadableTests {
  /// The reason an unreadable manifest is listed so goes under the table: in the created column
  /// it widened that column for every other row (a review).
  @Test func anUnreadableManifestKeepsTheTableNarrow() throws {
    let s = Scratch("list-unreadable")
    defer { s.remove() }
    let root = s.path("Datasets")
    try FileManager.default.createDirectory(atPath: "\(root)/p", withIntermediateDirectories: true)
    for v in ["v1", "v2"] {
      try FileManager.default.copyItem(atPath: try RealSnapshot.root.get() + "/rel/v1", toPath: "\(root)/p/\(v)")
    }
    try "{\"trunc".write(toFile: "\(root)/p/v2/manifest.json", atomically: false, encoding: .utf8)
    let r = try runCLI(["list", "--out", root])
    #expect(r.status == 0, "\(r)")
    let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(lines.count == 6, "\(r)")
    #expect(lines[0].hasPrefix("dataset  version  created (UTC)         rows"), "\(r)")
    #expect(lines[2].hasPrefix("p        v2       unreadable manifest"), "\(r)")
    #expect(lines[4].hasPrefix("p/v2: \(root)/p/v2/manifest.json: "), "\(r)")
  }
}
