/// A JSON tree decoded strictly, for files people write by hand (gate thresholds, feature-set
/// specs): JSONDecoder would read `true` as the number 1 and a number as a boolean, so each is
/// kept as what it is and the caller can name a value of the wrong kind instead of using it.
public enum JSONValue: Decodable, Sendable, Equatable {
  case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

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
