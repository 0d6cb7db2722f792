import Foundation
import TestSupport
import Testing

@testable import Columnar

/// `PrettyJSONEncoder` against the encoder it replaces on the build's path: Foundation's
/// `JSONEncoder` with sorted keys, pretty printing and unescaped slashes, byte for byte.
@Suite struct PrettyJSONEncoderTests {
  static func reference(_ value: some Encodable) throws -> [UInt8] {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return Array(try e.encode(value))
  }

  /// A JSON document as a Codable value: objects through keyed containers, arrays through
  /// unkeyed ones, scalars through single-value containers.
  indirect enum Document: Encodable {
    case null, bool(Bool), int(Int), double(Double), string(String), array([Document]), object([String: Document])

    struct Key: CodingKey {
      var stringValue: String
      var intValue: Int? { nil }
      init(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
      switch self {
      case .null:
        var c = encoder.singleValueContainer()
        try c.encodeNil()
      case .bool(let b):
        var c = encoder.singleValueContainer()
        try c.encode(b)
      case .int(let i):
        var c = encoder.singleValueContainer()
        try c.encode(i)
      case .double(let d):
        var c = encoder.singleValueContainer()
        try c.encode(d)
      case .string(let s):
        var c = encoder.singleValueContainer()
        try c.encode(s)
      case .array(let a):
        var c = encoder.unkeyedContainer()
        for e in a { try c.encode(e) }
      case .object(let o):
        var c = encoder.container(keyedBy: Key.self)
        for (k, v) in o { try c.encode(v, forKey: Key(stringValue: k)) }
      }
    }
  }

  /// Strings with what a writer must escape, what it must not, and text beyond ASCII.
  static let awkwardStrings = [
    "", "plain", "a/b", "quote \" and backslash \\", "\u{8}\u{c}\n\r\t", "\u{1}\u{1f}\u{7f}\u{0}", "é", "e\u{301}",
    "😀", "\u{2028}\u{2029}", "tab\tin the middle", "Z", "_", "~", "10", "9", "a10", "a9", "A", "aa",
  ]

  static func double(_ r: inout SeededRandom) -> Double {
    switch r.below(8) {
    case 0: return Double(r.below(2001) - 1000)
    case 1: return Double(r.below(1000)) / 10
    case 2:
      return r.pick([0.0, -0.0, 1e15, 1e16, 9_007_199_254_740_992, 1e-5, 1e20, 1e21, 5e-324, .greatestFiniteMagnitude])
    case 3: return Double(bitPattern: r.next())
    default: return (Double(r.next() % 1_000_000_000) / 997) * (r.chance(50) ? 1 : -1)
    }
  }

  static func document(_ r: inout SeededRandom, depth: Int) -> Document {
    switch r.below(depth > 3 ? 5 : 7) {
    case 0: return .null
    case 1: return .bool(r.chance(50))
    case 2: return .int(r.chance(20) ? Int(bitPattern: UInt(r.next())) : r.below(1000))
    case 3:
      var d = double(&r)
      while !d.isFinite { d = double(&r) }
      return .double(d)
    case 4: return .string(r.pick(awkwardStrings) + (r.chance(30) ? r.pick(awkwardStrings) : ""))
    case 5: return .array((0..<r.below(5)).map { _ in document(&r, depth: depth + 1) })
    default:
      var o: [String: Document] = [:]
      for _ in 0..<r.below(6) { o[r.pick(awkwardStrings) + String(r.below(3))] = document(&r, depth: depth + 1) }
      return .object(o)
    }
  }

  @Test func generatedDocumentsMatchJSONEncoder() throws {
    var r = SeededRandom(seed: 20_261_127)
    for _ in 0..<2000 {
      // JSONEncoder refuses a scalar at the top level on some platforms; wrap every document.
      let doc = Document.object(["root": Self.document(&r, depth: 0)])
      let ours = try PrettyJSONEncoder.encode(doc)
      let theirs = try Self.reference(doc)
      #expect(
        ours == theirs, "\(String(decoding: ours, as: UTF8.self))\n---\n\(String(decoding: theirs, as: UTF8.self))")
      if ours != theirs { return }
    }
  }

  /// Synthesized conformances: optionals (absent when nil, through `encodeIfPresent`), nested
  /// structs, arrays of structs, dictionaries keyed by strings, every integer width, enums
  /// with raw values.
  struct Record: Codable {
    enum Kind: String, Codable { case one, two }
    struct Inner: Codable {
      var name: String
      var values: [Double]
      var flags: [Bool]?
    }
    var kind: Kind
    var title: String?
    var missing: Int?
    var inner: Inner
    var list: [Inner]
    var table: [String: Inner]
    var counts: [String: Int]
    var i8: Int8, i16: Int16, i32: Int32, i64: Int64, u8: UInt8, u16: UInt16, u32: UInt32, u64: UInt64, u: UInt
    var f: Float
    var nested: [[Int]]
    var emptyList: [String]
    var emptyTable: [String: Double]
  }

  @Test func synthesizedConformancesMatchJSONEncoder() throws {
    let inner = Record.Inner(name: "x/y", values: [1, 0.5, -0.0, 1e300], flags: nil)
    let record = Record(
      kind: .two, title: "t", missing: nil, inner: inner,
      list: [inner, Record.Inner(name: "", values: [], flags: [true])],
      table: ["b": inner, "a": inner, "é": inner], counts: ["z": 1, "y": -2], i8: -8, i16: 16, i32: -32,
      i64: .min, u8: 8, u16: 16, u32: 32, u64: .max, u: 7, f: 0.1, nested: [[], [1, 2], [3]], emptyList: [],
      emptyTable: [:])
    #expect(try PrettyJSONEncoder.encode(record) == Self.reference(record))
    #expect(try PrettyJSONEncoder.encode([record, record]) == Self.reference([record, record]))
  }

  @Test func nonFiniteNumbersThrow() {
    for bad in [Double.nan, .infinity, -.infinity] {
      #expect(throws: EncodingError.self) { try PrettyJSONEncoder.encode(["x": bad]) }
      #expect(throws: EncodingError.self) { try PrettyJSONEncoder.encode([bad]) }
    }
  }
}
