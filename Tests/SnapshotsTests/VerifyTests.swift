import ArrowIPC
import Columnar
import Foundation
import Testing

@testable import Snapshots

/// Each corruption the issue lists, with the exact lines `verify` prints.
@Suite struct VerifyTests {
  let verifier = Verifier(format: ArrowDataFileFormat())

  /// A fresh v1 with two seasons; returns the version folder.
  func published(_ name: String = #function) throws -> String {
    let root = Fixture.scratch(name)
    _ = try Fixture.builder(root: root).build(
      Fixture.inputs(seasons: [
        ("2021-22", Fixture.table(rows: 90, seed: 1)), ("2022-23", Fixture.table(rows: 150, seed: 2)),
      ]))
    return "\(root)/props/v1"
  }

  func readerError(_ bytes: [UInt8]) -> String? {
    do {
      _ = try ArrowDataFileFormat().decode(bytes).table
      return nil
    } catch { return "\(error)" }
  }

  func editManifest(_ folder: String, _ edit: (inout Manifest) -> Void) throws {
    var m = try Manifest.read(path: "\(folder)/manifest.json")
    edit(&m)
    Fixture.write("\(folder)/manifest.json", try m.encoded())
  }

  @Test func cleanSnapshotVerifiesByFolderManifestAndRoot() throws {
    let v1 = try published()
    let root = (v1 as NSString).deletingLastPathComponent.replacingOccurrences(of: "/props", with: "")
    for path in [v1, "\(v1)/manifest.json", "\(v1)/", root, "\(root)/props"] {
      let report = verifier.verify(path: path)
      #expect(report.problems == [], "\(path)")
      #expect(report.checked == [v1], "\(path)")
    }
  }

  @Test func embeddedSchemaIsTheSchemaFileByteForByte() throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
      .appendingPathComponent("Schemas/manifest.schema.json").path
    let file = try #require(FileManager.default.contents(atPath: path))
    #expect(Array(file) == Array(Manifest.schemaText.utf8), "run scripts/embed-manifest-schema.sh")
    // It loads, and holds the manifest's required fields.
    #expect(Verifier.manifestSchema.violations(of: .object([:])).filter { $0.kind == .missingProperty }.count >= 10)
  }

  // A version is a set of regular files: a symbolic link made it depend on a file outside it
  // (verify passed), and a FIFO or folder in a file's place read as "missing".
  @Test func dataFilesMustBeRegularFiles() throws {
    let v1 = try published()
    let outside = v1 + "/../outside.arrow"
    try FileManager.default.moveItem(atPath: "\(v1)/2021-22.arrow", toPath: outside)
    try FileManager.default.createSymbolicLink(atPath: "\(v1)/2021-22.arrow", withDestinationPath: outside)
    try FileManager.default.removeItem(atPath: "\(v1)/2022-23.arrow")
    #expect(mkfifo("\(v1)/2022-23.arrow", 0o644) == 0)
    let problems = verifier.verify(path: v1).problems
    #expect(
      problems.contains {
        $0.hasPrefix("\(v1)/2021-22.arrow: is a symbolic link, not a regular file (the manifest lists ")
      })
    #expect(
      problems.contains { $0.hasPrefix("\(v1)/2022-23.arrow: is a FIFO, not a regular file (the manifest lists ") })
  }

  /// A manifest season the schema's pattern lets through but no season is (the year after is
  /// wrong) is named; before, verify took its first four digits on trust.
  @Test func aManifestSeasonThatIsNoSeasonLabelIsNamed() throws {
    let v1 = try published()
    try editManifest(v1) { $0.files[0].season = "2021-23" }
    let problems = verifier.verify(path: v1).problems
    #expect(
      problems.contains(
        "\(v1)/2021-22.arrow: has the season \"2021-23\" in the manifest, which is no season label (expected YYYY-YY, the second part the year after the first: 2022-23)"
      ), "\(problems)")
  }

  @Test func flippedByte() throws {
    let v1 = try published()
    let path = "\(v1)/2022-23.arrow"
    var bytes = Fixture.bytes(path)
    let before = Digest.hex(bytes)
    bytes[bytes.count / 2] ^= 0x01
    Fixture.write(path, bytes)
    var expected = ["\(path): sha256 is \(Digest.hex(bytes).prefix(12))… but the manifest says \(before.prefix(12))…"]
    if let e = readerError(bytes) { expected.append("\(path): cannot be read as an Arrow IPC file: \(e)") }
    #expect(verifier.verify(path: v1).problems == expected)
  }

  @Test func truncatedFile() throws {
    let v1 = try published()
    let path = "\(v1)/2021-22.arrow"
    let bytes = Fixture.bytes(path)
    let cut = Array(bytes.prefix(bytes.count - 10))
    Fixture.write(path, cut)
    let reader = try #require(readerError(cut), "a truncated file must not open")
    #expect(
      verifier.verify(path: v1).problems == [
        "\(path): is \(cut.count) bytes but the manifest says \(bytes.count)",
        "\(path): cannot be read as an Arrow IPC file: \(reader)",
      ])
  }

  /// Files are checked concurrently; their problems still come in manifest order, every time.
  @Test func problemsOfSeveralFilesComeInManifestOrder() throws {
    let v1 = try published()
    let first = "\(v1)/2021-22.arrow", second = "\(v1)/2022-23.arrow"
    let size = Fixture.bytes(first).count
    try FileManager.default.removeItem(atPath: first)
    let bytes = Fixture.bytes(second)
    let cut = Array(bytes.prefix(bytes.count - 10))
    Fixture.write(second, cut)
    let reader = try #require(readerError(cut))
    let expected = [
      "\(first): missing (the manifest lists \(size) bytes)",
      "\(second): is \(cut.count) bytes but the manifest says \(bytes.count)",
      "\(second): cannot be read as an Arrow IPC file: \(reader)",
    ]
    for _ in 0..<20 { #expect(verifier.verify(path: v1).problems == expected) }
  }

  /// A multi-season snapshot of a tool from before 2026-11-27 summed every season in one pass;
  /// its mean and std differ from today's per-season merge in the last digits, and verify
  /// called such valid snapshots broken. An edit that matters is still caught.
  @Test func meanAndStdAgreeWithinRoundingAndNoCloser() throws {
    let v1 = try published()
    let stated = try Manifest.read(path: "\(v1)/manifest.json").stats
    for column in ["minutes_avg", "game_date", "points"] {
      let s = try #require(stated[column])
      let mean = try #require(s.mean), std = try #require(s.std)
      try editManifest(v1) {
        $0.stats[column]?.mean = mean.nextUp.nextUp.nextUp
        $0.stats[column]?.std = std.nextDown.nextDown
      }
      #expect(verifier.verify(path: v1).problems == [], "\(column): a few units in the last place")
      try editManifest(v1) {
        $0.stats[column] = s
        $0.stats[column]?.mean = mean * (1 + 1e-7)
        $0.stats[column]?.std = std.nextUp
      }
      #expect(
        verifier.verify(path: v1).problems == [
          "\(v1)/manifest.json: stats of column \(column) differ from its files: mean \(mean * (1 + 1e-7)) (the files give \(mean))"
        ])
      try editManifest(v1) { $0.stats[column] = s }
    }
    // Counts, min, max and the histogram stay exact.
    var lower = try #require(stated["minutes_avg"])
    lower.min = lower.min!.nextDown
    try editManifest(v1) { $0.stats["minutes_avg"] = lower }
    #expect(verifier.verify(path: v1).problems.count == 1)
  }

  @Test func statsAgreeComparesEveryOtherFieldExactly() {
    let base = ColumnStats(
      nullCount: 1, nonFiniteCount: 0, min: -2, max: 10, mean: 3.25, std: 1.5, distinctCount: nil,
      histogram: ColumnStats.Histogram(widthLog2: 0, firstBin: -2, counts: Array(repeating: 1, count: 13)))
    var near = base
    near.mean = 3.25 + 5e-9  // within 1e-9 of the largest magnitude, 10
    near.std = 1.5 - 5e-9
    #expect(Verifier.statsAgree(base, near))
    var far = base
    far.mean = 3.25 + 2e-8
    #expect(!Verifier.statsAgree(base, far))
    var noMean = base
    noMean.mean = nil
    #expect(!Verifier.statsAgree(base, noMean))
    var counts = near
    counts.nullCount = 2
    #expect(!Verifier.statsAgree(base, counts))
    var bins = near
    bins.histogram = ColumnStats.Histogram(widthLog2: 0, firstBin: -2, counts: [2] + Array(repeating: 1, count: 12))
    #expect(!Verifier.statsAgree(base, bins))
  }

  @Test func missingFileAndExtraFile() throws {
    let v1 = try published()
    let size = Fixture.bytes("\(v1)/2021-22.arrow").count
    try FileManager.default.removeItem(atPath: "\(v1)/2021-22.arrow")
    Fixture.write("\(v1)/notes.txt", Array("hello".utf8))
    #expect(
      verifier.verify(path: v1).problems == [
        "\(v1)/notes.txt: is not listed in the manifest",
        "\(v1)/2021-22.arrow: missing (the manifest lists \(size) bytes)",
      ])
  }

  @Test func extraColumnEvenWithMatchingHashes() throws {
    let v1 = try published()
    var table = Fixture.table(rows: 150, seed: 2)
    table.append(Field(name: "extra", type: .int32, nullable: false), .int32(Column([Int32](repeating: 1, count: 150))))
    let bytes = try ArrowDataFileFormat().encode(table, batchRows: 64)
    Fixture.write("\(v1)/2022-23.arrow", bytes)
    // The forger also fixes the file's size and hash: the schema check still catches it.
    var oldContent = ""
    var newContent = ""
    try editManifest(v1) { m in
      m.files[1].bytes = bytes.count
      m.files[1].sha256 = Digest.hex(bytes)
      oldContent = m.contentSHA256
      newContent = Digest.content(files: m.files, schema: m.schema)
    }
    #expect(
      verifier.verify(path: v1).problems == [
        "\(v1)/manifest.json: content_sha256 is \(oldContent.prefix(12))… but its files and schema hash to \(newContent.prefix(12))…",
        "\(v1)/2022-23.arrow: has column extra (int32) that the manifest's schema does not list",
      ])
  }

  @Test func rowCountThatDisagrees() throws {
    let v1 = try published()
    try editManifest(v1) { $0.files[0].rows = 91 }
    #expect(
      verifier.verify(path: v1).problems == [
        "\(v1)/manifest.json: row_count is 240 but its files' rows add up to 241",
        "\(v1)/2021-22.arrow: has 90 rows but the manifest says 91",
      ])
  }

  @Test func editedManifestSchema() throws {
    let v1 = try published()
    var old = ""
    var new = ""
    try editManifest(v1) { m in
      old = m.contentSHA256
      m.schema[2].type = "int64"
      new = Digest.content(files: m.files, schema: m.schema)
    }
    #expect(
      verifier.verify(path: v1).problems == [
        "\(v1)/manifest.json: content_sha256 is \(old.prefix(12))… but its files and schema hash to \(new.prefix(12))…",
        "\(v1)/2021-22.arrow: column points is int32 but the manifest's schema says int64",
        "\(v1)/2022-23.arrow: column points is int32 but the manifest's schema says int64",
      ])
  }

  @Test func editedManifestUnknownAndMissingFields() throws {
    let v1 = try published()
    var text = String(decoding: Fixture.bytes("\(v1)/manifest.json"), as: UTF8.self)
    text = text.replacingOccurrences(of: "\"format\" : 1,", with: "\"format\" : 1,\n  \"note\" : \"hand edit\",")
    text = text.replacingOccurrences(of: "\"resolved_at\" : null,", with: "")
    Fixture.write("\(v1)/manifest.json", Array(text.utf8))
    #expect(
      verifier.verify(path: v1).problems == [
        "\(v1)/manifest.json: unknown field note",
        "\(v1)/manifest.json: missing field config.dates.resolved_at",
      ])
    text = text.replacingOccurrences(of: "\"created_at\"", with: "\"createdAt\"")
    Fixture.write("\(v1)/manifest.json", Array(text.utf8))
    #expect(
      verifier.verify(path: v1).problems == [
        "\(v1)/manifest.json: does not match the manifest schema: missing field created_at"
      ])
    // A manifest that cannot be decoded still names its files: a damaged one is reported
    // beside it (a spec audit saw "missing field tool" alone over a damaged data file).
    var file = Fixture.bytes("\(v1)/2022-23.arrow")
    file[file.count / 2] ^= 0xFF
    Fixture.write("\(v1)/2022-23.arrow", file)
    let listed = Fixture.bytes("\(v1)/2021-22.arrow").count
    try FileManager.default.removeItem(atPath: "\(v1)/2021-22.arrow")
    let problems = verifier.verify(path: v1).problems
    #expect(problems.count == 3)
    #expect(problems.first == "\(v1)/manifest.json: does not match the manifest schema: missing field created_at")
    // Worded as for a decodable manifest: one reader of listed files serves both.
    #expect(problems.contains("\(v1)/2021-22.arrow: missing (the manifest lists \(listed) bytes)"))
    #expect(problems.contains { $0.hasPrefix("\(v1)/2022-23.arrow: sha256 is ") })
  }

  @Test func manifestThatIsNotJSON() throws {
    let v1 = try published()
    let bytes = Fixture.bytes("\(v1)/manifest.json")
    Fixture.write("\(v1)/manifest.json", Array(bytes.prefix(bytes.count / 2)))
    let problems = verifier.verify(path: v1).problems
    #expect(problems.count == 1)
    #expect(problems.first?.hasPrefix("\(v1)/manifest.json: not valid JSON (") == true)
  }

  @Test func missingManifestAndMissingPath() throws {
    let v1 = try published()
    try FileManager.default.removeItem(atPath: "\(v1)/manifest.json")
    #expect(verifier.verify(path: v1).problems == ["\(v1)/manifest.json: missing"])
    #expect(verifier.verify(path: "\(v1)/nope").problems == ["\(v1)/nope: does not exist"])
  }
}
