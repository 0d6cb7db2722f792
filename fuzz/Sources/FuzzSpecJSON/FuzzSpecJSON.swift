// Fuzzes the hand-written JSON files' path: `JSONValue.parse` against the `JSONDecoder`
// decoding it replaced (differential: where both accept a document they must agree, and the
// reader may refuse only what it refuses on purpose), then the same bytes as a feature-set spec
// and as a gate-threshold file. Any input must end in a value or a named error, never a trap.
import CFuzzDriver
import Columnar
import Features
import Foundation
import Gates

/// The entry SwiftPM's `--defsym main=FuzzSpecJSON_main` points at: libFuzzer's driver, with the
/// process's arguments (-max_total_time, corpus folders, …).
@_cdecl("FuzzSpecJSON_main")
public func fuzzSpecJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  var count = argc
  var arguments = argv
  return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzSpecJSON(data!, size) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpecJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  var parsed: JSONValue?
  var refusal: JSONParseError?
  do {
    parsed = try JSONValue.parse(bytes)
  } catch {
    precondition(error.line >= 1 && error.column >= 1 && !error.message.isEmpty, "unlocated error \(error)")
    refusal = error
  }
  // JSONDecoder as the reference: where both accept a document they agree; where only
  // JSONDecoder accepts it, the reader refused it on purpose (a key given twice, nesting past
  // its limit, a string that is not UTF-8, which JSONDecoder reads with U+FFFD in place of the
  // bad bytes: a spec saved in another encoding would otherwise lose characters silently; a
  // UTF-16 or UTF-32 document, which JSONDecoder detects and reads).
  if let reference = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) {
    if let parsed {
      precondition(comparable(parsed, reference), "parse and JSONDecoder disagree on \(bytes)")
    } else if let refusal {
      let onPurpose = ["appears twice", "nested more than", "not valid UTF-8", "save it as UTF-8"].contains {
        refusal.message.contains($0)
      }
      precondition(onPurpose, "JSONDecoder accepts what parse refuses: \(refusal) in \(bytes)")
    }
  }
  _ = try? FeatureSetSpec.parse(bytes: bytes, path: "fuzz.json")
  _ = try? GateConfig.defaults.overlaid(json: Data(bytes), source: "fuzz.json")
  return 0
}

/// Equal trees; numbers within 1e-15 relative, as JSONDecoder converts digits on its own path
/// and the reader through the correctly rounded `Double(_:)`.
private func comparable(_ a: JSONValue, _ b: JSONValue) -> Bool {
  switch (a, b) {
  case (.null, .null): return true
  case (.bool(let x), .bool(let y)): return x == y
  case (.number(let x), .number(let y)): return x == y || abs(x - y) <= abs(x) * 1e-15
  case (.string(let x), .string(let y)): return x == y
  case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { comparable($0, $1) }
  case (.object(let x), .object(let y)):
    return x.count == y.count && x.allSatisfy { key, value in y[key].map { comparable(value, $0) } ?? false }
  default: return false
  }
}
