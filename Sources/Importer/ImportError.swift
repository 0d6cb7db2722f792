/// Why an import was refused. The message names the file, line, column and value (or the
/// table and SQL for a database failure); nothing was written when this is thrown.
public struct ImportError: Error, Equatable, CustomStringConvertible, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// A field value as the user can read it back: valid UTF-8 as is, other bytes as `\xNN`.
func printable(_ bytes: ArraySlice<UInt8>) -> String {
  if let s = String(validating: bytes, as: UTF8.self) { return s }
  var out = ""
  var i = bytes.startIndex
  while i < bytes.endIndex {
    let b = bytes[i]
    if b < 0x80 {
      out.unicodeScalars.append(Unicode.Scalar(b))
    } else {
      let hex = String(b, radix: 16, uppercase: true)
      out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
    }
    i += 1
  }
  return out
}
