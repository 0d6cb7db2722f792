import Columnar
import Testing

@testable import ArrowIPC

/// Reads everything the reader offers; any ArrowError is a pass, anything else a failure.
/// A trap would crash the test process, which is exactly what these tests guard against.
func readEverything(_ bytes: [UInt8]) -> ArrowError? {
  do {
    let reader = try ArrowFileReader(bytes: bytes)
    for i in 0..<reader.batchCount { _ = try reader.batch(i) }
    _ = try reader.readAll()
    return nil
  } catch {
    return error
  }
}

func readError(_ bytes: [UInt8]) -> String {
  readEverything(bytes).map(\.description) ?? "no error"
}

/// A small two-batch file with every type; the canvas for the damage below.
func smallFile(_ compression: ArrowCompression) throws -> [UInt8] {
  try ArrowFile.encode(sampleTable(rows: 20, seed: 42, nullAt: [0, 19]), compression: compression, batchRows: 12)
}

func setLE<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ at: Int, _ value: T) {
  withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[at + i] = b } }
}

@Suite struct ArrowHostileInputTests {
  @Test(arguments: ArrowCompression.allCases)
  func everyTruncationThrows(compression: ArrowCompression) throws {
    let file = try smallFile(compression)
    for cut in stride(from: 0, to: file.count, by: 3) {
      #expect(readEverything(Array(file[0..<cut])) != nil, "cut at \(cut) of \(file.count)")
    }
  }

  @Test func truncatedFileNamesTheMissingMagic() throws {
    let file = try smallFile(.lz4Frame)
    #expect(
      readError(Array(file.dropLast(1)))
        == "not an Arrow IPC file: the last 6 bytes are 00 41 52 52 4f 57, expected \"ARROW1\" (41 52 52 4f 57 31); the file may be truncated"
    )
    #expect(readError([1, 2, 3]) == "not an Arrow IPC file: 3 bytes is shorter than the 18 bytes of magic, footer size and magic")
  }

  @Test func wrongMagicIsRejected() throws {
    var file = try smallFile(.none)
    file[0] = UInt8(ascii: "P")
    #expect(
      readError(file)
        == "not an Arrow IPC file: the first 6 bytes are 50 52 52 4f 57 31, expected \"ARROW1\" (41 52 52 4f 57 31)")
  }

  @Test(arguments: ArrowCompression.allCases)
  func seededBitFlipsNeverTrap(compression: ArrowCompression) throws {
    let file = try smallFile(compression)
    var rng = SplitMix64(seed: compression == .none ? 1 : 2)
    var errors = 0
    for _ in 0..<1500 {
      var damaged = file
      let at = rng.below(file.count)
      damaged[at] ^= UInt8(1) << UInt8(rng.below(8))
      // A flip in a value byte can still be a valid file; what matters is no trap.
      if readEverything(damaged) != nil { errors += 1 }
    }
    #expect(errors > 0)
  }

  @Test func absurdFooterSizeIsNamed() throws {
    var file = try smallFile(.none)
    setLE(&file, file.count - 10, Int32.max)
    #expect(
      readError(file)
        == "invalid Arrow file: footer size at byte \(file.count - 10): declares 2147483647 bytes, but only \(file.count - 18) bytes lie between the leading magic and it"
    )
    setLE(&file, file.count - 10, Int32(-5))
    #expect(readError(file).hasPrefix("invalid Arrow file: footer size at byte"))
  }

  /// Locates the first record batch's metadata so the tests can damage chosen fields.
  func firstBatch(_ file: [UInt8]) throws -> ArrowFileReader.BatchInfo {
    try ArrowFileReader(bytes: file).batches[0]
  }

  @Test func absurdBufferLengthIsBoundedByTheBody() throws {
    var file = try smallFile(.none)
    let info = try firstBatch(file)
    // The Buffer structs are the only place in the metadata holding these exact values;
    // find the struct for buffer 1 (i32 values: offset, length) and make its length absurd.
    let (off, len) = info.buffers[1]
    var pattern: [UInt8] = []
    withUnsafeBytes(of: Int64(off).littleEndian) { pattern += $0 }
    withUnsafeBytes(of: Int64(len).littleEndian) { pattern += $0 }
    let at = try #require(findSubsequence(file, pattern, before: info.bodyStart))
    setLE(&file, at + 8, Int64(1) << 60)
    #expect(
      readError(file)
        == "invalid Arrow file: record batch 0 buffer 1 at byte \(at): offset \(off) length 1152921504606846976 lies outside the \(info.bodyLength)-byte body"
    )
  }

  @Test func lyingUncompressedLengthIsCaught() throws {
    var file = try smallFile(.lz4Frame)
    let info = try firstBatch(file)
    let (off, _) = info.buffers[3]  // i64 values
    let p = info.bodyStart + off
    setLE(&file, p, Int64(12 * 8 + 1))
    #expect(
      readError(file)
        == "Arrow body decompression failed: record batch 0, column \"i64\", buffer 3 at byte \(p): int64 values buffer declared 97 bytes: LZ4 decompress failed: frame holds 96 bytes, 97 were declared"
    )
    setLE(&file, p, Int64(1) << 40)
    #expect(readError(file).contains("declared uncompressed length 1099511627776 is impossible for a"))
  }

  @Test func uncompressedPrefixMinusOneIsAccepted() throws {
    // Arrow writers may store a buffer raw behind a -1 prefix when compression does not pay
    // (Message.fbs, BodyCompression). Body: empty validity, then [-1 | 3 raw int64 values].
    let values: [Int64] = [7, -8, 1 << 50]
    var body: [UInt8] = []
    withUnsafeBytes(of: Int64(-1).littleEndian) { body += $0 }
    values.withUnsafeBytes { body += $0 }
    let info = ArrowFileReader.BatchInfo(
      rows: 3, nodes: [(3, 0)], buffers: [(0, 0), (0, body.count)], compressed: true, bodyStart: 0,
      bodyLength: body.count)
    let decoder = ColumnDecoder(file: body, info: info, batch: 0, column: "v", firstBuffer: 0, rows: 3, nullCount: 0)
    #expect(try decoder.decode(.int64) == .int64(Column(values)))
  }

  @Test func nonMonotonicOffsetsAndBadUTF8AreNamed() throws {
    var t = Table(rowCount: 3)
    t.append(Field(name: "s", type: .utf8), .utf8(StringColumn(nonNull: ["ab", "cd", "ef"])))
    var file = try ArrowFile.encode(t, compression: .none)
    let info = try firstBatch(file)
    let offsetsAt = info.bodyStart + info.buffers[1].offset
    let dataAt = info.bodyStart + info.buffers[2].offset
    var bad = file
    setLE(&bad, offsetsAt + 4, Int32(5))  // 0, 5, 4, 6
    #expect(
      readError(bad)
        == "invalid Arrow column data: record batch 0, column \"s\", buffer 1 at byte \(offsetsAt): offsets decrease at row 1: 5 then 4"
    )
    bad = file
    setLE(&bad, offsetsAt + 12, Int32(7))
    #expect(
      readError(bad)
        == "invalid Arrow column data: record batch 0, column \"s\", buffer 2 at byte \(dataAt): string data buffer holds 6 bytes, 3 rows need 7"
    )
    file[dataAt + 2] = 0xC3  // a lead byte followed by ASCII
    #expect(
      readError(file)
        == "invalid Arrow column data: record batch 0, column \"s\", buffer 2 at byte \(dataAt): row 1 is not valid UTF-8 (byte 0 of the string, offsets 2..<4)"
    )
  }

  @Test func nullCountMustMatchTheBitmap() throws {
    var t = Table(rowCount: 4)
    t.append(Field(name: "n", type: .int32), .int32(Column(optionals: [1, nil, 3, 4])))
    var file = try ArrowFile.encode(t, compression: .none)
    let info = try firstBatch(file)
    file[info.bodyStart + info.buffers[0].offset] = 0b1111
    #expect(
      readError(file)
        == "invalid Arrow column data: record batch 0, column \"n\", buffer 0 at byte \(info.bodyStart): validity bitmap has 0 nulls, the field node declares 1"
    )
  }

  @Test func utf8ValidatorMatchesTheStandardLibrary() {
    var rng = SplitMix64(seed: 9)
    for _ in 0..<5000 {
      let n = rng.below(6)
      let bytes = (0..<n).map { _ in rng.below(3) == 0 ? UInt8(rng.below(128)) : UInt8(0x80 + rng.below(128)) }
      let ours = bytes.withUnsafeBufferPointer { firstInvalidUTF8($0) } == nil
      #expect(ours == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
    }
  }
}

func findSubsequence(_ haystack: [UInt8], _ needle: [UInt8], before end: Int) -> Int? {
  guard needle.count <= end else { return nil }
  for i in 0...(end - needle.count) where haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
  return nil
}
