import Columnar
import SQLiteSource
import Testing

@testable import Snapshots

@Suite struct FingerprintTests {
  struct Row {
    var lookup: String
    var day: Int32
    var fatigue: Int32?
    var pace: Double?
    var processedAt: Int64?
  }

  func pcf(_ rows: [Row], rowids: [Int64]) -> PlayerCompositeFactors {
    var t = PlayerCompositeFactors()
    t.rowid = rowids
    t.playerLookup = StringColumn(nonNull: rows.map(\.lookup))
    t.gameDate = Column(rows.map { Date32(daysSinceEpoch: $0.day) })
    t.gameId = StringColumn(nonNull: rows.map { "g\($0.day)" })
    t.fatigueScore = Column(optionals: rows.map(\.fatigue))
    t.shotZoneMismatchScore = Column(optionals: rows.map { _ in nil })
    t.paceScore = Column(optionals: rows.map(\.pace))
    t.usageSpikeScore = Column(optionals: rows.map { _ in 0.5 })
    t.totalCompositeAdjustment = Column(optionals: rows.map { _ in 1.0 })
    t.calculationVersion = StringColumn(nonNull: rows.map { _ in "boxscore_v1" })
    t.processedAt = Column(optionals: rows.map(\.processedAt))
    return t
  }

  let rows = [
    Row(lookup: "lebronjames", day: 19_300, fatigue: 60, pace: 1.5, processedAt: 1_700_000_000_000_000),
    Row(lookup: "anthonydavis", day: 19_300, fatigue: nil, pace: -0.25, processedAt: 1_700_000_500_000_000),
    Row(lookup: "lebronjames", day: 19_302, fatigue: 55, pace: nil, processedAt: nil),
  ]

  @Test func reExportInAnotherOrderWithOtherRowidsMatches() {
    let a = SourceFingerprinter.pcf(pcf(rows, rowids: [1, 2, 3]))
    let b = SourceFingerprinter.pcf(pcf(rows.reversed(), rowids: [70, 80, 90]))
    #expect(a == b)
    #expect(a.rowCount == 3)
    #expect(a.newestProcessedAt == "2023-11-14T22:21:40Z")
  }

  @Test func anyChangedValueOrNullChangesTheFingerprint() {
    let base = SourceFingerprinter.pcf(pcf(rows, rowids: [1, 2, 3])).contentSHA256
    var changed = rows
    changed[1].pace = -0.5
    #expect(SourceFingerprinter.pcf(pcf(changed, rowids: [1, 2, 3])).contentSHA256 != base)
    changed = rows
    changed[0].fatigue = nil
    #expect(SourceFingerprinter.pcf(pcf(changed, rowids: [1, 2, 3])).contentSHA256 != base)
    // A NULL and a zero are different values.
    changed = rows
    changed[1].fatigue = 0
    #expect(SourceFingerprinter.pcf(pcf(changed, rowids: [1, 2, 3])).contentSHA256 != base)
    // One row fewer.
    #expect(SourceFingerprinter.pcf(pcf(Array(rows.prefix(2)), rowids: [1, 2])).contentSHA256 != base)
  }

  @Test func contentHashIsOverFilesAndSchemaText() {
    let files = [
      Manifest.FileEntry(
        path: "2022-23.arrow", bytes: 10, sha256: String(repeating: "0", count: 64), rows: 2, season: "2022-23")
    ]
    let schema = [Manifest.SchemaColumn(name: "points", type: "int32", nullable: false, meaning: "ignored")]
    // The documented text, hashed by hand.
    let text = "files\n2022-23.arrow\t\(String(repeating: "0", count: 64))\nschema\npoints\tint32\trequired\n"
    #expect(Digest.content(files: files, schema: schema) == Digest.hex(Array(text.utf8)))
    var reworded = schema
    reworded[0].meaning = "points scored"
    #expect(Digest.content(files: files, schema: reworded) == Digest.content(files: files, schema: schema))
    #expect(Digest.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }
}
