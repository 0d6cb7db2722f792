import Columnar

@testable import Snapshots

/// The per-chunk statistics as they were before the fused passes (session 3), kept word for
/// word as the reference the fast `Accumulator(chunk:)` is held to bit for bit: every
/// non-NULL finite value gathered into an array of doubles, min/max/sum in one loop, the
/// squares in a second, then `Histogram.make` (a division and a floor per value).
enum ReferenceStats {
  static func chunk(_ column: AnyColumn) -> ColumnStats.Accumulator {
    var a = ColumnStats.Accumulator(isText: column.type == .utf8)
    if case .utf8(let c) = column {
      a.nulls = c.nullCount
      a.distinct.insert(c)
      return a
    }
    var values: [Double] = []
    var nulls = 0, nonFinite = 0
    func gather<E>(_ c: Column<E>, _ convert: (E) -> Double) {
      for i in 0..<c.count {
        guard c.validity[i] else {
          nulls += 1
          continue
        }
        let x = convert(c.values[i])
        guard x.isFinite else {
          nonFinite += 1
          continue
        }
        values.append(x)
      }
    }
    switch column {
    case .int32(let c): gather(c) { Double($0) }
    case .int64(let c): gather(c) { Double($0) }
    case .float64(let c): gather(c) { $0 }
    case .bool(let c): gather(c) { $0 ? 1 : 0 }
    case .date32(let c): gather(c) { Double($0.daysSinceEpoch) }
    case .utf8: break
    }
    a.nulls = nulls
    a.nonFinite = nonFinite
    guard !values.isEmpty else { return a }
    var chunkLo = values[0], chunkHi = values[0], chunkSum = 0.0
    for v in values {
      chunkLo = Swift.min(chunkLo, v)
      chunkHi = Swift.max(chunkHi, v)
      chunkSum += v
    }
    let chunkMean = chunkSum / Double(values.count)
    var chunkSquares = 0.0
    for v in values { chunkSquares += (v - chunkMean) * (v - chunkMean) }
    a.count = values.count
    a.sum = chunkSum
    a.squares = chunkSquares
    a.lo = chunkLo
    a.hi = chunkHi
    if chunkLo == chunkHi {
      a.constants.append((chunkLo, values.count))
    } else {
      a.histograms.append(ColumnStats.Histogram.make(values, lo: chunkLo, hi: chunkHi))
    }
    return a
  }

  /// Distinct byte strings of the non-NULL values, the plain way.
  static func distinct(_ c: StringColumn) -> Set<[UInt8]> {
    var out = Set<[UInt8]>()
    for i in 0..<c.count where c.validity[i] { _ = c.withBytes(at: i) { out.insert(Array($0)) } }
    return out
  }
}
