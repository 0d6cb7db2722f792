import Foundation
import Testing

@testable import Columnar

/// `JSONSchema` on the project's schemas and on small schemas, one keyword at a time.
@Suite struct JSONSchemaTests {
  static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

  func messages(_ schema: String, _ document: String) throws -> [String] {
    try JSONSchema(try json(schema)).violations(of: try json(document)).map(\.description)
  }

  @Test(arguments: ["manifest.schema.json", "gate-report.schema.json"])
  func everyKeywordOfTheProjectSchemasIsChecked(_ name: String) throws {
    let bytes = try #require(
      FileManager.default.contents(atPath: Self.repoRoot.appendingPathComponent("Schemas/\(name)").path))
    _ = try JSONSchema(try JSONValue.parse(Array(bytes)))
  }

  @Test func aKeywordItDoesNotCheckIsRefused() throws {
    #expect(throws: JSONSchema.UnsupportedKeyword(keyword: "patternProperties")) {
      try JSONSchema(try json(#"{"type": "object", "patternProperties": {"^x": {"type": "string"}}}"#))
    }
    #expect(throws: JSONSchema.UnsupportedKeyword(keyword: "anyOf")) {
      try JSONSchema(try json(#"{"properties": {"a": {"anyOf": [{"type": "string"}]}}}"#))
    }
  }

  @Test func typesIncludingIntegerAndLists() throws {
    #expect(try messages(#"{"type": "integer"}"#, "3") == [])
    #expect(try messages(#"{"type": "integer"}"#, "3.5") == ["(document): 3.5 is not of type integer"])
    #expect(try messages(#"{"type": ["string", "null"]}"#, "null") == [])
    #expect(
      try messages(#"{"type": ["string", "null"]}"#, "true") == ["(document): true is not of type string or null"])
    #expect(try messages(#"{"type": "number"}"#, #""1""#) == [#"(document): "1" is not of type number"#])
  }

  @Test func objectsRequiredAdditionalAndNestedPaths() throws {
    let schema = #"""
      {"type": "object", "required": ["a", "b"], "additionalProperties": false,
       "properties": {"a": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                      "b": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string", "minLength": 2}}}}
      """#
    #expect(try messages(schema, #"{"a": {"x": 1}, "b": ["ab"]}"#) == [])
    let doc = #"{"a": {"x": -1, "y": "z"}, "b": ["a", "bb", "cc"], "c": 1}"#
    #expect(
      try messages(schema, doc) == [
        "a.x: -1 is below the minimum 0", #"a.y: "z" is not of type number"#, "b: 3 items, expected at most 2",
        #"b[0]: "a" is shorter than 2 characters"#, "c: not a field the schema allows",
      ])
    let kinds = try JSONSchema(try json(schema)).violations(of: try json(#"{"c": 1}"#)).map(\.kind)
    #expect(kinds == [.missingProperty, .missingProperty, .unexpectedProperty])
  }

  @Test func patternsConstEnumAndRefs() throws {
    let schema = #"""
      {"$defs": {"sha": {"type": "string", "pattern": "^[0-9a-f]{4}$"}},
       "properties": {"h": {"$ref": "#/$defs/sha"}, "f": {"const": 1}, "c": {"enum": ["a", "b"]}, "m": {"maximum": 10}}}
      """#
    #expect(try messages(schema, #"{"h": "00ff", "f": 1, "c": "a", "m": 10}"#) == [])
    #expect(
      try messages(schema, #"{"h": "00FF", "f": 2, "c": "x", "m": 11}"#) == [
        #"c: "x" is not one of "a", "b""#, "f: 2 is not 1", #"h: "00FF" does not match ^[0-9a-f]{4}$"#,
        "m: 11 is above the maximum 10",
      ])
  }

  // oneOf of null and a patterned string: a string that breaks the pattern is reported by the
  // pattern, not as "matches 0 of 2 forms".
  @Test func oneOfReportsTheFormOfTheValuesType() throws {
    let schema = #"{"oneOf": [{"type": "null"}, {"type": "string", "pattern": "^v[1-9][0-9]*$"}]}"#
    #expect(try messages(schema, "null") == [])
    #expect(try messages(schema, #""v2""#) == [])
    #expect(try messages(schema, #""v0""#) == [#"(document): "v0" does not match ^v[1-9][0-9]*$"#])
    #expect(try messages(schema, "3") == ["(document): 3 matches 0 of the 2 allowed forms, expected exactly one"])
    let both = #"{"oneOf": [{"type": "string"}, {"type": "string", "minLength": 1}]}"#
    #expect(try messages(both, #""x""#) == [#"(document): "x" matches 2 of the 2 allowed forms, expected exactly one"#])
  }
}
