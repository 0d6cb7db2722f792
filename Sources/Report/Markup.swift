/// A tiny writer for markup that is at once valid HTML5 and well-formed XML (XHTML): every
/// element is closed, attribute values are quoted and escaped, and only the five XML entities
/// are ever written. That lets the Python tests parse the report with `xml.etree`, and keeps
/// browsers and XML tools reading the same tree.
struct Markup {
  private(set) var text = ""
  private var stack: [String] = []

  /// `&`, `<`, `>`, `"`, `'` escaped; control characters other than tab and newline dropped
  /// (XML 1.0 forbids them, and a player name from an export could carry one).
  static func escape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s.unicodeScalars {
      switch ch {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      case "\t", "\n": out.unicodeScalars.append(ch)
      default:
        if ch.value < 0x20 || (0xFFFE...0xFFFF).contains(ch.value) { continue }
        out.unicodeScalars.append(ch)
      }
    }
    return out
  }

  private static func attributes(_ attrs: [(String, String)]) -> String {
    attrs.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
  }

  mutating func raw(_ s: String) { text += s }

  mutating func open(_ tag: String, _ attrs: [(String, String)] = []) {
    text += "<\(tag)\(Self.attributes(attrs))>"
    stack.append(tag)
  }

  mutating func close() {
    guard let tag = stack.popLast() else { preconditionFailure("close() without open()") }
    text += "</\(tag)>"
  }

  /// An element with text content.
  mutating func element(_ tag: String, _ attrs: [(String, String)] = [], _ content: String) {
    text += "<\(tag)\(Self.attributes(attrs))>\(Self.escape(content))</\(tag)>"
  }

  /// A self-closed element: only for SVG shapes and HTML void elements (meta), where both
  /// parsers accept `/>`.
  mutating func empty(_ tag: String, _ attrs: [(String, String)] = []) {
    text += "<\(tag)\(Self.attributes(attrs))/>"
  }

  mutating func content(_ s: String) { text += Self.escape(s) }

  var isBalanced: Bool { stack.isEmpty }
}
