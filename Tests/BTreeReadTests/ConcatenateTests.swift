// `FastColumns.concatenate` copies columns on several threads for large reads; the result must
// be exactly the one-thread copy's, for every column kind, NULL pattern and segment layout.
import Columnar
import Testing

@testable import SQLiteSource

@Suite struct ConcatenateTests {
  struct Mix {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  }

  static let specs = [
    ColumnSpec("name", .text(required: true)), ColumnSpec("nick", .text(required: false)),
    ColumnSpec("points", .integer(required: true)), ColumnSpec("fouls", .integer(required: false)),
    ColumnSpec("minutes", .real), ColumnSpec("home", .flag), ColumnSpec("day", .date),
    ColumnSpec("at", .timestamp),
  ]

  /// A part of `rows` rows with seeded values; nullable columns NULL about one row in four.
  static func part(rows: Int, seed: UInt64) -> FastColumns {
    var rng = Mix(state: seed)
    let f = FastColumns(specs: specs, capacity: rows)
    let words = ["", "a", "Luka Dončić", "日本", "x y z"]
    for r in 0..<rows {
      #expect(f.beginRow(rowid: Int64(r) * 3 + Int64(seed % 7)))
      func text(_ s: String) -> Bool { Array(s.utf8).withUnsafeBufferPointer { f.store(0, row: r, text: $0) } }
      #expect(text(words[rng.below(words.count)]))
      if rng.below(4) == 0 {
        #expect(f.storeNull(1, row: r))
      } else {
        #expect(Array(words[rng.below(words.count)].utf8).withUnsafeBufferPointer { f.store(1, row: r, text: $0) })
      }
      #expect(f.store(2, row: r, integer: Int64(rng.below(60)) - 5))
      #expect(rng.below(4) == 0 ? f.storeNull(3, row: r) : f.store(3, row: r, integer: Int64(rng.below(7))))
      #expect(rng.below(4) == 0 ? f.storeNull(4, row: r) : f.store(4, row: r, real: Double(rng.below(4800)) / 100))
      #expect(rng.below(4) == 0 ? f.storeNull(5, row: r) : f.store(5, row: r, integer: Int64(rng.below(2))))
      #expect(Array("2023-0\(1 + rng.below(9))-1\(rng.below(10))".utf8).withUnsafeBufferPointer { f.store(6, row: r, text: $0) })
      if rng.below(4) == 0 {
        #expect(f.storeNull(7, row: r))
      } else {
        #expect(Array("2024-01-0\(1 + rng.below(9))T12:00:0\(rng.below(10))Z".utf8).withUnsafeBufferPointer { f.store(7, row: r, text: $0) })
      }
      f.endRow()
    }
    return f
  }

  func expectSame(_ a: SourceReader.ReadResult, _ b: SourceReader.ReadResult) {
    #expect(a.rowid == b.rowid)
    #expect(a.columns.count == b.columns.count)
    for (x, y) in zip(a.columns, b.columns) {
      #expect(x.strings == y.strings)
      #expect(x.int32s == y.int32s)
      #expect(x.doubles.values.map(\.bitPattern) == y.doubles.values.map(\.bitPattern))
      #expect(x.doubles.validity == y.doubles.validity)
      #expect(x.flags == y.flags)
      #expect(x.dates == y.dates)
      #expect(x.timestamps == y.timestamps)
    }
  }

  @Test(arguments: [1, 5, 64, 700])
  func concurrentCopyEqualsSequential(rowsPerPart: Int) {
    let parts = (0..<3).map { Self.part(rows: rowsPerPart + $0 * 13, seed: UInt64(rowsPerPart * 10 + $0)) }
    // Segments start and end off word boundaries, skip rows, and take parts out of order.
    var rng = Mix(state: UInt64(rowsPerPart))
    var segments: [(part: FastColumns, rows: Range<Int>)] = []
    for _ in 0..<9 {
      let p = parts[rng.below(parts.count)]
      let lo = rng.below(p.count), hi = lo + rng.below(p.count - lo + 1)
      segments.append((p, lo..<hi))
    }
    let sequential = FastColumns.concatenate(segments, parallelAbove: .max)
    let concurrent = FastColumns.concatenate(segments, parallelAbove: 0)
    expectSame(sequential, concurrent)
    #expect(sequential.rowid.count == segments.reduce(0) { $0 + $1.rows.count })
  }
}
