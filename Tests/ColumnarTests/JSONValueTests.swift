import Foundation
import Testing

@testable import Columnar

/// `JSONValue.parse` against the decoding it replaced (`JSONDecoder` trying each kind in
/// turn), on the project's own spec and config files and on documents that exercise every
/// production of the grammar; and its refusals, message for message.
@Suite struct JSONValueTests {
  /// The decoding `parse` replaced (`JSONValue`'s `Decodable` conformance), as the reference.
  enum Reference {
    static func decode(_ text: String) throws -> JSONValue {
      try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
  }

  /// The package folder (this file is Tests/ColumnarTests/JSONValueTests.swift).
  static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func parse(_ text: String) throws(JSONParseError) -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

  static func error(_ text: String) -> String {
    do {
      let v = try parse(text)
      return "parsed: \(v)"
    } catch {
      return error.description
    }
  }

  @Test(arguments: [
    "Schemas/features/props_v1.json", "Schemas/features/example_minutes_v1.json", "Schemas/gates.default.json",
  ])
  func theProjectsFilesReadAsTheyDidThroughJSONDecoder(path: String) throws {
    let text = try String(contentsOf: Self.repoRoot.appendingPathComponent(path), encoding: .utf8)
    let parsed = try Self.parse(text)
    #expect(parsed == (try Reference.decode(text)))
    guard case .object(let top) = parsed else {
      Issue.record("\(path) is not an object")
      return
    }
    #expect(!top.isEmpty)
  }

  static let documents: [String] = [
    "null", "true", "false", "0", "-0", "1", "-1", "12.5", "-0.25", "1e3", "1E+3", "2.5e-3",
    "123456789012345678901234567890",
    "0.1", "1.7976931348623157e308", "5e-324", "\"\"", #""plain""#, #""esc \" \\ \/ \b \f \n \r \t""#,
    #""\u00e9\u65e5\ud83c\udfc0""#,
    "\"lukadončić 日本\"", "[]", "{}", "[1, [2, [3, []]], {\"a\": [true, false, null]}]",
    " \t\r\n{ \"a\" : 1 , \"b\" : { \"c\" : [ \"d\" ] } } \n", #"{"gate": {"x": 95, "y": 0.5}, "$comment": "why"}"#,
    #"{"": 1, "a b": "c"}"#,
    // One trailing comma, which JSONDecoder accepted: files read before are read still.
    "[1, 2,]", "{\"a\": [1,], \"b\": {},\n}",
  ]

  @Test(arguments: documents)
  func everyProductionReadsAsJSONDecoderReadsIt(text: String) throws {
    #expect(try Self.parse(text) == (try Reference.decode(text)), "\(text)")
  }

  @Test func keepsBooleansAndNumbersApart() throws {
    #expect(try Self.parse("[true, 1, false, 0]") == .array([.bool(true), .number(1), .bool(false), .number(0)]))
  }

  /// `JSONDecoder` read UTF-16 and UTF-32 files; the reader names the encoding instead of
  /// failing on the first zero byte.
  @Test func utf16AndUTF32AreNamed() {
    let message = "the document is UTF-16 or UTF-32, not UTF-8: save it as UTF-8"
    let text = #"{"a": 1}"#
    let encodings: [[UInt8]] = [
      [0xFE, 0xFF] + text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] },
      [0xFF, 0xFE] + text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] },
      text.utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] },
      text.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] },
      text.unicodeScalars.flatMap { [0, 0, 0, UInt8($0.value)] },
      [0, 0x31],
    ]
    for bytes in encodings {
      #expect(throws: JSONParseError(line: 1, column: 1, message: message)) {
        try JSONValue.parse(bytes)
      }
    }
  }

  @Test func skipsAByteOrderMark() throws {
    #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array(#"{"a": 1}"#.utf8)) == .object(["a": .number(1)]))
  }

  @Test func refusalsNameTheLineColumnAndWhatWasExpected() {
    let cases: [(String, String)] = [
      ("", "line 1, column 1: expected a value, found the end of the document"),
      ("   ", "line 1, column 4: expected a value, found the end of the document"),
      ("{\n  \"a\": 1,\n  2}", "line 3, column 3: expected a key in double quotes, found '2'"),
      ("{\"a\": 1,,}", "line 1, column 9: expected a key in double quotes, found ','"),
      ("{,}", "line 1, column 2: expected a key in double quotes, found ','"),
      (
        "[1, 2,,]",
        "line 1, column 7: expected a value (an object, array, string, number, true, false or null), found ','"
      ),
      (
        "[,]",
        "line 1, column 2: expected a value (an object, array, string, number, true, false or null), found ','"
      ),
      ("{\"a\" 1}", "line 1, column 6: expected ':' after the key \"a\", found '1'"),
      ("{\"a\": 1 \"b\": 2}", "line 1, column 9: expected ',' or '}' after an object member, found '\"'"),
      ("[1 2]", "line 1, column 4: expected ',' or ']' after an array element, found '2'"),
      ("{\"a\": 1}\n{}", "line 2, column 1: expected the end of the document after its value, found '{'"),
      ("{\"a\": 1,\n \"a\": 2}", "line 2, column 2: the key \"a\" appears twice in one object"),
      ("tru", "line 1, column 1: expected true, found 't'"),
      ("nul", "line 1, column 1: expected null, found 'n'"),
      ("True", "line 1, column 1: expected a value (an object, array, string, number, true, false or null), found 'T'"),
      ("01", "line 1, column 2: a number must not start with 0 followed by more digits"),
      ("-", "line 1, column 2: expected a digit in a number, found the end of the document"),
      ("1.", "line 1, column 3: expected a digit after the decimal point, found the end of the document"),
      (".5", "line 1, column 1: expected a value (an object, array, string, number, true, false or null), found '.'"),
      ("1e", "line 1, column 3: expected a digit in the exponent, found the end of the document"),
      ("1e400", "line 1, column 1: the number 1e400 is too large for a double"),
      ("NaN", "line 1, column 1: expected a value (an object, array, string, number, true, false or null), found 'N'"),
      ("\"abc", "line 1, column 1: the string that starts here has no closing quote"),
      ("\"a\tb\"", "line 1, column 3: a control character (byte 0x9) must be escaped inside a string"),
      (
        #""\x""#,
        #"line 1, column 2: unknown escape: a backslash before 'x' (the escapes are \" \\ \/ \b \f \n \r \t \uXXXX)"#
      ),
      (
        "\"\\\u{1}\"",
        #"line 1, column 2: unknown escape: a backslash before byte 0x1 (the escapes are \" \\ \/ \b \f \n \r \t \uXXXX)"#
      ),
      (#""\u12""#, #"line 1, column 2: \u must be followed by four hex digits"#),
      (#""\u12G4""#, #"line 1, column 2: \u must be followed by four hex digits"#),
      (#""\ud83c""#, #"line 1, column 2: the escape \ud83c is half of a surrogate pair"#),
      (#""\ud83c\u0041""#, #"line 1, column 2: the escape \ud83c is half of a surrogate pair"#),
      (#""\udfc0""#, #"line 1, column 2: the escape \udfc0 is half of a surrogate pair"#),
      ("'a'", "line 1, column 1: expected a value (an object, array, string, number, true, false or null), found '''"),
      ("{a: 1}", "line 1, column 2: expected a key in double quotes, found 'a'"),
    ]
    for (text, message) in cases {
      #expect(Self.error(text) == message, "\(text.debugDescription)")
    }
  }

  @Test func refusesInvalidUTF8InAString() {
    var bytes = Array("[\"ab".utf8)
    bytes += [0xC3, 0x28]
    bytes += Array("\"]".utf8)
    #expect(throws: JSONParseError(line: 1, column: 2, message: "the string that starts here is not valid UTF-8")) {
      try JSONValue.parse(bytes)
    }
  }

  /// Hostile nesting ends in an error, not a stack overflow.
  @Test func nestingPastTheLimitIsRefused() throws {
    let deep = JSONValue.maxDepth
    #expect(throws: Never.self) {
      try Self.parse(String(repeating: "[", count: deep) + String(repeating: "]", count: deep))
    }
    let tooDeep = String(repeating: "[", count: deep + 1) + String(repeating: "]", count: deep + 1)
    #expect(Self.error(tooDeep) == "line 1, column \(deep + 1): nested more than \(deep) arrays or objects deep")
    #expect(
      Self.error(String(repeating: "{\"a\":", count: 100_000)).hasSuffix(
        "nested more than \(deep) arrays or objects deep"))
  }
}
