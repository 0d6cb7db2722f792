import Foundation

/// Path arithmetic without Foundation's `NSString.deletingLastPathComponent`, which traps
/// (illegal instruction) on a one-character relative path such as `Q` or `Q/` in the
/// toolchain this project builds with: `build --out Q` crashed when it created the folder.
public enum PathNames {
  /// The folder holding `path`, as `dirname` gives it but "" for a single relative component:
  /// `a/bb` → `a`, `ab` → "", `/Q` → `/`, `a//b/` → `a`, `/` → `/`.
  public static func parent(of path: String) -> String {
    var bytes = Array(path.utf8)
    while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
    guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return "" }
    var end = slash
    while end > 0, bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }
    return end == 0 ? "/" : String(decoding: bytes[..<end], as: UTF8.self)
  }

  /// The folder holding `path`, "." for a single relative component: where a dataset folder
  /// given by its path sits as a dataset of a store.
  public static func folder(holding path: String) -> String {
    let folder = Self.parent(of: path)
    return folder.isEmpty ? "." : folder
  }

  /// One spelling per folder, for telling whether two paths name the same one: absolute,
  /// `.`/`..` and repeated slashes resolved, symbolic links followed.
  public static func canonical(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }
}
