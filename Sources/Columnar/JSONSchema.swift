import Foundation

/// Checks a `JSONValue` against a JSON Schema (draft 2020-12), for the keywords the project's
/// schemas use: `type` (a name or a list), `properties`, `required`, `additionalProperties`
/// (`false` or a schema), `items`, `minItems`, `maxItems`, `minimum`, `maximum`, `minLength`,
/// `pattern`, `enum`, `const`, `oneOf` and `$ref` to `#/$defs/…`. Annotations (`description`,
/// `title`, `$schema`, `$id`, `$defs`, `format`) are not constraints. Any other keyword is refused when
/// the validator is made, so a schema that grows a keyword this does not check fails loudly in
/// the tests instead of passing documents it should not.
///
/// Written here rather than taken from a package: the toolchain's package set has no JSON
/// Schema validator (see the README's dependency notes), and `verify` must check a manifest
/// against the same schema Python's `jsonschema` applies.
public struct JSONSchema: Sendable {
  public struct Violation: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable { case missingProperty, unexpectedProperty, other }
    /// Where in the document: `config.seasons[0]`, or `(document)` for the root.
    public var path: String
    public var kind: Kind
    public var message: String
    /// The value is of none of the types `type` allows: what `oneOf` uses to pick the form
    /// whose other rules to report.
    var typeMismatch = false
    public var description: String { "\(path): \(message)" }
  }

  public struct UnsupportedKeyword: Error, Equatable, CustomStringConvertible {
    public var keyword: String
    public var description: String { "the schema uses \(keyword), which JSONSchema does not check" }
  }

  /// Draft 2020-12 makes `format` an annotation unless a validator opts into asserting it, as
  /// Python's `jsonschema` does not by default.
  static let annotations: Set<String> = ["description", "title", "$schema", "$id", "$defs", "$comment", "format"]
  static let constraints: Set<String> = [
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "minimum", "maximum",
    "minLength", "pattern", "enum", "const", "oneOf", "$ref",
  ]

  let root: JSONValue
  /// Compiled once: a manifest holds a pattern per file and per stats entry.
  let patterns: [String: NSRegularExpression]

  public init(_ schema: JSONValue) throws(UnsupportedKeyword) {
    root = schema
    var patterns: [String: NSRegularExpression] = [:]
    var unsupported: String?
    func walk(_ s: JSONValue) {
      guard case .object(let o) = s else { return }
      for (key, value) in o {
        if !Self.annotations.contains(key) && !Self.constraints.contains(key) { unsupported = unsupported ?? key }
        switch key {
        case "properties", "$defs":
          if case .object(let members) = value { members.values.forEach(walk) }
        case "items", "additionalProperties": walk(value)
        case "oneOf":
          if case .array(let options) = value { options.forEach(walk) }
        case "pattern":
          if case .string(let p) = value, patterns[p] == nil {
            patterns[p] = try? NSRegularExpression(pattern: p)
            if patterns[p] == nil { unsupported = unsupported ?? "pattern \(p)" }
          }
        default: break
        }
      }
    }
    walk(schema)
    if let unsupported { throw UnsupportedKeyword(keyword: unsupported) }
    self.patterns = patterns
  }

  /// Every violation, in document order of the schema's keywords; empty when `value` conforms.
  public func violations(of value: JSONValue) -> [Violation] {
    var out: [Violation] = []
    check(value, against: root, path: "", into: &out)
    return out
  }

  func check(_ value: JSONValue, against schema: JSONValue, path: String, into out: inout [Violation]) {
    guard case .object(let s) = schema else {
      if case .bool(false) = schema { out.append(violation(path, .other, "no value is allowed here")) }
      return
    }
    func fail(_ message: String, _ kind: Violation.Kind = .other) { out.append(violation(path, kind, message)) }
    if case .string(let ref) = s["$ref"] {
      if let target = resolve(ref) {
        check(value, against: target, path: path, into: &out)
      } else {
        fail("unresolvable $ref \(ref)")
      }
    }
    if let type = s["type"] {
      let names: [String]
      switch type {
      case .string(let n): names = [n]
      case .array(let list): names = list.compactMap { if case .string(let n) = $0 { n } else { nil } }
      default: names = []
      }
      guard names.contains(where: { Self.value(value, isOfType: $0) }) else {
        var v = violation(path, .other, "\(Self.shown(value)) is not of type \(names.joined(separator: " or "))")
        v.typeMismatch = true
        out.append(v)
        return
      }
    }
    if let expected = s["const"], expected != value { fail("\(Self.shown(value)) is not \(Self.shown(expected))") }
    if case .array(let options) = s["enum"], !options.contains(value) {
      fail("\(Self.shown(value)) is not one of \(options.map(Self.shown).joined(separator: ", "))")
    }
    if case .array(let options) = s["oneOf"] {
      var matching = 0
      var ofTheRightType: [[Violation]] = []
      for option in options {
        var scratch: [Violation] = []
        check(value, against: option, path: path, into: &scratch)
        if scratch.isEmpty { matching += 1 }
        if !scratch.contains(where: { $0.typeMismatch && $0.path == Self.shownPath(path) }) {
          ofTheRightType.append(scratch)
        }
      }
      if matching == 0, ofTheRightType.count == 1 {
        // "v0" against null-or-pattern: say what the string form wants, not "0 of 2 forms".
        out += ofTheRightType[0]
      } else if matching != 1 {
        fail("\(Self.shown(value)) matches \(matching) of the \(options.count) allowed forms, expected exactly one")
      }
    }
    switch value {
    case .number(let x):
      if case .number(let lo) = s["minimum"], x < lo {
        fail("\(Self.shown(value)) is below the minimum \(Self.shown(.number(lo)))")
      }
      if case .number(let hi) = s["maximum"], x > hi {
        fail("\(Self.shown(value)) is above the maximum \(Self.shown(.number(hi)))")
      }
    case .string(let text):
      if case .number(let n) = s["minLength"], Double(text.unicodeScalars.count) < n {
        fail("\(Self.shown(value)) is shorter than \(Self.shown(.number(n))) characters")
      }
      if case .string(let p) = s["pattern"], let regex = patterns[p] {
        let range = NSRange(text.startIndex..., in: text)
        if regex.firstMatch(in: text, range: range) == nil { fail("\(Self.shown(value)) does not match \(p)") }
      }
    case .array(let items):
      if case .number(let n) = s["minItems"], Double(items.count) < n {
        fail("\(items.count) items, expected at least \(Self.shown(.number(n)))")
      }
      if case .number(let n) = s["maxItems"], Double(items.count) > n {
        fail("\(items.count) items, expected at most \(Self.shown(.number(n)))")
      }
      if let itemSchema = s["items"] {
        for (i, item) in items.enumerated() { check(item, against: itemSchema, path: "\(path)[\(i)]", into: &out) }
      }
    case .object(let members):
      var properties: [String: JSONValue] = [:]
      if case .object(let p) = s["properties"] { properties = p }
      if case .array(let required) = s["required"] {
        for case .string(let name) in required where members[name] == nil {
          out.append(violation(Self.join(path, name), .missingProperty, "missing"))
        }
      }
      for name in members.keys.sorted() {
        let member = members[name]!
        if let p = properties[name] {
          check(member, against: p, path: Self.join(path, name), into: &out)
        } else if let extra = s["additionalProperties"] {
          if case .bool(false) = extra {
            out.append(violation(Self.join(path, name), .unexpectedProperty, "not a field the schema allows"))
          } else {
            check(member, against: extra, path: Self.join(path, name), into: &out)
          }
        }
      }
    default: break
    }
  }

  func violation(_ path: String, _ kind: Violation.Kind, _ message: String) -> Violation {
    Violation(path: Self.shownPath(path), kind: kind, message: message)
  }

  static func shownPath(_ path: String) -> String { path.isEmpty ? "(document)" : path }

  func resolve(_ ref: String) -> JSONValue? {
    guard ref.hasPrefix("#/") else { return nil }
    var node = root
    for part in ref.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false) {
      let key = part.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
      guard case .object(let o) = node, let next = o[key] else { return nil }
      node = next
    }
    return node
  }

  static func value(_ v: JSONValue, isOfType name: String) -> Bool {
    switch (name, v) {
    case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object),
      ("number", .number):
      return true
    case ("integer", .number(let x)): return x.isFinite && x == x.rounded()
    default: return false
    }
  }

  static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

  /// A value as it would read in the document, shortened: a 64-character hash stays whole,
  /// objects and arrays are named by kind.
  static func shown(_ v: JSONValue) -> String {
    switch v {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    case .string(let s): return "\"\(s.count > 80 ? s.prefix(77) + "…" : s)\""
    case .array: return "an array"
    case .object: return "an object"
    }
  }
}
