import Columnar
import Foundation
import Testing

@testable import Snapshots

/// The streaming build: statistics gathered a season at a time, the writer that holds files
/// back until the gates pass, and temporary folders that a concurrent sweep leaves alone.
@Suite struct StreamingTests {
  /// The plain one-pass statistics over every value of every chunk: what the manifest said
  /// before builds streamed, and the reference the accumulator is held to.
  static func onePass(_ chunks: [[Double?]]) -> ColumnStats {
    var values: [Double] = []
    var nulls = 0, nonFinite = 0
    for chunk in chunks {
      for v in chunk {
        guard let v else { nulls += 1; continue }
        guard v.isFinite else { nonFinite += 1; continue }
        values.append(v)
      }
    }
    guard !values.isEmpty else {
      return ColumnStats(
        nullCount: nulls, nonFiniteCount: nonFinite, min: nil, max: nil, mean: nil, std: nil, distinctCount: nil,
        histogram: nil)
    }
    var sum = 0.0
    for v in values { sum += v }
    let mean = sum / Double(values.count)
    var squares = 0.0
    for v in values { squares += (v - mean) * (v - mean) }
    let lo = values.min()!, hi = values.max()!
    return ColumnStats(
      nullCount: nulls, nonFiniteCount: nonFinite, min: lo, max: hi, mean: mean,
      std: (squares / Double(values.count)).squareRoot(), distinctCount: nil,
      histogram: ColumnStats.Histogram.make(values, lo: lo, hi: hi))
  }

  /// Random chunks: several scales, integer-valued and fractional, constant chunks (whose own
  /// grid would be coarser than the whole range's), empty and all-NULL chunks, ±inf and NaN.
  static func chunks(seed: UInt64) -> [[Double?]] {
    var rng = SplitMix(seed: seed)
    let count = 1 + Int(rng.next() % 6)
    let scale = [1.0, 0.001, 1000, 1e9][Int(rng.next() % 4)]
    return (0..<count).map { _ in
      let n = Int(rng.next() % 300)
      let kind = rng.next() % 5
      let constant = Double(Int(rng.next() % 50)) * scale
      return (0..<n).map { _ -> Double? in
        let r = rng.next() % 100
        if r < 8 { return nil }
        if r == 8 { return [Double.infinity, -.infinity, .nan][Int(rng.next() % 3)] }
        switch kind {
        case 0: return constant
        case 1: return Double(Int(rng.next() % 40) - 5)
        default: return (Double(rng.next() % 1_000_000) / 1000 - 200) * scale
        }
      }
    }
  }

  @Test(arguments: 0..<200)
  func chunkedStatisticsEqualOnePassExceptMeanAndStdWithinRounding(seed: UInt64) {
    let chunks = Self.chunks(seed: seed)
    var accumulator = ColumnStats.Accumulator(isText: false)
    for chunk in chunks { accumulator.add(.float64(Column(optionals: chunk))) }
    let got = accumulator.finish()
    let want = Self.onePass(chunks)
    #expect(got.nullCount == want.nullCount)
    #expect(got.nonFiniteCount == want.nonFiniteCount)
    #expect(got.min == want.min)
    #expect(got.max == want.max)
    if chunks.count == 1 {
      #expect(got.mean == want.mean, "one chunk is the same additions in the same order")
    } else if let g = got.mean, let w = want.mean {
      // The sum of the chunks' sums: the same values added in another grouping.
      #expect(abs(g - w) <= 1e-12 * Swift.max(abs(want.max ?? 0), abs(want.min ?? 0), 1e-300), "\(g) vs \(w)")
    } else {
      #expect(got.mean == want.mean)
    }
    #expect(got.histogram == want.histogram, "chunk grids nest in the whole range's grid: exact")
    if let g = got.std, let w = want.std {
      #expect(
        abs(g - w) <= 1e-9 * Swift.max(w, 1e-300) + 1e-12 * (abs(want.mean ?? 0) + abs(want.max ?? 0)), "\(g) vs \(w)")
    } else {
      #expect(got.std == want.std)
    }
    if chunks.count == 1 { #expect(got.std == want.std, "one chunk is exactly the two-pass formula") }
  }

  @Test func textColumnsCountDistinctValuesAcrossChunks() {
    var accumulator = ColumnStats.Accumulator(isText: true)
    accumulator.add(.utf8(StringColumn(["a", nil, "b"])))
    accumulator.add(.utf8(StringColumn(["b", "c", nil, nil])))
    let s = accumulator.finish()
    #expect(s.distinctCount == 3)
    #expect(s.nullCount == 3)
    #expect(s.histogram == nil && s.mean == nil)
  }

  /// Byte-distinct counting against a plain Set of byte arrays: many values (the table grows
  /// several times), near-duplicates, empty strings, multi-byte UTF-8, NULLs.
  @Test(arguments: [UInt64(1), 2, 3])
  func distinctCountMatchesASetOfByteStrings(seed: UInt64) {
    var rng = SplitMix(seed: seed)
    var reference = Set<[UInt8]>()
    var accumulator = ColumnStats.Accumulator(isText: true)
    var nulls = 0
    for _ in 0..<4 {
      var values: [String?] = []
      for _ in 0..<3000 {
        let r = rng.next() % 100
        if r < 5 {
          values.append(nil)
          nulls += 1
          continue
        }
        let n = Int(rng.next() % 6000)
        let v = r < 10 ? "" : r < 20 ? "é\(n % 50)" : r < 25 ? "e\u{301}\(n % 50)" : "player\(n)"
        values.append(v)
        reference.insert(Array(v.utf8))
      }
      accumulator.add(.utf8(StringColumn(values)))
    }
    let stats = accumulator.finish()
    #expect(stats.distinctCount == reference.count)
    #expect(stats.nullCount == nulls)
  }

  @Test func writerHoldsFilesBackUntilWritesAreAllowed() throws {
    let root = Fixture.scratch()
    let writer = SnapshotWriter(
      builder: Fixture.builder(root: root), dataset: "props", featureSet: Fixture.featureSet, batchRows: 64)
    writer.submit(label: "2021-22", table: Fixture.table(rows: 40, seed: 1))
    writer.submit(label: "2022-23", table: Fixture.table(rows: 70, seed: 2))
    // A gate failed: nothing was ever on disk, not even the dataset folder.
    writer.discard()
    #expect(!FileManager.default.fileExists(atPath: root + "/props"))

    let inputs = Fixture.inputs(seasons: [
      ("2021-22", Fixture.table(rows: 40, seed: 1)), ("2022-23", Fixture.table(rows: 70, seed: 2)),
    ])
    let streamed = SnapshotWriter(
      builder: Fixture.builder(root: root), dataset: "props", featureSet: Fixture.featureSet, batchRows: 64)
    for (label, table) in inputs.seasons { streamed.submit(label: label, table: table) }
    streamed.allowWrites()
    let result = try streamed.finish(
      config: inputs.config, source: inputs.source, gates: inputs.gates, tool: inputs.tool)
    #expect(result.outcome == .published(version: "v1", path: "\(root)/props/v1"))
    // The same manifest as building all seasons at once in another store.
    let other = Fixture.scratch()
    let whole = try Fixture.builder(root: other).build(inputs)
    #expect(try whole.manifest.encoded() == result.manifest.encoded())
    #expect(Fixture.bytes("\(root)/props/v1/2022-23.arrow") == Fixture.bytes("\(other)/props/v1/2022-23.arrow"))
    #expect(SnapshotStore(root: root).temporaryFolders("props") == [])
  }

  @Test func writerReportsABadSeasonAndLeavesNothing() throws {
    let root = Fixture.scratch()
    let writer = SnapshotWriter(
      builder: Fixture.builder(root: root), dataset: "props", featureSet: Fixture.featureSet, batchRows: 64)
    writer.submit(label: "2022-23", table: Fixture.table(rows: 10, seed: 1))
    writer.submit(label: "../x", table: Fixture.table(rows: 10, seed: 2))
    writer.allowWrites()
    let inputs = Fixture.inputs(seasons: [])
    #expect(throws: BuildInputError.badSeasonLabel("../x")) {
      _ = try writer.finish(
        config: inputs.config, source: inputs.source, gates: inputs.gates, tool: inputs.tool)
    }
    #expect(SnapshotStore(root: root).versions("props") == [])
    #expect(SnapshotStore(root: root).temporaryFolders("props") == [])
  }

  @Test func sweepRemovesDeadFoldersAndKeepsALiveBuildsFolder() throws {
    let root = Fixture.scratch()
    let store = SnapshotStore(root: root)
    let live = try store.stage("props")
    try live.write(name: "2022-23.arrow", bytes: [1, 2, 3])
    // A dead build's folder: nobody holds its flock.
    try FileManager.default.createDirectory(atPath: "\(root)/props/.tmp-999999-dead", withIntermediateDirectories: true)
    let removed = store.removeStaleTemporaryFolders("props")
    #expect(removed == [".tmp-999999-dead"])
    #expect(store.temporaryFolders("props") == [(live.path as NSString).lastPathComponent])
    #expect(Fixture.bytes(live.path + "/2022-23.arrow") == [1, 2, 3])
    // A second staging (another build) sweeps too, and still leaves the live folder alone.
    let other = try store.stage("props")
    #expect(store.temporaryFolders("props").count == 2)
    other.discard()
    live.discard()
    #expect(store.temporaryFolders("props") == [])
  }
}
