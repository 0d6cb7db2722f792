/// Encodes a value to the exact bytes Foundation's `JSONEncoder` writes with
/// `[.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]`: two-space indentation,
/// `"key" : value`, keys in UTF-8 byte order, a NULL written as `null`, an empty container as its
/// brackets around a blank line, a Double as its `description` less a trailing `.0`, and the
/// same escapes in strings (quote, backslash, `\b \f \n \r \t`, other control characters as
/// `\u00xx`; everything else as its UTF-8). A NaN or an infinity throws, as `JSONEncoder` does
/// by default. Unlike `JSONEncoder`, it gives `Date`, `Data` and `URL` no special form (they
/// encode through their own `Codable` conformances): nothing written with it holds one.
///
/// Why not `JSONEncoder` itself: a one-season build spent about 5 ms encoding its 80 KB
/// manifest, at the end of the build on the main thread, most of it in dynamic casts and
/// protocol-conformance lookups that `JSONEncoder` makes for every value it encodes (is it a
/// `Date`, a `URL`, a dictionary with string keys?). None of those apply here. The manifest's
/// bytes must not change, so the tests hold this encoder to `JSONEncoder`'s output, byte for
/// byte, on real manifests and on generated documents.
public enum PrettyJSONEncoder {
  /// The UTF-8 bytes of `value`, without a final newline.
  public static func encode(_ value: some Encodable) throws -> [UInt8] {
    let encoder = TreeEncoder(path: nil)
    try value.encode(to: encoder)
    var out: [UInt8] = []
    out.reserveCapacity(1 << 16)
    write(encoder.slot.value, indent: 0, into: &out)
    return out
  }

  static func write(_ node: Node, indent: Int, into out: inout [UInt8]) {
    switch node {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .number(let text): out.append(contentsOf: text.utf8)
    case .string(let s): writeString(s, into: &out)
    case .array(let a):
      out.append(UInt8(ascii: "["))
      out.append(0x0A)
      for (k, element) in a.elements.enumerated() {
        if k > 0 { out.append(contentsOf: ",\n".utf8) }
        spaces(indent + 2, into: &out)
        write(element.value, indent: indent + 2, into: &out)
      }
      out.append(0x0A)
      spaces(indent, into: &out)
      out.append(UInt8(ascii: "]"))
    case .object(let o):
      out.append(UInt8(ascii: "{"))
      out.append(0x0A)
      let members = o.members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
      for (k, member) in members.enumerated() {
        if k > 0 { out.append(contentsOf: ",\n".utf8) }
        spaces(indent + 2, into: &out)
        writeString(member.key, into: &out)
        out.append(contentsOf: " : ".utf8)
        write(member.value.value, indent: indent + 2, into: &out)
      }
      out.append(0x0A)
      spaces(indent, into: &out)
      out.append(UInt8(ascii: "}"))
    }
  }

  @inline(__always) static func spaces(_ n: Int, into out: inout [UInt8]) {
    for _ in 0..<n { out.append(0x20) }
  }

  static func writeString(_ s: String, into out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    // Nearly every string (keys, names, digests) needs no escape: copied whole.
    if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
      out.append(contentsOf: s.utf8)
      out.append(UInt8(ascii: "\""))
      return
    }
    for b in s.utf8 {
      switch b {
      case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
      case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
      case 0x08: out.append(contentsOf: "\\b".utf8)
      case 0x0C: out.append(contentsOf: "\\f".utf8)
      case 0x0A: out.append(contentsOf: "\\n".utf8)
      case 0x0D: out.append(contentsOf: "\\r".utf8)
      case 0x09: out.append(contentsOf: "\\t".utf8)
      case 0..<0x20:
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(contentsOf: "\\u00".utf8)
        out.append(hex[Int(b >> 4)])
        out.append(hex[Int(b & 0x0F)])
      default: out.append(b)
      }
    }
    out.append(UInt8(ascii: "\""))
  }

  /// A Double or Float as `JSONEncoder` writes it: its `description` less a trailing `.0`.
  static func number<F: BinaryFloatingPoint & CustomStringConvertible>(_ f: F, _ path: @autoclosure () -> Path?)
    throws -> Node
  {
    guard f.isFinite else {
      throw EncodingError.invalidValue(
        f,
        EncodingError.Context(
          codingPath: Path.keys(path()), debugDescription: "Unable to encode \(F.self).\(f) directly in JSON."))
    }
    var text = f.description
    if text.hasSuffix(".0") { text.removeLast(2) }
    return .number(text)
  }

  /// A coding path as a chain from the innermost key out, made only for values that get an
  /// encoder of their own and spelled out as an array only when asked (an error, a type that
  /// reads it): building `[CodingKey]` for every value was a third of the encoding time.
  final class Path {
    let parent: Path?
    let key: any CodingKey
    init(_ parent: Path?, _ key: any CodingKey) {
      self.parent = parent
      self.key = key
    }

    static func keys(_ path: Path?) -> [CodingKey] {
      var keys: [CodingKey] = []
      var p = path
      while let node = p {
        keys.append(node.key)
        p = node.parent
      }
      return keys.reversed()
    }
  }

  // The tree is built first because keys are written sorted, and containers are classes
  // because a nested container is handed out before its parent is finished.
  enum Node {
    case null, bool(Bool), number(String), string(String), array(ArrayNode), object(ObjectNode)
  }

  /// Where one value goes: a member of an object, an element of an array, or the root.
  final class Slot {
    var node: Node?
    /// What is written: a value that encoded nothing is an empty object, as in `JSONEncoder`.
    var value: Node { node ?? .object(ObjectNode()) }
  }

  final class ArrayNode {
    var elements: [Slot] = []
  }

  final class ObjectNode {
    var members: [String: Slot] = [:]
  }

  struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
      stringValue = "Index \(intValue)"
      self.intValue = intValue
    }
  }

  final class TreeEncoder: Encoder {
    let path: Path?
    var codingPath: [CodingKey] { Path.keys(path) }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    let slot: Slot

    init(path: Path?, slot: Slot = Slot()) {
      self.path = path
      self.slot = slot
    }

    /// The object this encoder's value is, made on first use; a second keyed container shares it.
    func object() -> ObjectNode {
      if case .object(let o) = slot.node { return o }
      let o = ObjectNode()
      slot.node = .object(o)
      return o
    }

    func array() -> ArrayNode {
      if case .array(let a) = slot.node { return a }
      let a = ArrayNode()
      slot.node = .array(a)
      return a
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
      KeyedEncodingContainer(KeyedContainer<Key>(object: object(), path: path))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
      UnkeyedContainer(array: array(), path: path)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
      SingleValueContainer(slot: slot, path: path)
    }
  }

  /// A value of any type into `slot`: the commonest scalars directly (a type comparison, not a
  /// cast), anything else through its own `encode(to:)`. `path` is built only when used.
  static func encodeValue<T: Encodable>(_ value: T, into slot: Slot, path: @autoclosure () -> Path?) throws {
    if T.self == String.self {
      slot.node = .string(unsafeBitCast(value, to: String.self))
    } else if T.self == Double.self {
      slot.node = try number(unsafeBitCast(value, to: Double.self), path())
    } else if T.self == Int.self {
      slot.node = .number(unsafeBitCast(value, to: Int.self).description)
    } else if T.self == Bool.self {
      slot.node = .bool(unsafeBitCast(value, to: Bool.self))
    } else {
      try value.encode(to: TreeEncoder(path: path(), slot: slot))
    }
  }

  struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let object: ObjectNode
    let path: Path?
    var codingPath: [CodingKey] { Path.keys(path) }

    func slot(_ key: Key) -> Slot { slot(named: key.stringValue) }

    func slot(named name: String) -> Slot {
      let s = Slot()
      object.members[name] = s
      return s
    }

    mutating func encodeNil(forKey key: Key) throws { slot(key).node = .null }
    mutating func encode(_ value: Bool, forKey key: Key) throws { slot(key).node = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { slot(key).node = .string(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
      slot(key).node = try PrettyJSONEncoder.number(value, Path(path, key))
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
      slot(key).node = try PrettyJSONEncoder.number(value, Path(path, key))
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { slot(key).node = .number(value.description) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
      try PrettyJSONEncoder.encodeValue(value, into: slot(key), path: Path(path, key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
      -> KeyedEncodingContainer<NestedKey>
    {
      TreeEncoder(path: Path(path, key), slot: slot(key)).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
      TreeEncoder(path: Path(path, key), slot: slot(key)).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder {
      TreeEncoder(path: Path(path, AnyKey(stringValue: "super")), slot: slot(named: "super"))
    }

    mutating func superEncoder(forKey key: Key) -> Encoder {
      TreeEncoder(path: Path(path, key), slot: slot(key))
    }
  }

  struct UnkeyedContainer: UnkeyedEncodingContainer {
    let array: ArrayNode
    let path: Path?
    var codingPath: [CodingKey] { Path.keys(path) }
    var count: Int { array.elements.count }

    /// The next element's slot and its index.
    func next() -> (slot: Slot, index: Int) {
      let s = Slot()
      array.elements.append(s)
      return (s, array.elements.count - 1)
    }

    mutating func encodeNil() throws { next().slot.node = .null }
    mutating func encode(_ value: Bool) throws { next().slot.node = .bool(value) }
    mutating func encode(_ value: String) throws { next().slot.node = .string(value) }
    mutating func encode(_ value: Double) throws {
      let (s, i) = next()
      s.node = try PrettyJSONEncoder.number(value, Path(path, AnyKey(intValue: i)))
    }
    mutating func encode(_ value: Float) throws {
      let (s, i) = next()
      s.node = try PrettyJSONEncoder.number(value, Path(path, AnyKey(intValue: i)))
    }
    mutating func encode(_ value: Int) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: Int8) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: Int16) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: Int32) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: Int64) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: UInt) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: UInt8) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: UInt16) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: UInt32) throws { next().slot.node = .number(value.description) }
    mutating func encode(_ value: UInt64) throws { next().slot.node = .number(value.description) }
    mutating func encode<T: Encodable>(_ value: T) throws {
      let (s, i) = next()
      try PrettyJSONEncoder.encodeValue(value, into: s, path: Path(path, AnyKey(intValue: i)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
      -> KeyedEncodingContainer<NestedKey>
    {
      let (s, i) = next()
      return TreeEncoder(path: Path(path, AnyKey(intValue: i)), slot: s).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
      let (s, i) = next()
      return TreeEncoder(path: Path(path, AnyKey(intValue: i)), slot: s).unkeyedContainer()
    }

    mutating func superEncoder() -> Encoder {
      let (s, i) = next()
      return TreeEncoder(path: Path(path, AnyKey(intValue: i)), slot: s)
    }
  }

  struct SingleValueContainer: SingleValueEncodingContainer {
    let slot: Slot
    let path: Path?
    var codingPath: [CodingKey] { Path.keys(path) }

    mutating func encodeNil() throws { slot.node = .null }
    mutating func encode(_ value: Bool) throws { slot.node = .bool(value) }
    mutating func encode(_ value: String) throws { slot.node = .string(value) }
    mutating func encode(_ value: Double) throws { slot.node = try PrettyJSONEncoder.number(value, path) }
    mutating func encode(_ value: Float) throws { slot.node = try PrettyJSONEncoder.number(value, path) }
    mutating func encode(_ value: Int) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: Int8) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: Int16) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: Int32) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: Int64) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: UInt) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: UInt8) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: UInt16) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: UInt32) throws { slot.node = .number(value.description) }
    mutating func encode(_ value: UInt64) throws { slot.node = .number(value.description) }
    mutating func encode<T: Encodable>(_ value: T) throws {
      try PrettyJSONEncoder.encodeValue(value, into: slot, path: path)
    }
  }
}
