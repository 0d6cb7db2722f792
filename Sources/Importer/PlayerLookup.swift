import Foundation

/// The `player_lookup` key of source-tables.md: NFKD, combining marks dropped, lower case, only
/// `[a-z0-9]` kept ("Dāvis Bertāns" → `davisbertans`, "Jaren Jackson Jr." → `jarenjacksonjr`).
public enum PlayerLookup {
  public static func normalise(_ name: String) -> String {
    // Pure-ASCII names (almost all of them) need no Unicode work.
    if name.utf8.allSatisfy({ $0 < 0x80 }) {
      var out = [UInt8]()
      out.reserveCapacity(name.utf8.count)
      for b in name.utf8 {
        switch b {
        case 0x61...0x7A, 0x30...0x39: out.append(b)
        case 0x41...0x5A: out.append(b + 0x20)
        default: break
        }
      }
      return String(decoding: out, as: UTF8.self)
    }
    var out = String.UnicodeScalarView()
    for scalar in name.decomposedStringWithCompatibilityMapping.unicodeScalars {
      switch scalar.properties.generalCategory {
      case .nonspacingMark, .spacingMark, .enclosingMark: continue
      default: break
      }
      for lower in scalar.properties.lowercaseMapping.unicodeScalars {
        switch lower.value {
        case 0x61...0x7A, 0x30...0x39: out.append(lower)
        default: break
        }
      }
    }
    return String(out)
  }
}
