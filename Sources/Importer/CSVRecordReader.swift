/// Splits RFC 4180 text into records, one at a time, without building a `String` per field.
///
/// Accepted: quoted fields holding commas, line breaks and doubled quotes; CRLF, LF or a lone
/// CR as the line end; a UTF-8 byte order mark at the very start (skipped). Refused, with the
/// line number: a quote inside an unquoted field, text after a closing quote, a quote that is
/// never closed. The reader never decodes text: callers validate UTF-8 per field, so an error
/// can name the column. Kept free of the importer's vocabulary so it can be fuzzed alone.
public struct CSVRecordReader {
  public struct SyntaxError: Error, Equatable, Sendable {
    public var line: Int
    public var problem: String
  }

  private let bytes: [UInt8]
  private var position: Int
  private var nextLine = 1
  /// The physical line (1-based) on which the current record starts.
  public private(set) var line = 0
  /// Unescaped bytes of every field of the current record, back to back.
  public private(set) var fieldBytes: [UInt8] = []
  /// `fieldBytes` index just past each field's end.
  public private(set) var fieldEnds: [Int] = []

  public init(bytes: [UInt8]) {
    self.bytes = bytes
    position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
  }

  public var fieldCount: Int { fieldEnds.count }

  public func field(_ index: Int) -> ArraySlice<UInt8> {
    let start = index == 0 ? 0 : fieldEnds[index - 1]
    return fieldBytes[start..<fieldEnds[index]]
  }

  /// Reads the next record; false at the end of the input. A blank line is a record with one
  /// empty field, except a final line end, which ends the input.
  public mutating func next() throws(SyntaxError) -> Bool {
    fieldBytes.removeAll(keepingCapacity: true)
    fieldEnds.removeAll(keepingCapacity: true)
    guard position < bytes.count else { return false }
    line = nextLine
    let quote: UInt8 = 0x22, comma: UInt8 = 0x2C, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D
    let n = bytes.count
    var i = position
    while true {
      // Start of a field.
      if i < n && bytes[i] == quote {
        let openedOn = nextLine
        i += 1
        while true {
          guard i < n else {
            throw SyntaxError(line: openedOn, problem: "quoted field opened on line \(openedOn) is never closed")
          }
          let b = bytes[i]
          if b == quote {
            if i + 1 < n && bytes[i + 1] == quote {
              fieldBytes.append(quote)
              i += 2
              continue
            }
            i += 1
            break
          }
          if b == lf || (b == cr && !(i + 1 < n && bytes[i + 1] == lf)) { nextLine += 1 }
          fieldBytes.append(b)
          i += 1
        }
        guard i >= n || bytes[i] == comma || bytes[i] == lf || bytes[i] == cr else {
          throw SyntaxError(line: nextLine, problem: "text after the closing quote of a quoted field")
        }
      } else {
        while i < n {
          let b = bytes[i]
          if b == comma || b == lf || b == cr { break }
          if b == quote {
            throw SyntaxError(
              line: nextLine, problem: "quote inside an unquoted field (quote the whole field and double the quote)")
          }
          fieldBytes.append(b)
          i += 1
        }
      }
      fieldEnds.append(fieldBytes.count)
      if i >= n {
        position = n
        return true
      }
      let b = bytes[i]
      if b == comma {
        i += 1
        continue
      }
      // Line end: CRLF, LF or a lone CR.
      i += (b == cr && i + 1 < n && bytes[i + 1] == lf) ? 2 : 1
      nextLine += 1
      position = i
      return true
    }
  }
}
