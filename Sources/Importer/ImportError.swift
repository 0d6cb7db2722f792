/// Why an import was refused. The message names the file, line, column and value (or the
/// table and SQL for a database failure); nothing was written when this is thrown.
public struct ImportError: Error, Equatable, CustomStringConvertible, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A field value as the user can read it back: valid UTF-8 as is, other bytes and control
/// characters (a NUL would end the terminal's line) as `\xNN`.
func printable(_ bytes: ArraySlice<UInt8>) -> String {
  func control(_ b: UInt8) -> Bool { b < 0x20 && b != 0x09 || b == 0x7F }
  if !bytes.contains(where: control), let s = String(validating: bytes, as: UTF8.self) { return s }
  let valid = String(validating: bytes, as: UTF8.self) != nil
  var out = ""
  var i = bytes.startIndex
  while i < bytes.endIndex {
    let b = bytes[i]
    if control(b) {
      let hex = String(b, radix: 16, uppercase: true)
      out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
    } else if b < 0x80 || valid {
      // Within valid UTF-8 a multi-byte character stays whole: its bytes are copied as they are.
      var j = i + 1
      while b >= 0x80, j < bytes.endIndex, bytes[j] & 0xC0 == 0x80 { j += 1 }
      out += String(decoding: bytes[i..<j], as: UTF8.self)
      i = j
      continue
    } else {
      let hex = String(b, radix: 16, uppercase: true)
      out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
    }
    i += 1
  }
  return out
}
