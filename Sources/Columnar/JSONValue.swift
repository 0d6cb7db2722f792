/// A JSON tree read strictly, for files people write by hand (gate thresholds, feature-set
/// specs): `true` stays a boolean and `1` a number, so the caller can name a value of the wrong
/// kind instead of using it.
///
/// `parse` is a recursive-descent reader of RFC 8259 (plus the trailing comma `JSONDecoder`
/// allowed). It replaced decoding through
/// `JSONDecoder`, which can only find a value's kind by trying each kind in turn: every failed
/// try built a `DecodingError`, and reading the 21 KB `props_v1.json` that way took 4.7 ms of a
/// one-season build's 17 ms start-up (`perf record`, 30 runs of a build that stops at its
/// first check).
public enum JSONValue: Sendable, Equatable {
  case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

  /// Deeper nesting than any spec needs; bounds the reader's recursion on hostile input.
  public static let maxDepth = 256

  /// The document in `bytes` (UTF-8, an optional byte-order mark, one value with whitespace
  /// around it). One trailing comma before `}` or `]` is accepted, as `JSONDecoder` accepted
  /// it, so files that were read before still are. Rejected, with the line and column of the
  /// first offending byte: anything else outside the grammar; invalid UTF-8 (`JSONDecoder` put
  /// U+FFFD in place of the bad bytes, so a spec saved in another encoding lost characters
  /// silently) and UTF-16 or UTF-32 text; a key given twice in one object (in a file edited by
  /// hand the second is a mistake, not an override); a number too large for a Double; nesting
  /// deeper than `maxDepth`.
  public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
    try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSONValue in
      var reader = JSONReader(buffer)
      return try reader.document()
    }
  }
}

/// A `JSONValue` inside a larger `Codable` document, decoded the slow way: a `Decoder` cannot
/// tell a value's kind, so each kind is tried in turn. Files are read with `parse`; this is
/// also the reference `parse` is held to (JSONValueTests, and `make fuzz`'s FuzzSpecJSON).
extension JSONValue: Decodable {
  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let d = try? c.decode(Double.self) {
      self = .number(d)
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self))
    }
  }
}

/// Where and why a document is not valid JSON.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
  /// 1-based; the column counts bytes from the start of the line.
  public var line: Int
  public var column: Int
  public var message: String
  public var description: String { "line \(line), column \(column): \(message)" }
}

private struct JSONReader {
  let bytes: UnsafeBufferPointer<UInt8>
  var position = 0

  init(_ bytes: UnsafeBufferPointer<UInt8>) {
    self.bytes = bytes
    if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { position = 3 }
  }

  mutating func document() throws(JSONParseError) -> JSONValue {
    // UTF-16 and UTF-32 text starts with a byte-order mark or puts a zero byte beside the first
    // character. `JSONDecoder` read such files; named here rather than "found byte 0x0".
    let head = bytes.prefix(4)
    if head.starts(with: [0xFE, 0xFF]) || head.starts(with: [0xFF, 0xFE]) || head.prefix(2).contains(0) {
      throw failure("the document is UTF-16 or UTF-32, not UTF-8: save it as UTF-8", at: 0)
    }
    skipWhitespace()
    let value = try value(depth: 0)
    skipWhitespace()
    guard position == bytes.count else {
      throw failure("expected the end of the document after its value, found \(found)")
    }
    return value
  }

  // MARK: Values

  mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
    guard depth < JSONValue.maxDepth else {
      throw failure("nested more than \(JSONValue.maxDepth) arrays or objects deep")
    }
    guard position < bytes.count else { throw failure("expected a value, found the end of the document") }
    switch bytes[position] {
    case UInt8(ascii: "{"): return try object(depth: depth)
    case UInt8(ascii: "["): return try array(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
    default: throw failure("expected a value (an object, array, string, number, true, false or null), found \(found)")
    }
  }

  mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
    position += 1
    var members: [String: JSONValue] = [:]
    skipWhitespace()
    if consume(UInt8(ascii: "}")) { return .object(members) }
    while true {
      guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
        throw failure("expected a key in double quotes, found \(found)")
      }
      let keyStart = position
      let key = try string()
      skipWhitespace()
      guard consume(UInt8(ascii: ":")) else { throw failure("expected ':' after the key \"\(key)\", found \(found)") }
      skipWhitespace()
      let member = try value(depth: depth + 1)
      guard members.updateValue(member, forKey: key) == nil else {
        throw failure("the key \"\(key)\" appears twice in one object", at: keyStart)
      }
      skipWhitespace()
      if consume(UInt8(ascii: "}")) { return .object(members) }
      guard consume(UInt8(ascii: ",")) else {
        throw failure("expected ',' or '}' after an object member, found \(found)")
      }
      skipWhitespace()
      if consume(UInt8(ascii: "}")) { return .object(members) }
    }
  }

  mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
    position += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if consume(UInt8(ascii: "]")) { return .array(elements) }
    while true {
      elements.append(try value(depth: depth + 1))
      skipWhitespace()
      if consume(UInt8(ascii: "]")) { return .array(elements) }
      guard consume(UInt8(ascii: ",")) else {
        throw failure("expected ',' or ']' after an array element, found \(found)")
      }
      skipWhitespace()
      if consume(UInt8(ascii: "]")) { return .array(elements) }
    }
  }

  mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
    let start = position
    let count = word.utf8CodeUnitCount
    let matches =
      bytes.count - position >= count
      && word.withUTF8Buffer { w in (0..<count).allSatisfy { bytes[start + $0] == w[$0] } }
    guard matches else { throw failure("expected \(word), found \(found)") }
    position += count
    return value
  }

  /// RFC 8259 section 6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, converted by
  /// `Double(_:)`, which rounds correctly.
  mutating func number() throws(JSONParseError) -> Double {
    let start = position
    _ = consume(UInt8(ascii: "-"))
    if consume(UInt8(ascii: "0")) {
      if position < bytes.count, isDigit(bytes[position]) {
        throw failure("a number must not start with 0 followed by more digits")
      }
    } else {
      guard digits() > 0 else { throw failure("expected a digit in a number, found \(found)") }
    }
    if consume(UInt8(ascii: ".")) {
      guard digits() > 0 else { throw failure("expected a digit after the decimal point, found \(found)") }
    }
    if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
      if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
      guard digits() > 0 else { throw failure("expected a digit in the exponent, found \(found)") }
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
    guard let number = Double(text), number.isFinite else {
      throw failure("the number \(text) is too large for a double", at: start)
    }
    return number
  }

  mutating func digits() -> Int {
    let start = position
    while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    return position - start
  }

  /// A string from its opening quote: escapes decoded (a `\u` pair of UTF-16 surrogates is one
  /// character), control characters refused, the bytes checked to be UTF-8.
  mutating func string() throws(JSONParseError) -> String {
    let open = position
    position += 1
    var utf8: [UInt8] = []
    while true {
      guard position < bytes.count else { throw failure("the string that starts here has no closing quote", at: open) }
      let byte = bytes[position]
      switch byte {
      case UInt8(ascii: "\""):
        position += 1
        guard let text = String(validating: utf8, as: UTF8.self) else {
          throw failure("the string that starts here is not valid UTF-8", at: open)
        }
        return text
      case UInt8(ascii: "\\"):
        try escape(into: &utf8)
      case 0..<0x20:
        throw failure("a control character (byte 0x\(String(byte, radix: 16))) must be escaped inside a string")
      default:
        utf8.append(byte)
        position += 1
      }
    }
  }

  mutating func escape(into utf8: inout [UInt8]) throws(JSONParseError) {
    let start = position
    position += 1
    guard position < bytes.count else { throw failure("the escape has no character after the backslash", at: start) }
    let letter = bytes[position]
    position += 1
    switch letter {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(letter)
    case UInt8(ascii: "b"): utf8.append(0x08)
    case UInt8(ascii: "f"): utf8.append(0x0C)
    case UInt8(ascii: "n"): utf8.append(0x0A)
    case UInt8(ascii: "r"): utf8.append(0x0D)
    case UInt8(ascii: "t"): utf8.append(0x09)
    case UInt8(ascii: "u"):
      var scalar = UInt32(try hex4(escapeAt: start))
      if (0xD800..<0xDC00).contains(scalar) {
        // A high surrogate must be followed by `\u` and a low one: together one scalar.
        guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
          bytes[position + 1] == UInt8(ascii: "u")
        else { throw failure("the escape \\u\(String(scalar, radix: 16)) is half of a surrogate pair", at: start) }
        let lowStart = position
        position += 2
        let low = UInt32(try hex4(escapeAt: lowStart))
        guard (0xDC00..<0xE000).contains(low) else {
          throw failure("the escape \\u\(String(scalar, radix: 16)) is half of a surrogate pair", at: start)
        }
        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
      } else if (0xDC00..<0xE000).contains(scalar) {
        throw failure("the escape \\u\(String(scalar, radix: 16)) is half of a surrogate pair", at: start)
      }
      // Not a surrogate, or a valid pair's combination: always a Unicode scalar.
      guard let character = Unicode.Scalar(scalar) else {
        throw failure("the escape \\u\(String(scalar, radix: 16)) is not a Unicode scalar", at: start)
      }
      UTF8.encode(character) { utf8.append($0) }
    default:
      throw failure(
        "unknown escape: a backslash before \(shown(letter)) (the escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
        at: start)
    }
  }

  mutating func hex4(escapeAt start: Int) throws(JSONParseError) -> UInt16 {
    guard bytes.count - position >= 4 else { throw failure("\\u must be followed by four hex digits", at: start) }
    var value: UInt16 = 0
    for _ in 0..<4 {
      let b = bytes[position]
      let digit: UInt8
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
      default: throw failure("\\u must be followed by four hex digits", at: start)
      }
      value = value << 4 | UInt16(digit)
      position += 1
    }
    return value
  }

  // MARK: Bytes

  func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

  mutating func consume(_ byte: UInt8) -> Bool {
    guard position < bytes.count, bytes[position] == byte else { return false }
    position += 1
    return true
  }

  mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  /// A byte as messages show it: quoted when it prints as itself, else in hex.
  func shown(_ b: UInt8) -> String {
    (0x21..<0x7F).contains(b) ? "'\(UnicodeScalar(b))'" : "byte 0x\(String(b, radix: 16))"
  }

  /// What stands at the current position, for messages.
  var found: String { position < bytes.count ? shown(bytes[position]) : "the end of the document" }

  func failure(_ message: String, at offset: Int? = nil) -> JSONParseError {
    let at = Swift.min(offset ?? position, bytes.count)
    var line = 1, lineStart = 0
    for i in 0..<at where bytes[i] == 0x0A {
      line += 1
      lineStart = i + 1
    }
    return JSONParseError(line: line, column: at - lineStart + 1, message: message)
  }
}
